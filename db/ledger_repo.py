"""Queries of the payment ledger: recorded runs, instructions, recovery demands, amount history.

Plain tuples in, plain tuples out; the rules live in ``desktop.domain.ledger``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Sequence

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update

from db.models import (
    Certification,
    Entitlement,
    EntitlementAmount,
    EntitlementEvent,
    PayrollRun,
    Person,
    RecoveryCase,
)

runs = PayrollRun.__table__
events = EntitlementEvent.__table__
cases = RecoveryCase.__table__
amounts = EntitlementAmount.__table__
ents = Entitlement.__table__
persons = Person.__table__
certs = Certification.__table__

CHUNK = 800


def _chunks(items: Sequence, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i: i + size]


def run_months(conn: Connection) -> tuple[str | None, str | None]:
    """(first, latest) recorded payroll month."""
    row = conn.execute(select(func.min(runs.c.month), func.max(runs.c.month))).one()
    return row[0], row[1]


def run_recorded(conn: Connection, month: str) -> bool:
    return conn.execute(select(runs.c.id).where(runs.c.month == month).limit(1)).first() is not None


def insert_run(conn: Connection, row: dict) -> None:
    conn.execute(insert(runs), [row])


def _by_entitlement(stmt, col, entitlement_ids):
    if entitlement_ids is None:
        return [stmt]
    return [stmt.where(col.in_(part)) for part in _chunks(list(entitlement_ids))]


def instruction_rows(conn: Connection, entitlement_ids: Sequence[str] | None = None, *,
                     light: bool = False) -> list[tuple]:
    """Live (non-voided) events: (id, entitlement_id, kind, payroll_month, effective_month, detail,
    needs_approval, approved_by), in recorded order. ``light`` (a whole run on SQLite): straight
    from the driver, and ``detail`` only where the ledger needs it (the months of back pay and of
    cancelled recoveries, resumptions recorded before the ledger); None for the rest."""
    if light and entitlement_ids is None and conn.dialect.name == "sqlite":
        cur = conn.connection.driver_connection.execute(
            "SELECT id, entitlement_id, kind, payroll_month, effective_month, "
            "CASE WHEN kind IN ('back_pay', 'recovery_cancel', 'resume') THEN detail END, "
            "needs_approval, approved_by FROM entitlement_events WHERE voided_at IS NULL "
            "ORDER BY payroll_month, created_at")
        cur.arraysize = 20_000
        return cur.fetchall()
    e = events.c
    stmt = (select(e.id, e.entitlement_id, e.kind, e.payroll_month, e.effective_month, e.detail, e.needs_approval,
                   e.approved_by).where(e.voided_at.is_(None))
            .order_by(e.payroll_month, e.created_at))
    out: list[tuple] = []
    for s in _by_entitlement(stmt, e.entitlement_id, entitlement_ids):
        out.extend(tuple(r) for r in conn.execute(s))
    if entitlement_ids is not None:
        out.sort(key=lambda r: r[3])  # stable: keeps created order within a month
    return out


def demand_rows(conn: Connection, entitlement_ids: Sequence[str] | None = None) -> list[tuple]:
    """Recovery cases: (id, entitlement_id, opened_month, overpaid_months JSON, status)."""
    c = cases.c
    stmt = select(c.id, c.entitlement_id, c.opened_month, c.overpaid_months, c.status).order_by(c.opened_month)
    out: list[tuple] = []
    for s in _by_entitlement(stmt, c.entitlement_id, entitlement_ids):
        out.extend(tuple(r) for r in conn.execute(s))
    return out


def amount_rows(conn: Connection, entitlement_ids: Sequence[str] | None = None) -> list[tuple]:
    """Amount changes: (entitlement_id, from_month, amount_fen, previous_fen), oldest first."""
    a = amounts.c
    stmt = select(a.entitlement_id, a.from_month, a.amount_fen, a.previous_fen).order_by(a.from_month, a.created_at)
    out: list[tuple] = []
    for s in _by_entitlement(stmt, a.entitlement_id, entitlement_ids):
        out.extend(tuple(r) for r in conn.execute(s))
    return out


def stream_entitlements(conn: Connection, last_cert_on_or_before: date, person_id: str | None = None):
    """(entitlement_id, person_id, cohort, start_date, monthly_fen, latest passed certification ≤
    the day), streamed. Who the person is, and deaths, are read apart (few rows need them)."""
    c = certs.c
    last = (select(func.max(c.cert_date))
            .where(and_(c.person_id == ents.c.person_id, c.result == "passed", c.cert_date <= last_cert_on_or_before))
            .scalar_subquery())
    stmt = select(ents.c.id, ents.c.person_id, ents.c.cohort, ents.c.start_date, ents.c.monthly_amount_fen, last)
    if person_id is not None:
        return conn.execute(stmt.where(ents.c.person_id == person_id)).all()
    if conn.dialect.name == "sqlite":
        # the whole roster: straight from the driver (dates stay ISO text; the caller parses each
        # distinct one once) — SQLAlchemy's per-row processing is most of the cost at a million rows
        cur = conn.connection.driver_connection.execute(_ENT_COLS, {"day": last_cert_on_or_before.isoformat()})
        cur.arraysize = 20_000
        return _iter_cursor(cur)
    return conn.execution_options(yield_per=20_000).execute(stmt)


def death_dates(conn: Connection, person_id: str | None = None) -> dict[str, date]:
    """person id → recorded death date (all the dead, or one person)."""
    stmt = select(persons.c.id, persons.c.death_date).where(persons.c.death_date.is_not(None))
    if person_id is not None:
        stmt = stmt.where(persons.c.id == person_id)
    return {r[0]: r[1] for r in conn.execute(stmt)}


def death_dates_of(conn: Connection, person_ids: Sequence[str]) -> dict[str, date | None]:
    out: dict[str, date | None] = {}
    for part in _chunks(list(person_ids)):
        for r in conn.execute(select(persons.c.id, persons.c.death_date).where(persons.c.id.in_(part))):
            out[r[0]] = r[1]
    return out


def person_names(conn: Connection, person_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """person id → (id_number, name)."""
    out: dict[str, tuple[str, str]] = {}
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        ids = list(person_ids)
        for k in range(0, len(ids), 50_000):
            for pid, number, name in raw.execute(
                    "SELECT id, id_number, name FROM persons WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(ids[k:k + 50_000]),)):
                out[pid] = (number, name)
        return out
    for part in _chunks(list(person_ids)):
        for r in conn.execute(select(persons.c.id, persons.c.id_number, persons.c.name)
                              .where(persons.c.id.in_(part))):
            out[r[0]] = (r[1], r[2])
    return out


def event_details(conn: Connection, event_ids: Sequence[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for part in _chunks(list(event_ids)):
        for r in conn.execute(select(events.c.id, events.c.detail).where(events.c.id.in_(part))):
            out[r[0]] = r[1]
    return out


# SQLite: the latest passed certification ≤ the day is the person's maintained latest passed date
# (db/aggregates.py, kept by triggers) when that is ≤ the day — one primary-key probe; only a
# person certified after the day is looked up in the certifications (the correlated subquery).
_ENT_SELECT = ("SELECT e.id, e.person_id, e.cohort, e.start_date, e.monthly_amount_fen, "
               "CASE WHEN l.last_passed IS NULL THEN NULL WHEN l.last_passed <= :day THEN l.last_passed "
               "ELSE (SELECT max(c.cert_date) FROM certifications c WHERE c.person_id = e.person_id "
               "AND c.result = 'passed' AND c.cert_date <= :day) END AS last{extra} "
               "FROM entitlements e LEFT JOIN person_last_passed l ON l.person_id = e.person_id")
_ENT_COLS = _ENT_SELECT.format(extra="")


def threshold_case(thresholds: dict[str, str]) -> str:
    """The SQL expression of each row's lapse threshold by its ``cohort`` (literals: cohort
    names and ISO dates only)."""
    case = " ".join(f"WHEN '{c}' THEN '{t}'" for c, t in thresholds.items()
                    if c.replace("_", "").isalnum() and t[:4].isdigit() and "'" not in t)
    return f"CASE cohort {case} ELSE '9999-12-31' END"


def lapsed_entitlements(conn: Connection, last_cert_on_or_before: date, thresholds: dict[str, str],
                        also: Sequence[str] = ()) -> list[tuple]:
    """SQLite: the rows of :func:`stream_entitlements` whose effective last date (the later of the
    start and the latest passed certification ≤ the day) is before its cohort's threshold, and
    the rows of the entitlement ids ``also`` — in one scan (the ids go in a temporary table)."""
    raw = conn.connection.driver_connection
    cond = f"max(start_date, coalesce(last, start_date)) < {threshold_case(thresholds)}"
    if also:
        raw.execute("CREATE TEMP TABLE IF NOT EXISTS ledger_want (id TEXT PRIMARY KEY) WITHOUT ROWID")
        raw.execute("DELETE FROM ledger_want")
        raw.executemany("INSERT OR IGNORE INTO ledger_want VALUES (?)", ((i,) for i in also))
        cond = f"({cond}) OR id IN (SELECT id FROM ledger_want)"
    try:
        cur = raw.execute(f"SELECT * FROM ({_ENT_COLS}) WHERE {cond}", {"day": last_cert_on_or_before.isoformat()})
        cur.arraysize = 20_000
        return cur.fetchall()
    finally:
        if also:
            raw.execute("DELETE FROM ledger_want")


def entitlements_by_ids(conn: Connection, last_cert_on_or_before: date, ids: Sequence[str]) -> list[tuple]:
    """SQLite: the rows of :func:`stream_entitlements` for the given entitlement ids."""
    if not ids:
        return []
    raw = conn.connection.driver_connection
    out: list[tuple] = []
    sql = f"{_ENT_COLS} WHERE e.id IN (SELECT value FROM json_each(:ids))"
    for k in range(0, len(ids), 50_000):
        out.extend(raw.execute(sql, {"day": last_cert_on_or_before.isoformat(),
                                     "ids": json.dumps(list(ids[k:k + 50_000]))}))
    return out


def entitlement_ids_of_persons(conn: Connection, person_ids: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for part in _chunks(list(person_ids)):
        out.update(r[0] for r in conn.execute(select(ents.c.id).where(ents.c.person_id.in_(part))))
    return out


def _iter_cursor(cur):
    while True:
        rows = cur.fetchmany()
        if not rows:
            return
        yield from rows


def set_status(conn: Connection, rows: list[tuple], when) -> None:
    """rows: (status, status_since, entitlement_id) — the entitlements' status column, a cache
    of their latest instruction."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        from db.bulk import _iso_datetime

        groups: dict[tuple, list[str]] = {}
        for st, since, eid in rows:
            groups.setdefault((st, since), []).append(eid)
        from db import aggregates

        raw = conn.connection.driver_connection

        def write():
            for (st, since), ids in groups.items():  # one statement per status: the ids as a JSON array
                for k in range(0, len(ids), 50_000):
                    raw.execute("UPDATE entitlements SET status = ?, status_since = ?, updated_at = ? "
                                "WHERE id IN (SELECT value FROM json_each(?))",
                                (st, since, _iso_datetime(when), json.dumps(ids[k:k + 50_000])))
        # the coverage buckets follow set-wise (db/aggregates.py), not a trigger per row
        by_status: dict[str, list[str]] = {}
        for (st, _since), ids in groups.items():
            by_status.setdefault(st, []).extend(ids)
        aggregates.bulk_set_status(conn, by_status, write)
        return
    stmt = (update(ents).where(ents.c.id == bindparam("eid"))
            .values(status=bindparam("st"), status_since=bindparam("since"), updated_at=when))
    conn.execute(stmt, [{"st": st, "since": since, "eid": eid} for st, since, eid in rows])


def identities(conn: Connection, entitlement_ids: Sequence[str]) -> dict[str, tuple]:
    """entitlement id → (person_id, id_number, name, cohort)."""
    out: dict[str, tuple] = {}
    for part in _chunks(list(entitlement_ids)):
        stmt = (select(ents.c.id, ents.c.person_id, persons.c.id_number, persons.c.name, ents.c.cohort)
                .join(persons, persons.c.id == ents.c.person_id).where(ents.c.id.in_(part)))
        for r in conn.execute(stmt):
            out[r[0]] = tuple(r[1:])
    return out


def month_instructions(conn: Connection, month: str) -> list[tuple]:
    """The live instructions of a payroll month with who they concern: (entitlement_id,
    person_id, id_number, name, cohort, kind, detail, needs_approval, approved_by), in order."""
    e = events.c
    stmt = (select(e.entitlement_id, ents.c.person_id, persons.c.id_number, persons.c.name, ents.c.cohort,
                   e.kind, e.detail, e.needs_approval, e.approved_by)
            .join(ents, ents.c.id == e.entitlement_id).join(persons, persons.c.id == ents.c.person_id)
            .where(and_(e.payroll_month == month, e.voided_at.is_(None)))
            .order_by(e.created_at, e.id))
    if conn.dialect.name == "sqlite":
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        return conn.connection.driver_connection.execute(str(compiled)).fetchall()
    return [tuple(r) for r in conn.execute(stmt)]


def cases_of_month(conn: Connection, month: str) -> list[dict]:
    stmt = (select(cases).where(and_(cases.c.opened_month == month, cases.c.status != "void"))
            .order_by(cases.c.created_at))
    return [dict(r) for r in conn.execute(stmt).mappings()]


def cancelled_months_of_case(conn: Connection, entitlement_id: str, case_id: str) -> set[str]:
    """Months of a recovery case withdrawn by live recovery_cancel instructions."""
    e = events.c
    out: set[str] = set()
    stmt = select(e.detail).where(and_(e.entitlement_id == entitlement_id, e.kind == "recovery_cancel",
                                       e.voided_at.is_(None)))
    for (detail,) in conn.execute(stmt):
        d = json.loads(detail or "{}")
        if d.get("case_id") == case_id:
            out.update(d.get("months") or ())
    return out


def cancelled_fen_of_cases(conn: Connection, entitlement_ids: Sequence[str]) -> dict[str, int | None]:
    """Per recovery case: the fen its live recovery_cancel instructions withdrew (None when one of
    them had no known amount). With the case's current amount this gives the amount it demanded
    when it was opened — what the run of its month instructed."""
    e = events.c
    out: dict[str, int | None] = {}
    for part in _chunks(list(entitlement_ids)):
        stmt = select(e.detail).where(and_(e.entitlement_id.in_(part), e.kind == "recovery_cancel",
                                           e.voided_at.is_(None)))
        for (detail,) in conn.execute(stmt):
            d = json.loads(detail or "{}")
            case_id, amount = d.get("case_id"), d.get("amount")
            if case_id is None:
                continue
            if amount is None or (case_id in out and out[case_id] is None):
                out[case_id] = None
            else:
                out[case_id] = out.get(case_id, 0) + round(amount * 100)
    return out


def case_by_id(conn: Connection, case_id: str) -> dict | None:
    row = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
    return dict(row) if row else None


def update_case(conn: Connection, case_id: str, **values) -> None:
    conn.execute(update(cases).where(cases.c.id == case_id).values(**values))


def event_by_id(conn: Connection, event_id: str) -> dict | None:
    row = conn.execute(select(events).where(events.c.id == event_id)).mappings().first()
    return dict(row) if row else None
