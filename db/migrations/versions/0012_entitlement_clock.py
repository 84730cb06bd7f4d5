"""maintained clock (issue 20): each entitlement's deadline and suspension month, kept by SQLite
triggers, so the outreach list is read in deadline order from an index

See db/clock_agg.py. On PostgreSQL the table exists (one schema) but stays empty.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

QUIET = "NOT EXISTS (SELECT 1 FROM agg_bulk)"  # a bulk write keeps the clock itself (db/aggregates.py)


def _triggers() -> dict[str, tuple[str, str]]:
    from db.clock_agg import UPSERT

    def upsert(where: str) -> str:
        return UPSERT.format(where=where) + ";"

    return {
        "clock_ent_insert": ("AFTER INSERT ON entitlements", upsert("e.id = NEW.id")),
        "clock_ent_update": (
            "AFTER UPDATE OF id, person_id, cohort, start_date, status ON entitlements",
            "DELETE FROM entitlement_clock WHERE entitlement_id = OLD.id AND OLD.id IS NOT NEW.id;"
            + upsert("e.id = NEW.id")),
        "clock_ent_delete": ("AFTER DELETE ON entitlements",
                             "DELETE FROM entitlement_clock WHERE entitlement_id = OLD.id;"),
        # the person's latest passed date moved (0011's triggers keep it from the certifications)
        "clock_last_insert": ("AFTER INSERT ON person_last_passed", upsert("e.person_id = NEW.person_id")),
        "clock_last_update": ("AFTER UPDATE ON person_last_passed", upsert("e.person_id = NEW.person_id")),
        "clock_last_delete": ("AFTER DELETE ON person_last_passed", upsert("e.person_id = OLD.person_id")),
        # a rule edited (rules are data): its cohort's deadlines again
        "clock_rule_insert": ("AFTER INSERT ON cycle_rules", upsert("e.cohort = NEW.cohort")),
        "clock_rule_update": ("AFTER UPDATE ON cycle_rules",
                              upsert("e.cohort = NEW.cohort") + upsert("e.cohort = OLD.cohort")),
        "clock_rule_delete": ("AFTER DELETE ON cycle_rules", upsert("e.cohort = OLD.cohort")),
    }


def upgrade() -> None:
    op.create_table(
        'entitlement_clock',
        sa.Column('entitlement_id', sa.String(36), nullable=False),
        sa.Column('person_id', sa.String(36), nullable=False),
        sa.Column('cohort', sa.String(32), nullable=False),
        sa.Column('status', sa.String(16), nullable=True),
        sa.Column('deadline', sa.String(10), nullable=True),
        sa.Column('suspend', sa.String(7), nullable=True),
        sa.PrimaryKeyConstraint('entitlement_id', name=op.f('pk_entitlement_clock')),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_entitlement_clock_deadline', 'entitlement_clock',
                    ['deadline', 'suspend', 'person_id', 'cohort', 'status'], unique=False,
                    sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
    if op.get_bind().dialect.name != "sqlite":
        return
    from db.clock_agg import REBUILD

    op.execute(REBUILD)
    for name, (when, body) in _triggers().items():
        op.execute(f"CREATE TRIGGER {name} {when} WHEN {QUIET} BEGIN {body} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_entitlement_clock_deadline', table_name='entitlement_clock')
    op.drop_table('entitlement_clock')
