"""the payment ledger: recorded payroll runs and the monthly-amount history

``payroll_runs`` makes "runs go in month order" checkable and gives the ledger its go-live month;
``entitlement_amounts`` keeps the amount in force per month so back pay and recovery are paid at
the amounts of the months they cover (docs/ledger.md).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

CAPTURED = {"payroll_runs": "id", "entitlement_amounts": "id"}


def upgrade() -> None:
    op.create_table(
        'payroll_runs',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('month', sa.String(7), nullable=False),
        sa.Column('run_day', sa.Date(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('go_live_confirmed_by', sa.String(64), nullable=True),
        sa.Column('operator', sa.String(64), nullable=True),
        sa.Column('workstation', sa.String(64), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payroll_runs')),
    )
    op.create_index(op.f('ix_payroll_runs_month'), 'payroll_runs', ['month'])
    op.create_table(
        'entitlement_amounts',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('entitlement_id', sa.String(36), nullable=False),
        sa.Column('from_month', sa.String(7), nullable=False),
        sa.Column('amount_fen', sa.Integer(), nullable=True),
        sa.Column('previous_fen', sa.Integer(), nullable=True),
        sa.Column('batch_id', sa.String(36), nullable=True),
        sa.Column('operator', sa.String(64), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['entitlement_id'], ['entitlements.id'],
                                name=op.f('fk_entitlement_amounts_entitlement_id_entitlements')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_entitlement_amounts')),
    )
    op.create_index(op.f('ix_entitlement_amounts_entitlement_id'), 'entitlement_amounts', ['entitlement_id'])
    # Runs recorded before the ledger: one row per month that has payroll events, so the
    # month-order rule and the go-live month hold for existing databases too.
    pg = op.get_bind().dialect.name == "postgresql"
    day = "CAST(payroll_month || '-01' AS DATE)" if pg else "payroll_month || '-01'"
    op.execute("INSERT INTO payroll_runs (id, month, run_day, summary, created_at) "
               f"SELECT 'legacy-' || payroll_month, payroll_month, {day}, '{{\"legacy\": true}}', "
               "MIN(created_at) FROM entitlement_events WHERE kind IN ('suspend', 'resume', 'terminate') "
               "GROUP BY payroll_month")
    if pg:
        for table, key in CAPTURED.items():
            op.execute(f"CREATE TRIGGER {table}_capture AFTER INSERT OR UPDATE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION certdesk_capture('{key}')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in CAPTURED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_capture ON {table}")
    op.drop_table('entitlement_amounts')
    op.drop_table('payroll_runs')
