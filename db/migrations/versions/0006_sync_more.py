"""central change capture for the issue-8 tables

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

CAPTURED = {"outreach_marks": "id", "outreach_flags": "person_id", "payroll_exports": "id",
            "recovery_instalments": "id"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key in CAPTURED.items():
        op.execute(f"CREATE TRIGGER {table}_capture AFTER INSERT OR UPDATE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION certdesk_capture('{key}')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in CAPTURED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_capture ON {table}")
