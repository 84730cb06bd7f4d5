"""Maintained aggregates (issue 20, revision 0011): small tables that SQLite triggers keep equal
to counts over the big ones, so a payroll run, the dashboard and the lists read a few rows
instead of scanning a million.

``person_last_passed``  person → latest passed certification date (any date; readers that need
                        "latest passed on or before D" use it where it is ≤ D and fall back to
                        the certifications otherwise)
``coverage_buckets``    (cohort, stored status, person living?, effective last) → entitlements,
                        where effective last = the later of the start date and the person's
                        latest passed certification
``cert_month_counts``   (YYYY-MM, method, result) → certifications
``entitlement_clock``   entitlement → deadline and suspension month (revision 0012,
                        db/clock_agg.py: the outreach list in deadline order)

The triggers (migration 0011) fire on every write to ``certifications``, ``entitlements`` and
``persons.death_date`` — counter, results import, forms, visits, sync pull, roster import and
payroll status updates alike — so no write path needs a hook. They exist on SQLite only: on
PostgreSQL (the central server) the tables stay empty and nothing reads them
(:func:`available` says so). :func:`rebuild` recomputes them from scratch; :func:`from_scratch`
is the reference the property tests compare with.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Connection, Date, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db import clock_agg
from db.base import UUID, Base


class PersonLastPassed(Base):
    __tablename__ = "person_last_passed"
    __table_args__ = {"sqlite_with_rowid": False}

    person_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    last_passed: Mapped[date] = mapped_column(Date, index=True)


class CoverageBucket(Base):
    __tablename__ = "coverage_buckets"
    __table_args__ = {"sqlite_with_rowid": False}

    cohort: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    alive: Mapped[int] = mapped_column(Integer, primary_key=True)
    eff: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class AggBulk(Base):
    """A row here (inside one transaction only) quiets the triggers: a bulk write keeps the
    aggregates itself, set-wise (:func:`bulk_insert`, :func:`bulk_update`)."""

    __tablename__ = "agg_bulk"

    on: Mapped[int] = mapped_column(Integer, primary_key=True)


class CertMonthCount(Base):
    __tablename__ = "cert_month_counts"
    __table_args__ = {"sqlite_with_rowid": False}

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    method: Mapped[str] = mapped_column(String(24), primary_key=True)
    result: Mapped[str] = mapped_column(String(8), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


# --- from scratch (the reference, and the migration's backfill) ------------------------------------

SCRATCH_LAST_PASSED = ("SELECT person_id, max(cert_date) FROM certifications WHERE result = 'passed' "
                       "GROUP BY person_id")
SCRATCH_MONTHS = ("SELECT substr(cert_date, 1, 7), method, result, count(*) FROM certifications "
                  "GROUP BY 1, 2, 3")
SCRATCH_BUCKETS = (
    "SELECT e.cohort, e.status, coalesce(p.death_date IS NULL, 1), "
    "max(e.start_date, coalesce(l.last_passed, e.start_date)), count(*) "
    "FROM entitlements e LEFT JOIN persons p ON p.id = e.person_id "
    "LEFT JOIN (" + SCRATCH_LAST_PASSED.replace("person_id, max(cert_date)", "person_id, max(cert_date) AS last_passed")
    + ") l ON l.person_id = e.person_id GROUP BY 1, 2, 3, 4")

TABLES = ("person_last_passed", "coverage_buckets", "cert_month_counts", "entitlement_clock")
BULK_MIN = 50  # fewer rows: the triggers are cheaper than the set-wise statements
BULK_TABLES = ("entitlements", "certifications")


def available(conn: Connection) -> bool:
    """The aggregates are maintained here (SQLite with migration 0011's triggers)."""
    if conn.dialect.name != "sqlite":
        return False
    row = conn.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'agg_cert_insert'").scalar()
    return bool(row)


def from_scratch(conn: Connection) -> dict[str, set[tuple]]:
    """The three aggregates counted again from the base tables (zero counts left out)."""
    return {
        "person_last_passed": {tuple(r) for r in conn.exec_driver_sql(SCRATCH_LAST_PASSED)},
        "coverage_buckets": {tuple(r) for r in conn.exec_driver_sql(SCRATCH_BUCKETS)},
        "cert_month_counts": {tuple(r) for r in conn.exec_driver_sql(SCRATCH_MONTHS)},
        "entitlement_clock": clock_agg.from_scratch(conn),
    }


def maintained(conn: Connection) -> dict[str, set[tuple]]:
    """The three aggregates as stored (zero counts left out)."""
    return {
        "person_last_passed": {tuple(r) for r in conn.exec_driver_sql(
            "SELECT person_id, last_passed FROM person_last_passed")},
        "coverage_buckets": {tuple(r) for r in conn.exec_driver_sql(
            "SELECT cohort, status, alive, eff, n FROM coverage_buckets WHERE n <> 0")},
        "cert_month_counts": {tuple(r) for r in conn.exec_driver_sql(
            "SELECT month, method, result, n FROM cert_month_counts WHERE n <> 0")},
        "entitlement_clock": clock_agg.maintained(conn),
    }


def rebuild(conn: Connection) -> None:
    """Recompute every aggregate from the base tables (a repair), with the triggers quiet (they
    would move buckets for the rows being replaced)."""
    conn.exec_driver_sql("INSERT OR IGNORE INTO agg_bulk VALUES (1)")
    for t in TABLES:
        conn.exec_driver_sql(f"DELETE FROM {t}")
    conn.exec_driver_sql(f"INSERT INTO person_last_passed (person_id, last_passed) {SCRATCH_LAST_PASSED}")
    conn.exec_driver_sql(f"INSERT INTO cert_month_counts (month, method, result, n) {SCRATCH_MONTHS}")
    conn.exec_driver_sql(f"INSERT INTO coverage_buckets (cohort, status, alive, eff, n) {SCRATCH_BUCKETS}")
    conn.exec_driver_sql(clock_agg.REBUILD)
    conn.exec_driver_sql("DELETE FROM agg_bulk")


# --- readers ---------------------------------------------------------------------------------------


def latest_passed_date(conn: Connection) -> str | None:
    """The latest passed certification date of anyone (ISO): the aggregates describe "on or
    before D" exactly when this is ≤ D."""
    return conn.exec_driver_sql("SELECT max(last_passed) FROM person_last_passed").scalar()


def coverage_buckets(conn: Connection) -> list[tuple[str, str, int, str, int]]:
    """(cohort, stored status, alive 0/1, effective last ISO, entitlements), non-zero only."""
    return [tuple(r) for r in conn.exec_driver_sql(
        "SELECT cohort, status, alive, eff, n FROM coverage_buckets WHERE n <> 0")]


def cert_month_counts(conn: Connection, since_month: str) -> list[tuple[str, str, str, int]]:
    """(YYYY-MM, method, result, n) for the months from ``since_month`` on, non-zero only."""
    return [tuple(r) for r in conn.execute(text(
        "SELECT month, method, result, n FROM cert_month_counts WHERE month >= :m AND n <> 0"), {"m": since_month})]


# --- bulk writes: the triggers quiet, the aggregates kept set-wise -----------------------------------

# the buckets of the entitlements whose ids are the JSON array :ids, counted with {sign}
_BUCKETS_OF_IDS = (
    "INSERT INTO coverage_buckets (cohort, status, alive, eff, n) "
    "SELECT e.cohort, e.status, coalesce(p.death_date IS NULL, 1), "
    "max(e.start_date, coalesce(l.last_passed, e.start_date)), {sign} count(*) "
    "FROM json_each(:ids) i CROSS JOIN entitlements e ON e.id = i.value LEFT JOIN persons p ON p.id = e.person_id "
    "LEFT JOIN person_last_passed l ON l.person_id = e.person_id WHERE 1 GROUP BY 1, 2, 3, 4 "
    "ON CONFLICT (cohort, status, alive, eff) DO UPDATE SET n = n + excluded.n")

# the persons whose latest passed certification the new rows change: :pairs is a JSON array of
# [person id, latest passed date among the new rows] (inserts only add: the new latest is the
# later of the two)
_CHANGED = (
    "WITH m AS (SELECT json_extract(value, '$[0]') AS pid, json_extract(value, '$[1]') AS last "
    "           FROM json_each(:pairs)), "
    "     ch AS (SELECT m.pid, l.last_passed AS old, m.last AS new FROM m "
    "            LEFT JOIN person_last_passed l ON l.person_id = m.pid "
    "            WHERE l.last_passed IS NULL OR m.last > l.last_passed) ")

# their entitlements moved from the bucket of the old date to the one of the new date
_MOVE = _CHANGED + (
    "INSERT INTO coverage_buckets (cohort, status, alive, eff, n) "
    "SELECT e.cohort, e.status, coalesce(p.death_date IS NULL, 1), "
    "max(e.start_date, coalesce(CASE WHEN x.d < 0 THEN ch.old ELSE ch.new END, e.start_date)), sum(x.d) "
    "FROM ch CROSS JOIN entitlements e ON e.person_id = ch.pid LEFT JOIN persons p ON p.id = ch.pid "
    "CROSS JOIN (SELECT -1 AS d UNION ALL SELECT 1) x WHERE 1 GROUP BY 1, 2, 3, 4 HAVING sum(x.d) <> 0 "
    "ON CONFLICT (cohort, status, alive, eff) DO UPDATE SET n = n + excluded.n")

_LAST = _CHANGED + (
    "INSERT INTO person_last_passed (person_id, last_passed) SELECT pid, new FROM ch WHERE 1 "
    "ON CONFLICT (person_id) DO UPDATE SET last_passed = excluded.last_passed")

_MONTHS = (
    "INSERT INTO cert_month_counts (month, method, result, n) "
    "SELECT substr(c.cert_date, 1, 7), c.method, c.result, count(*) FROM json_each(:ids) i "
    "CROSS JOIN certifications c ON c.id = i.value WHERE 1 GROUP BY 1, 2, 3 "
    "ON CONFLICT (month, method, result) DO UPDATE SET n = n + excluded.n")


def _quiet(raw, on: bool) -> None:
    raw.execute("INSERT OR IGNORE INTO agg_bulk VALUES (1)" if on else "DELETE FROM agg_bulk")


def _applies(conn: Connection, table: str, n: int) -> bool:
    return n >= BULK_MIN and table in BULK_TABLES and available(conn)


def _quietly(raw, write, *after: tuple[str, dict]) -> None:
    """``write()`` and the statements ``after`` with the triggers quiet."""
    _quiet(raw, True)
    try:
        write()
        for sql, params in after:
            raw.execute(sql, params)
    finally:
        _quiet(raw, False)


def bulk_insert(conn: Connection, table: str, names, rows, constants: dict, write) -> None:
    """``write()`` inserts ``rows`` (tuples in the column order ``names``, plus ``constants``;
    dates as ISO text) into ``table`` — new rows only. SQLite with the aggregates, 50 rows or more of entitlements or
    certifications: the triggers are quiet meanwhile and the aggregates follow set-wise —
    new entitlements add to their buckets; new certifications move the persons whose latest
    passed date they change (and those persons' entitlements between buckets), and add to the
    monthly counts. Otherwise ``write()`` alone (the triggers do it)."""
    if not _applies(conn, table, len(rows)):
        write()
        return
    raw = conn.connection.driver_connection
    ids = json.dumps([r[names.index("id")] for r in rows])
    if table == "entitlements":
        _quietly(raw, write, (_BUCKETS_OF_IDS.format(sign=""), {"ids": ids}), (clock_agg.UPSERT_IDS, {"ids": ids}))
        return
    col = {n: i for i, n in enumerate(names)}

    def value(r, name):
        return r[col[name]] if name in col else constants.get(name)

    newest: dict[str, str] = {}
    for r in rows:
        if value(r, "result") == "passed":
            pid, d = value(r, "person_id"), value(r, "cert_date")
            if d is not None and (pid not in newest or d > newest[pid]):
                newest[pid] = d
    pairs = {"pairs": json.dumps(sorted(newest.items()))}
    # the move reads the maintained dates before they change, so it runs first
    _quietly(raw, write, (_MOVE, pairs), (_LAST, pairs), (_MONTHS, {"ids": ids}), (clock_agg.UPSERT_PAIRS, pairs))


# move the buckets of entitlement groups (cohort, old status, alive, eff, n) to status :new
_STATUS_MOVE_GROUPS = (
    "WITH g AS MATERIALIZED ({groups}) "
    "INSERT INTO coverage_buckets (cohort, status, alive, eff, n) "
    "SELECT cohort, old, alive, eff, -n FROM g WHERE old IS NOT :new "
    "UNION ALL SELECT cohort, :new, alive, eff, n FROM g WHERE old IS NOT :new "
    "ON CONFLICT (cohort, status, alive, eff) DO UPDATE SET n = n + excluded.n")
_STATUS_MOVE = _STATUS_MOVE_GROUPS.format(groups=(
    "SELECT e.cohort, e.status AS old, coalesce(p.death_date IS NULL, 1) AS alive, "
    "       max(e.start_date, coalesce(l.last_passed, e.start_date)) AS eff, count(*) AS n "
    "FROM json_each(:ids) i CROSS JOIN entitlements e ON e.id = i.value "
    "LEFT JOIN persons p ON p.id = e.person_id LEFT JOIN person_last_passed l ON l.person_id = e.person_id "
    "GROUP BY 1, 2, 3, 4"))


def bulk_set_status_from(conn: Connection, status: str, groups_sql: str, ids_sql: str, n: int, write) -> None:
    """:func:`bulk_set_status` for ids that never leave the database (a payroll run's set-wise
    suspensions): ``write()`` sets status ``status`` on the ``n`` entitlements whose ids
    ``ids_sql`` gives; ``groups_sql`` counts them by their current bucket (columns cohort, old,
    alive, eff, n). Both are queries without parameters over the run's temporary tables."""
    if not _applies(conn, "entitlements", n):
        write()
        return
    raw = conn.connection.driver_connection
    raw.execute(_STATUS_MOVE_GROUPS.format(groups=groups_sql), {"new": status})
    _quietly(raw, write, (clock_agg.STATUS_FROM.format(ids_sql=ids_sql), {"new": status}))


def bulk_set_status(conn: Connection, groups: dict[str, list[str]], write) -> None:
    """``write()`` sets the status of the entitlements ``groups[status]`` (a payroll run's status
    cache): with 50 or more on SQLite, their buckets move from the old status to the new one in
    one statement per status, before the write, with the triggers quiet during it."""
    if not _applies(conn, "entitlements", sum(len(v) for v in groups.values())):
        write()
        return
    raw = conn.connection.driver_connection
    moves = []
    for status, ids in groups.items():
        params = {"ids": json.dumps(sorted(set(ids))), "new": status}
        raw.execute(_STATUS_MOVE, params)
        moves.append((clock_agg.STATUS_IDS, params))
    _quietly(raw, write, *moves)
