"""A payroll run's quiet majority, set-wise (issue 20; SQLite, the counters' and laptops' database).

Most of a go-live month's instructions concern entitlements with nothing recorded — no earlier
instruction, no recovery demand, no death — whose certification has lapsed. Their plan depends
only on the cohort, the effective last date and whether the entitlement starts after the month
(:func:`desktop.domain.ledger.fresh_plan`), so a run plans each such *group* once in Python and
lets SQL do the rest: the rows never become Python objects.

The temporary tables of one run (on the run's own connection and inside its transaction; emptied
at the end, rolled back with a preview):

``run_lapsed``  every entitlement the run looks at (lapsed by its cohort's threshold, or with
                something recorded): the columns of :func:`db.ledger_repo.stream_entitlements`,
                its effective last date, whether it starts after the month, and ``fresh`` — nothing
                recorded and a certification on file (the rest go through the per-entitlement
                ledger as before)
``run_plan``    one row per group with a suspension to instruct: its ``detail`` JSON
``run_fresh``   the fresh entitlements to suspend, numbered ``k`` = 1 … n in scan order (the
                order the per-entitlement path would have used): instruction ``k`` gets key
                ``k - 1`` of a block reserved with :func:`db.ids.reserve_block`
"""

from __future__ import annotations

from datetime import date
from typing import Iterator, Sequence

from sqlalchemy import Connection

from db.ids import block_key_sql, block_keys, reserve_block
from db.ledger_repo import _ENT_SELECT, _iter_cursor, threshold_case

_TABLES = (
    "CREATE TEMP TABLE IF NOT EXISTS run_lapsed (eid TEXT, pid TEXT, cohort TEXT, start_date TEXT, fen INTEGER, "
    "last TEXT, base TEXT, late INTEGER, fresh INTEGER, status TEXT, eff TEXT)",
    "CREATE TEMP TABLE IF NOT EXISTS run_plan (pk INTEGER PRIMARY KEY, cohort TEXT, base TEXT, late INTEGER, "
    "start_date TEXT, detail TEXT, UNIQUE (cohort, base, late))",
    "CREATE TEMP TABLE IF NOT EXISTS run_fresh (k INTEGER PRIMARY KEY, eid TEXT, pid TEXT, cohort TEXT, "
    "plan INTEGER, status TEXT, eff TEXT)",
    "CREATE TEMP TABLE IF NOT EXISTS ledger_want (id TEXT PRIMARY KEY) WITHOUT ROWID",
)


_CLEAR = (
    "DELETE FROM temp.run_lapsed",
    "DELETE FROM temp.run_plan",
    "DELETE FROM temp.run_fresh",
    "DELETE FROM temp.ledger_want",
)
_WANT = "INSERT OR IGNORE INTO ledger_want VALUES (?)"
_STAGE = (
    "INSERT INTO run_lapsed (eid, pid, cohort, start_date, fen, last, base, late, fresh, status, eff) "
    "SELECT id, person_id, cohort, start_date, monthly_amount_fen, last, "
    "       substr(max(start_date, coalesce(last, start_date)), 1, 10), start_date >= :after, "
    "       last IS NOT NULL AND w.id IS NULL, status, max(start_date, coalesce(last_passed, start_date)) "
    "FROM ({entitlements}) LEFT JOIN ledger_want w USING (id) "
    "WHERE max(start_date, coalesce(last, start_date)) < {threshold} OR w.id IS NOT NULL"
)
_LEDGER_ROWS = (
    "SELECT eid, pid, cohort, start_date, fen, last FROM run_lapsed WHERE NOT fresh ORDER BY rowid"
)
_GROUPS = (
    "INSERT OR IGNORE INTO run_plan (cohort, base, late, start_date) "
    "SELECT cohort, base, late, start_date FROM run_lapsed WHERE fresh"
)
_GROUP_ROWS = "SELECT cohort, base, late, start_date FROM run_plan"
_SET_PLAN = "UPDATE run_plan SET detail = ? WHERE cohort = ? AND base = ? AND late = ?"
_DROP_EMPTY = "DELETE FROM run_plan WHERE detail IS NULL"
_NUMBER = (
    "INSERT INTO run_fresh (eid, pid, cohort, plan, status, eff) "
    "SELECT l.eid, l.pid, l.cohort, g.pk, l.status, l.eff FROM run_lapsed l "
    "JOIN run_plan g ON g.cohort = l.cohort AND g.base = l.base AND g.late = l.late "
    "WHERE l.fresh ORDER BY l.rowid"
)
_COUNT = "SELECT count(*) FROM run_fresh"
_PLAN_IDS = "SELECT pk, cohort, base, late FROM run_plan"
_INSERT = (
    "INSERT INTO entitlement_events (id, entitlement_id, kind, payroll_month, effective_month, detail, "
    "needs_approval, approved_by, approved_at, voided_at, void_reason, operator, workstation, created_at) "
    "SELECT {key}, f.eid, 'suspend', :m, :m, g.detail, 0, NULL, NULL, NULL, NULL, :op, :ws, :now "
    "FROM run_fresh f JOIN run_plan g ON g.pk = f.plan ORDER BY f.k"
)
_ANSWER = (
    "SELECT f.eid, f.pid, p.id_number, p.name, f.cohort, f.plan FROM run_fresh f "
    "JOIN persons p ON p.id = f.pid ORDER BY f.k"
)
_FRESH_EIDS = "SELECT eid FROM run_fresh ORDER BY k"


def _raw(conn: Connection):
    return conn.connection.driver_connection


def clear(conn: Connection) -> None:
    raw = _raw(conn)
    for sql in _CLEAR:
        raw.execute(sql)


def stage(conn: Connection, day: date, thresholds: dict[str, str], also: Sequence[str], after: date) -> None:
    """Fill ``run_lapsed``: the rows :func:`db.ledger_repo.lapsed_entitlements` would return, with
    ``fresh`` set where the entitlement id is not in ``also`` (something recorded, a demand or a
    death) and a passed certification ≤ ``day`` is on file."""
    raw = _raw(conn)
    for sql in _TABLES:
        raw.execute(sql)
    clear(conn)
    raw.executemany(_WANT, ((i,) for i in also))
    sql = _STAGE.format(entitlements=_ENT_SELECT.format(extra=", e.status, l.last_passed"),
                        threshold=threshold_case(thresholds))
    raw.execute(sql, {"day": day.isoformat(), "after": after.isoformat()})


def ledger_rows(conn: Connection) -> list[tuple]:
    """The staged rows that need the per-entitlement ledger, in scan order: (entitlement_id,
    person_id, cohort, start_date, monthly_fen, latest passed certification ≤ the day)."""
    cur = _raw(conn).execute(_LEDGER_ROWS)
    cur.arraysize = 20_000
    return cur.fetchall()


def fresh_groups(conn: Connection) -> list[tuple]:
    """(cohort, effective last date, starts after the month?, a member's start date) of every
    group of fresh staged rows (each row a probe of ``run_plan``'s small unique index, not a
    sort of them all); the groups stay in ``run_plan`` without a plan until :func:`number_fresh`."""
    raw = _raw(conn)
    raw.execute(_GROUPS)
    return raw.execute(_GROUP_ROWS).fetchall()


def number_fresh(conn: Connection, plans: list[tuple]) -> int:
    """Store the groups' plans (detail JSON, cohort, base, late) — groups without one are dropped —
    and number their entitlements in scan order; returns how many."""
    raw = _raw(conn)
    raw.executemany(_SET_PLAN, plans)
    raw.execute(_DROP_EMPTY)
    raw.execute(_NUMBER)
    return raw.execute(_COUNT).fetchone()[0]


def plan_ids(conn: Connection) -> dict[tuple, int]:
    """(cohort, base, late) → the group's key in ``run_plan``."""
    return {(c, b, lt): pk for pk, c, b, lt in _raw(conn).execute(_PLAN_IDS)}


FRESH_IDS = "SELECT eid AS value FROM temp.run_fresh"
# the coverage buckets the fresh entitlements leave and join (db/aggregates.py's keys: cohort,
# stored status, living — always: a dead person's entitlements are never fresh —, effective last)
FRESH_BUCKETS = "SELECT cohort, status AS old, 1 AS alive, eff, count(*) AS n FROM temp.run_fresh GROUP BY 1, 2, 4"
_SUSPEND = (
    "UPDATE entitlements SET status = 'suspended', status_since = :m, updated_at = :now "
    "WHERE id IN (SELECT eid FROM temp.run_fresh)"
)


def insert_suspensions(conn: Connection, n: int, month: str, operator: str | None, workstation: str | None,
                       now_s: str) -> list[str]:
    """One ``suspend`` instruction of payroll month ``month`` per numbered fresh entitlement, in
    one ``INSERT … SELECT``; returns their keys in order (for the sync queue)."""
    prefix, low = reserve_block(n)
    key = block_key_sql(prefix, low, "f.k - 1")
    params = {"m": month, "op": operator, "ws": workstation, "now": now_s}
    _raw(conn).execute(_INSERT.format(key=key), params)
    return block_keys(prefix, low, n)


def set_suspended(conn: Connection, month: str, now_s: str) -> None:
    """The entitlements' status cache: suspended since ``month`` (the caller keeps the aggregates)."""
    _raw(conn).execute(_SUSPEND, {"m": month, "now": now_s})


def fresh_entitlement_ids(conn: Connection) -> list[str]:
    """The numbered fresh entitlements' ids in ``k`` order (the sync queue's order)."""
    return [r[0] for r in _raw(conn).execute(_FRESH_EIDS)]


def answer_rows(conn: Connection) -> Iterator[tuple]:
    """(entitlement_id, person_id, id_number, name, cohort, plan key) of each fresh suspension, in
    instruction order (streamed)."""
    cur = _raw(conn).execute(_ANSWER)
    cur.arraysize = 20_000
    return _iter_cursor(cur)
