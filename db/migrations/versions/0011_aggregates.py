"""maintained aggregates (issue 20): latest passed certification per person, coverage buckets,
certifications per month — kept up to date by SQLite triggers on every write

See db/aggregates.py. On PostgreSQL the tables exist (one schema) but stay empty: no trigger
maintains them there and nothing reads them.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _bucket_move(person: str, old_last: str, new_last: str, alive_old: str, alive_new: str, where: str = "1") -> str:
    """Move the entitlements of ``person`` from the bucket given by (old last passed, old
    liveness) to the one of the new values; rows whose bucket does not change are skipped."""
    eff = "max(e.start_date, coalesce({}, e.start_date))"
    old_eff, new_eff = eff.format(old_last), eff.format(new_last)
    return (
        "INSERT INTO coverage_buckets (cohort, status, alive, eff, n) "
        f"SELECT e.cohort, e.status, x.alive, CASE x.d WHEN -1 THEN {old_eff} ELSE {new_eff} END, x.d "
        "FROM entitlements e "
        f"CROSS JOIN (SELECT {alive_old} AS alive, -1 AS d UNION ALL SELECT {alive_new}, 1) x "
        f"WHERE e.person_id = {person} AND ({where}) AND ({old_eff} IS NOT {new_eff} OR ({alive_old}) IS NOT ({alive_new})) "
        "ON CONFLICT (cohort, status, alive, eff) DO UPDATE SET n = n + excluded.n;"
    )


def _alive(person: str) -> str:
    return f"coalesce((SELECT p.death_date IS NULL FROM persons p WHERE p.id = {person}), 1)"


def _last(person: str) -> str:
    return f"(SELECT l.last_passed FROM person_last_passed l WHERE l.person_id = {person})"


def _recompute_last(person: str) -> str:
    """person_last_passed of ``person`` set from the certifications (update, delete or insert)."""
    mx = (f"(SELECT max(c.cert_date) FROM certifications c WHERE c.person_id = {person} "
          "AND c.result = 'passed')")
    return (
        f"UPDATE person_last_passed SET last_passed = {mx} WHERE person_id = {person} "
        f"AND {mx} IS NOT NULL AND last_passed IS NOT {mx};"
        f"DELETE FROM person_last_passed WHERE person_id = {person} AND {mx} IS NULL;"
        f"INSERT INTO person_last_passed (person_id, last_passed) SELECT {person}, m FROM (SELECT {mx} AS m) "
        "WHERE m IS NOT NULL ON CONFLICT (person_id) DO NOTHING;"
    )


def _month_count(row: str, d: int) -> str:
    return ("INSERT INTO cert_month_counts (month, method, result, n) "
            f"SELECT substr({row}.cert_date, 1, 7), {row}.method, {row}.result, {d} WHERE 1 "
            f"ON CONFLICT (month, method, result) DO UPDATE SET n = n + ({d});")


def _entitlement_bucket(row: str, d: int) -> str:
    return ("INSERT INTO coverage_buckets (cohort, status, alive, eff, n) "
            f"SELECT {row}.cohort, {row}.status, {_alive(row + '.person_id')}, "
            f"max({row}.start_date, coalesce({_last(row + '.person_id')}, {row}.start_date)), {d} WHERE 1 "
            f"ON CONFLICT (cohort, status, alive, eff) DO UPDATE SET n = n + ({d});")


TRIGGERS = {
    # certifications → monthly counts and the latest passed date
    "agg_cert_insert": (
        "AFTER INSERT ON certifications",
        _month_count("NEW", 1)
        + "INSERT INTO person_last_passed (person_id, last_passed) SELECT NEW.person_id, NEW.cert_date "
          "WHERE NEW.result = 'passed' ON CONFLICT (person_id) DO UPDATE SET last_passed = excluded.last_passed "
          "WHERE excluded.last_passed > person_last_passed.last_passed;"),
    "agg_cert_update": (
        "AFTER UPDATE OF person_id, cert_date, method, result ON certifications",
        _month_count("OLD", -1) + _month_count("NEW", 1)
        + _recompute_last("OLD.person_id") + _recompute_last("NEW.person_id")),
    "agg_cert_delete": (
        "AFTER DELETE ON certifications",
        _month_count("OLD", -1) + _recompute_last("OLD.person_id")),
    # the latest passed date moves the person's entitlements between coverage buckets
    "agg_last_insert": (
        "AFTER INSERT ON person_last_passed",
        _bucket_move("NEW.person_id", "NULL", "NEW.last_passed", _alive("NEW.person_id"), _alive("NEW.person_id"))),
    "agg_last_update": (
        "AFTER UPDATE ON person_last_passed",
        _bucket_move("NEW.person_id", "OLD.last_passed", "NEW.last_passed", _alive("NEW.person_id"),
                     _alive("NEW.person_id"))),
    "agg_last_delete": (
        "AFTER DELETE ON person_last_passed",
        _bucket_move("OLD.person_id", "OLD.last_passed", "NULL", _alive("OLD.person_id"), _alive("OLD.person_id"))),
    # a death recorded or withdrawn
    "agg_person_death": (
        "AFTER UPDATE OF death_date ON persons WHEN (OLD.death_date IS NULL) IS NOT (NEW.death_date IS NULL)",
        _bucket_move("NEW.id", _last("NEW.id"), _last("NEW.id"), "OLD.death_date IS NULL",
                     "NEW.death_date IS NULL")),
    # a person row written after its entitlements (a sync pull) or removed before them
    "agg_person_insert": (
        "AFTER INSERT ON persons WHEN NEW.death_date IS NOT NULL",
        _bucket_move("NEW.id", _last("NEW.id"), _last("NEW.id"), "1", "0")),
    "agg_person_delete": (
        "AFTER DELETE ON persons WHEN OLD.death_date IS NOT NULL",
        _bucket_move("OLD.id", _last("OLD.id"), _last("OLD.id"), "0", "1")),
    # entitlements themselves
    "agg_ent_insert": ("AFTER INSERT ON entitlements", _entitlement_bucket("NEW", 1)),
    "agg_ent_delete": ("AFTER DELETE ON entitlements", _entitlement_bucket("OLD", -1)),
    "agg_ent_update": (
        "AFTER UPDATE OF person_id, cohort, start_date, status ON entitlements "
        "WHEN OLD.person_id IS NOT NEW.person_id OR OLD.cohort IS NOT NEW.cohort "
        "OR OLD.start_date IS NOT NEW.start_date OR OLD.status IS NOT NEW.status",
        _entitlement_bucket("OLD", -1) + _entitlement_bucket("NEW", 1)),
}

BACKFILL = (
    "INSERT INTO person_last_passed (person_id, last_passed) "
    "SELECT person_id, max(cert_date) FROM certifications WHERE result = 'passed' GROUP BY person_id",
    "INSERT INTO cert_month_counts (month, method, result, n) "
    "SELECT substr(cert_date, 1, 7), method, result, count(*) FROM certifications GROUP BY 1, 2, 3",
    "INSERT INTO coverage_buckets (cohort, status, alive, eff, n) "
    "SELECT e.cohort, e.status, coalesce(p.death_date IS NULL, 1), "
    "max(e.start_date, coalesce(l.last_passed, e.start_date)), count(*) "
    "FROM entitlements e LEFT JOIN persons p ON p.id = e.person_id "
    "LEFT JOIN person_last_passed l ON l.person_id = e.person_id GROUP BY 1, 2, 3, 4",
)


QUIET = "NOT EXISTS (SELECT 1 FROM agg_bulk)"  # a bulk write keeps the aggregates itself, set-wise


def _when(spec: str) -> str:
    """The trigger's event with the bulk flag's condition added to its WHEN clause."""
    if " WHEN " in spec:
        event, cond = spec.split(" WHEN ", 1)
        return f"{event} WHEN ({cond}) AND {QUIET}"
    return f"{spec} WHEN {QUIET}"


def upgrade() -> None:
    op.create_table(
        'person_last_passed',
        sa.Column('person_id', sa.String(36), nullable=False),
        sa.Column('last_passed', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('person_id', name=op.f('pk_person_last_passed')),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f('ix_person_last_passed_last_passed'), 'person_last_passed', ['last_passed'], unique=False)
    op.create_table(
        'coverage_buckets',
        sa.Column('cohort', sa.String(32), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('alive', sa.Integer(), nullable=False),
        sa.Column('eff', sa.Date(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('cohort', 'status', 'alive', 'eff', name=op.f('pk_coverage_buckets')),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'cert_month_counts',
        sa.Column('month', sa.String(7), nullable=False),
        sa.Column('method', sa.String(24), nullable=False),
        sa.Column('result', sa.String(8), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'method', 'result', name=op.f('pk_cert_month_counts')),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'agg_bulk',
        sa.Column('on', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('on', name=op.f('pk_agg_bulk')),
    )
    if op.get_bind().dialect.name != "sqlite":
        return
    for stmt in BACKFILL:
        op.execute(stmt)
    for name, (when, body) in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {_when(when)} BEGIN {body} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('agg_bulk')
    op.drop_table('cert_month_counts')
    op.drop_table('coverage_buckets')
    op.drop_index(op.f('ix_person_last_passed_last_passed'), table_name='person_last_passed')
    op.drop_table('person_last_passed')
