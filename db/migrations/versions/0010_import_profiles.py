"""saved import source profiles (issue 21): a bureau's column mapping per source, by name

Synced like ``settings`` (keyed by name, decided centrally on an enrolled workstation).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

CAPTURED = {"import_profiles": "name"}


def upgrade() -> None:
    op.create_table(
        'import_profiles',
        sa.Column('name', sa.String(64), nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('mapping', sa.Text(), nullable=False),
        sa.Column('updated_by', sa.String(64), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_import_profiles')),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table, key in CAPTURED.items():
            op.execute(f"CREATE TRIGGER {table}_capture AFTER INSERT OR UPDATE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION certdesk_capture('{key}')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in CAPTURED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_capture ON {table}")
    op.drop_table('import_profiles')
