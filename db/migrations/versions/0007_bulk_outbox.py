"""bulk outbox entries; drop the redundant entitlements(person_id) index

A bulk import queues its records as a few ``op = 'bulk'`` outbox entries, each naming up to
``journal.BULK_ITEMS`` ids of one entity in ``payload`` (a JSON array) and their number in
``item_count``; the sync expands them in place, so the push order is unchanged (docs/sync.md §2).
``ix_entitlements_person_id`` duplicated the leading column of ``uq_entitlements_person_cohort``:
every look-up by person already uses the unique index, and each insert paid for both.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (nullable): SQLite does it in place
    op.add_column('outbox', sa.Column('item_count', sa.Integer(), nullable=True))
    op.drop_index('ix_entitlements_person_id', table_name='entitlements')


def downgrade() -> None:
    op.create_index('ix_entitlements_person_id', 'entitlements', ['person_id'])
    op.drop_column('outbox', 'item_count')
