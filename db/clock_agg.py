"""The maintained clock (issue 20, revision 0012): each entitlement's certification deadline and
suspension month, kept by SQLite triggers beside ``person_last_passed`` so the outreach list can
be read in deadline order from an index — its first screen is a ``LIMIT 200`` walk, not a pass
over the roster.

``entitlement_clock``  entitlement → (person, cohort, stored status, deadline, suspend month)

The deadline is the rule table's (``cycle_rules``, data) applied to the effective last date —
the later of the entitlement's start and the person's latest passed certification, as
``person_last_passed`` holds it (any date: a reader asking "as of D" uses the table only when no
passed certification is dated after D, :func:`db.aggregates.latest_passed_date`). :data:`DEADLINE`
is ``desktop.domain.rules.deadline_for`` in SQL; ``tests/desktop/test_clock_agg.py`` proves the two
equal for every rule kind, and the table equal to :func:`from_scratch` after any writes.

Kept by: triggers on entitlements (insert, update of person, cohort, start, status; delete),
on ``person_last_passed`` (every change of a person's latest passed date, itself kept by 0011's
triggers) and on ``cycle_rules`` (a changed rule recomputes its cohort); the bulk paths of
``db/aggregates.py`` (triggers quiet) call :data:`UPSERT` set-wise. A rule without a row gives
NULL dates (never listed).
"""

from __future__ import annotations

from sqlalchemy import Connection, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import UUID, Base


class EntitlementClock(Base):
    __tablename__ = "entitlement_clock"
    # the listable (active) entitlements in deadline order, covering the list's columns (status too,
    # though always 'active' here: SQLite reads a column it has not got from the table): a payroll
    # run's status change removes one entry (there is no other index to keep: a person's rows are
    # found through entitlements' (person_id, cohort) key)
    __table_args__ = (
        Index("ix_entitlement_clock_deadline", "deadline", "suspend", "person_id", "cohort", "status",
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
        {"sqlite_with_rowid": False},
    )

    entitlement_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    person_id: Mapped[str] = mapped_column(UUID)
    cohort: Mapped[str] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(16))
    deadline: Mapped[str | None] = mapped_column(String(10))  # ISO date
    suspend: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM


def _months(n: str) -> str:
    return f"printf('%+d months', {n})"


# desktop.domain.rules.deadline_for over ``x.eff`` (ISO text) and the rule ``x.kind``/``x.period``
_FIRST = "substr(x.eff, 1, 8) || '01'"
DEADLINE = (
    "CASE x.kind "
    # add_months: the same day ``period`` months on, or that month's last day when it is shorter
    f"WHEN 'rolling_months' THEN min(date({_FIRST}, {_months('x.period')}, "
    "                                     printf('%+d days', CAST(substr(x.eff, 9, 2) AS INTEGER) - 1)), "
    f"                                date({_FIRST}, {_months('x.period + 1')}, '-1 days')) "
    "WHEN 'rolling_days' THEN date(x.eff, printf('%+d days', x.period)) "
    # the last day of the window after the one holding eff
    "WHEN 'calendar_windows' THEN date(substr(x.eff, 1, 4) || '-01-01', "
    f"     {_months('((CAST(substr(x.eff, 6, 2) AS INTEGER) - 1) / x.period) * x.period + 2 * x.period')}, "
    "     '-1 days') END"
)
SUSPEND = f"strftime('%Y-%m', date(substr(y.dl, 1, 8) || '01', {_months('y.off')}))"

# every entitlement's clock row among those ``{where}`` (over ``e``) selects
SELECT = (
    f"SELECT y.id, y.person_id, y.cohort, y.status, y.dl, {SUSPEND} FROM ("
    f"  SELECT x.id, x.person_id, x.cohort, x.status, x.off, {DEADLINE} AS dl FROM ("
    "    SELECT e.id, e.person_id, e.cohort, e.status, r.kind, r.period, r.suspend_offset_months AS off, "
    "           substr(max(e.start_date, coalesce(l.last_passed, e.start_date)), 1, 10) AS eff "
    "    FROM entitlements e LEFT JOIN person_last_passed l ON l.person_id = e.person_id "
    "    LEFT JOIN cycle_rules r ON r.cohort = e.cohort WHERE {where}) x) y WHERE 1"
)
UPSERT = (
    "INSERT INTO entitlement_clock (entitlement_id, person_id, cohort, status, deadline, suspend) "
    + SELECT + " ON CONFLICT (entitlement_id) DO UPDATE SET person_id = excluded.person_id, "
    "cohort = excluded.cohort, status = excluded.status, deadline = excluded.deadline, suspend = excluded.suspend"
)

# set-wise forms for the bulk paths (db/aggregates.py): entitlements by a JSON array of ids,
# persons by the [person id, date] pairs of the certification path
UPSERT_IDS = UPSERT.format(where="e.id IN (SELECT value FROM json_each(:ids))")
UPSERT_PAIRS = UPSERT.format(where="e.person_id IN (SELECT json_extract(value, '$[0]') FROM json_each(:pairs))")
STATUS_FROM = "UPDATE entitlement_clock SET status = :new WHERE entitlement_id IN ({ids_sql})"
STATUS_IDS = STATUS_FROM.format(ids_sql="SELECT value FROM json_each(:ids)")

SCRATCH = SELECT.format(where="1")


def from_scratch(conn: Connection) -> set[tuple]:
    return {tuple(r) for r in conn.exec_driver_sql(SCRATCH)}


def maintained(conn: Connection) -> set[tuple]:
    return {tuple(r) for r in conn.exec_driver_sql(
        "SELECT entitlement_id, person_id, cohort, status, deadline, suspend FROM entitlement_clock")}


REBUILD = UPSERT.format(where="1")  # the migration's backfill; db.aggregates.rebuild


def deadline_sql(conn: Connection, kind: str, period: int, offset: int, eff: str) -> tuple[str | None, str | None]:
    """(deadline, suspend month) of one effective last date under one rule, by :data:`DEADLINE`
    (the tests compare it with ``deadline_for``)."""
    row = conn.exec_driver_sql(
        f"SELECT y.dl, {SUSPEND} FROM (SELECT {DEADLINE} AS dl, x.off FROM "
        "(SELECT ? AS kind, ? AS period, ? AS off, ? AS eff) x) y", (kind, period, offset, eff)).first()
    return row[0], row[1]
