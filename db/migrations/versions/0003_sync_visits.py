"""sync bookkeeping, central change log, home visits

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-29

Adds ``sync_changes`` (central change log, filled by triggers on PostgreSQL only), ``sync_state``
(workstation cursor/watermarks), ``sync_conflicts`` (supervisor cases), ``home_visits`` and
``outbox.push_error``. See docs/sync.md.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None

# Tables whose inserts/updates the central database records in sync_changes, with their key.
CAPTURED = {
    "persons": "id", "entitlements": "id", "certifications": "id", "entitlement_events": "id",
    "recovery_cases": "id", "assist_forms": "id", "operators": "id", "settings": "key",
    "audit_log": "id", "home_visits": "id", "sync_conflicts": "id", "cycle_rules": "cohort",
}
LOCK_KEY = 727_0003  # pg_advisory_xact_lock key serialising writers of captured tables


def upgrade() -> None:
    op.create_table('sync_changes',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_sync_changes'))
    )
    with op.batch_alter_table('sync_changes', schema=None) as batch_op:
        batch_op.create_index('ix_sync_changes_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('sync_state',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sync_state'))
    )
    op.create_table('sync_conflicts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=True),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('person_id', sa.String(length=36), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('workstation', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflicts'))
    )
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_conflicts_person_id'), ['person_id'], unique=False)

    op.create_table('home_visits',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.String(length=100), nullable=True),
    sa.Column('preferred_dates', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('staff', sa.String(length=64), nullable=True),
    sa.Column('scheduled_date', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('certification_id', sa.String(length=36), nullable=True),
    sa.Column('booked_by', sa.String(length=64), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('workstation', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_home_visits_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_visits'))
    )
    with op.batch_alter_table('home_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_home_visits_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_home_visits_staff_date', ['staff', 'scheduled_date'], unique=False)

    # A plain ADD COLUMN (nullable): SQLite does it in place, so audit/outbox triggers survive.
    op.add_column('outbox', sa.Column('push_error', sa.Text(), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        _capture_triggers()


def _capture_triggers() -> None:
    # Every writer of a captured table first takes one transaction-scoped advisory lock, so
    # sync_changes.seq values become visible in increasing order and a pull cursor never skips
    # a row that commits late. The origin is what db.sync sets with SET LOCAL certdesk.origin;
    # anything else writing on the central database (roster office, DBA) is "central".
    op.execute(f"""
CREATE FUNCTION certdesk_capture() RETURNS trigger AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  INSERT INTO sync_changes (entity, entity_id, origin, changed_at)
  VALUES (TG_TABLE_NAME, to_jsonb(NEW) ->> TG_ARGV[0],
          COALESCE(NULLIF(current_setting('certdesk.origin', true), ''), 'central'),
          now() AT TIME ZONE 'UTC');
  RETURN NULL;
END $$ LANGUAGE plpgsql""")
    for table, key in CAPTURED.items():
        op.execute(
            f"CREATE TRIGGER {table}_capture AFTER INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION certdesk_capture('{key}')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in CAPTURED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_capture ON {table}")
        op.execute("DROP FUNCTION IF EXISTS certdesk_capture()")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('push_error')
    op.drop_table('home_visits')
    op.drop_table('sync_conflicts')
    op.drop_table('sync_state')
    op.drop_table('sync_changes')
