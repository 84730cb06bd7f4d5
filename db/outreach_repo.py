"""Queries of issue 8 (outreach lists, payroll review, recoveries, dashboards). No business rules.

List queries return plain tuples with dates as ISO text: at a million entitlements, converting
every date to a ``datetime.date`` costs more than the rest of the list, and ISO text compares in
date order.
"""

from __future__ import annotations

from datetime import date
from typing import Iterable, Sequence

from sqlalchemy import Connection, and_, func, insert, or_, select, text, update

from db.models import Certification, Entitlement, EntitlementEvent, HomeVisit, Person, RecoveryCase
from db.outreach_models import OutreachFlag, OutreachMark, PayrollExport, RecoveryInstalment
from db.bulk import _chunks, bulk_insert

persons = Person.__table__
entitlements = Entitlement.__table__
certifications = Certification.__table__
events = EntitlementEvent.__table__
recoveries = RecoveryCase.__table__
visits = HomeVisit.__table__
marks = OutreachMark.__table__
flags = OutreachFlag.__table__
exports = PayrollExport.__table__
instalments = RecoveryInstalment.__table__


def _iso(v) -> str | None:
    if v is None or isinstance(v, str):
        return v[:10] if isinstance(v, str) else None
    return v.isoformat()[:10]


# --- the clock over everyone -------------------------------------------------------------------


def living_entitlements(conn: Connection):
    """Streams (entitlement_id, person_id, cohort, start_date ISO, status) of living persons'
    entitlements that are not terminated."""
    sql = text(
        "SELECT e.id, e.person_id, e.cohort, e.start_date, e.status FROM entitlements e "
        "JOIN persons p ON p.id = e.person_id WHERE p.death_date IS NULL AND e.status <> 'terminated'"
    )
    for eid, pid, cohort, start, status in conn.execution_options(yield_per=50_000).execute(sql):
        yield eid, pid, cohort, _iso(start), status


def status_counts(conn: Connection) -> list[tuple[str, str, int]]:
    """(cohort, stored status, n) — the stored status is the payroll's (active/suspended/terminated)."""
    stmt = select(entitlements.c.cohort, entitlements.c.status, func.count()).group_by(
        entitlements.c.cohort, entitlements.c.status)
    return [tuple(r) for r in conn.execute(stmt)]


def last_passed_iso(conn: Connection, on_or_before: date) -> dict[str, str]:
    sql = text("SELECT person_id, max(cert_date) FROM certifications WHERE result = 'passed' "
               "AND cert_date <= :d GROUP BY person_id")
    return {pid: _iso(d) for pid, d in conn.execute(sql, {"d": on_or_before})}


def person_cards(conn: Connection, person_ids: Sequence[str]) -> dict[str, tuple]:
    """pid → (name, id_number, phone, address, residence, birth_date ISO)."""
    out: dict[str, tuple] = {}
    p = persons.c
    for part in _chunks(list(person_ids), 900):
        stmt = select(p.id, p.name, p.id_number, p.phone, p.address, p.residence, p.birth_date).where(p.id.in_(part))
        for r in conn.execute(stmt):
            out[r[0]] = (r[1], r[2], r[3], r[4], r[5], _iso(r[6]))
    return out


def housebound_ids(conn: Connection) -> set[str]:
    return {r[0] for r in conn.execute(select(flags.c.person_id).where(flags.c.housebound.is_(True)))}


def open_visit_ids(conn: Connection) -> set[str]:
    stmt = select(visits.c.person_id).where(visits.c.status.in_(("booked", "scheduled")))
    return {r[0] for r in conn.execute(stmt)}


def latest_marks(conn: Connection, since: date | None = None) -> dict[str, tuple]:
    """pid → (outcome, marked_on ISO, operator, note) of the latest mark (optionally since a date)."""
    m = marks.c
    stmt = select(m.person_id, m.outcome, m.marked_on, m.operator, m.note).order_by(m.created_at)
    if since is not None:
        stmt = stmt.where(m.marked_on >= since)
    return {r[0]: (r[1], _iso(r[2]), r[3], r[4]) for r in conn.execute(stmt)}


def insert_mark(conn: Connection, row: dict) -> None:
    bulk_insert(conn, marks, [row])


def marks_of(conn: Connection, person_id: str) -> list[dict]:
    stmt = select(marks).where(marks.c.person_id == person_id).order_by(marks.c.created_at.desc())
    return [dict(r) for r in conn.execute(stmt).mappings()]


def all_marks(conn: Connection) -> list[tuple]:
    """(person_id, outcome, marked_on ISO, deadline ISO)."""
    stmt = select(marks.c.person_id, marks.c.outcome, marks.c.marked_on, marks.c.deadline)
    return [(r[0], r[1], _iso(r[2]), _iso(r[3])) for r in conn.execute(stmt)]


def set_flag(conn: Connection, person_id: str, housebound: bool, note: str | None, by: str, when) -> None:
    exists = conn.execute(select(flags.c.person_id).where(flags.c.person_id == person_id)).first()
    values = dict(housebound=housebound, note=note, updated_by=by, updated_at=when)
    if exists:
        conn.execute(update(flags).where(flags.c.person_id == person_id).values(**values))
    else:
        conn.execute(insert(flags).values(person_id=person_id, **values))


def passed_dates_iso(conn: Connection, person_ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    c = certifications.c
    for part in _chunks(list(person_ids), 900):
        stmt = select(c.person_id, c.cert_date).where(and_(c.person_id.in_(part), c.result == "passed"))
        for pid, d in conn.execute(stmt):
            out.setdefault(pid, []).append(_iso(d))
    return out


# --- dashboards ----------------------------------------------------------------------------------


def certifications_by_month(conn: Connection, since: date) -> list[tuple[str, str, str, int]]:
    """(YYYY-MM, method, result, n) for certifications dated on or after ``since``."""
    sql = text(
        "SELECT substr(CAST(cert_date AS TEXT), 1, 7) AS m, method, result, count(*) FROM certifications "
        "WHERE cert_date >= :since GROUP BY m, method, result"
    )
    return [tuple(r) for r in conn.execute(sql, {"since": since})]


ATTENDED = ("counter", "home_visit", "staff_attestation")


def attended_certifications(conn: Connection, since: date) -> list[tuple]:
    """(cert_date ISO, method, result, evidence JSON, birth_date ISO, person_id) of attended checks
    (counter, home visit, staff attestation) since a date, in date order."""
    c, p = certifications.c, persons.c
    stmt = (
        select(c.cert_date, c.method, c.result, c.evidence, p.birth_date, c.person_id)
        .join(persons, p.id == c.person_id)
        .where(and_(c.cert_date >= since, c.method.in_(ATTENDED)))
        .order_by(c.cert_date, c.created_at)
    )
    return [(_iso(r[0]), r[1], r[2], r[3], _iso(r[4]), r[5]) for r in conn.execute(stmt)]


# --- payroll review ------------------------------------------------------------------------------


def flagged_resumptions(conn: Connection, month: str, next_month: str | None = None) -> list[dict]:
    """Back pay (or, before the ledger, resume) events needing approval: those of ``month``, and
    those still waiting from earlier months, and those approved since (instructed by
    ``next_month``'s run), with the person."""
    e, n, p = events.c, entitlements.c, persons.c
    stmt = (
        select(e.id, e.entitlement_id, e.payroll_month, e.effective_month, e.detail, e.approved_by, e.approved_at,
               n.cohort, p.id.label("person_id"), p.name, p.id_number)
        .join(entitlements, n.id == e.entitlement_id)
        .join(persons, p.id == n.person_id)
        .where(and_(e.kind.in_(("resume", "back_pay")), e.needs_approval.is_(True), e.voided_at.is_(None),
                    or_(e.payroll_month == month, and_(e.payroll_month < month, e.approved_by.is_(None)),
                        and_(e.payroll_month == (next_month or month), e.approved_by.is_not(None)))))
        .order_by(p.name)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def approvals_of_month(conn: Connection, month: str, next_month: str | None = None) -> dict[str, tuple]:
    """entitlement_id → (approved_by, event_id) of the live approved back pay (before the
    ledger: resume) events of a month."""
    e = events.c
    stmt = select(e.entitlement_id, e.approved_by, e.id).where(
        and_(e.payroll_month.in_((month, next_month or month)), e.kind.in_(("resume", "back_pay")),
             e.voided_at.is_(None), e.approved_by.is_not(None)))
    return {r[0]: (r[1], r[2]) for r in conn.execute(stmt)}


def insert_export(conn: Connection, row: dict) -> None:
    bulk_insert(conn, exports, [row])


def export_records(conn: Connection, month: str | None = None) -> list[dict]:
    stmt = select(exports).order_by(exports.c.exported_at.desc())
    if month:
        stmt = stmt.where(exports.c.payroll_month == month)
    return [dict(r) for r in conn.execute(stmt).mappings()]


# --- deaths and recoveries -------------------------------------------------------------------------


def recovery_cases(conn: Connection, status: str | None = None, person_id: str | None = None) -> list[dict]:
    r, n, p = recoveries.c, entitlements.c, persons.c
    stmt = (
        select(recoveries, n.cohort, n.monthly_amount_fen, p.name, p.id_number, p.death_date)
        .join(entitlements, n.id == r.entitlement_id)
        .join(persons, p.id == r.person_id)
        .order_by(r.created_at.desc())
    )
    if status:
        stmt = stmt.where(r.status == status)
    if person_id:
        stmt = stmt.where(r.person_id == person_id)
    return [dict(x) for x in conn.execute(stmt).mappings()]


def recovery_case(conn: Connection, case_id: str) -> dict | None:
    row = conn.execute(select(recoveries).where(recoveries.c.id == case_id)).mappings().first()
    return dict(row) if row else None


def update_case(conn: Connection, case_id: str, **values) -> None:
    conn.execute(update(recoveries).where(recoveries.c.id == case_id).values(**values))


def instalments_of(conn: Connection, case_ids: Iterable[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for part in _chunks(list(case_ids), 900):
        stmt = select(instalments).where(instalments.c.case_id.in_(part)).order_by(instalments.c.seq)
        for r in conn.execute(stmt).mappings():
            out.setdefault(r["case_id"], []).append(dict(r))
    return out


def replace_plan(conn: Connection, case_id: str, rows: list[dict]) -> None:
    """Cancel the unpaid rows of a plan and add new ones (paid rows stay as history)."""
    conn.execute(update(instalments).where(and_(instalments.c.case_id == case_id, instalments.c.status == "planned"))
                 .values(status="cancelled"))
    if rows:
        conn.execute(insert(instalments), rows)


def update_instalment(conn: Connection, inst_id: str, **values) -> None:
    conn.execute(update(instalments).where(instalments.c.id == inst_id).values(**values))


def live_events_of_person(conn: Connection, person_id: str) -> list[dict]:
    e, n = events.c, entitlements.c
    stmt = (
        select(events).join(entitlements, n.id == e.entitlement_id)
        .where(and_(n.person_id == person_id, e.voided_at.is_(None)))
        .order_by(e.payroll_month, e.created_at)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def max_recorded_month(conn: Connection) -> str | None:
    """The latest payroll month that has recorded events (the last run)."""
    return conn.execute(select(func.max(events.c.payroll_month))).scalar()


# Persons with a certification that did not pass: for everyone else the latest certification of
# any result is the latest passed one, which the (person_id, cert_date) index answers alone
# (a covering index read, no table row per person). Few persons are in this set.
_NOT_PASSED = "SELECT f.person_id FROM certifications f WHERE f.result <> 'passed'"


def _greatest(conn: Connection) -> str:
    return "max" if conn.dialect.name == "sqlite" else "greatest"


def _effective_last(conn: Connection, not_passed: str = _NOT_PASSED) -> str:
    """SQL for an entitlement's effective ``last`` (alias ``e``, parameter ``:asof``): the person's
    latest passed certification up to ``as_of``, or the start date when that is later (or there
    is none).

    The latest certification is a correlated scalar subquery answered from the
    (person_id, cert_date) index — one index seek per entitlement, no GROUP BY over the whole
    table and no per-person dictionary (as ``repositories.stream_payroll_rows``); for persons
    without a failed certification the seek does not even read the table row."""
    passed = ("(SELECT max(c.cert_date) FROM certifications c WHERE c.person_id = e.person_id "
              "AND c.result = 'passed' AND c.cert_date <= :asof)")
    any_result = ("(SELECT max(c.cert_date) FROM certifications c WHERE c.person_id = e.person_id "
                  "AND c.cert_date <= :asof)")
    last = f"CASE WHEN e.person_id IN ({not_passed}) THEN {passed} ELSE {any_result} END"
    return f"{_greatest(conn)}(e.start_date, coalesce({last}, e.start_date))"


def _cohort_case(values: dict[str, object], prefix: str, params: dict, alias: str = "e") -> str:
    """``CASE e.cohort WHEN :c THEN :v … END`` over bound parameters (NULL for other cohorts)."""
    whens = []
    for i, (cohort, value) in enumerate(sorted(values.items())):
        params[f"{prefix}c{i}"], params[f"{prefix}v{i}"] = cohort, value
        whens.append(f"WHEN :{prefix}c{i} THEN :{prefix}v{i}")
    return f"CASE {alias}.cohort " + " ".join(whens) + " END"


def _param_date(conn: Connection, d: date):
    return d.isoformat() if conn.dialect.name == "sqlite" else d


def _no_flatten(conn: Connection) -> str:
    """Keeps a FROM subquery a co-routine (each computed column evaluated once per row)."""
    return " LIMIT -1 OFFSET 0" if conn.dialect.name == "sqlite" else " OFFSET 0"


def outreach_candidates(conn: Connection, as_of: date, bounds: dict[str, tuple[date, date]]) -> list[tuple]:
    """Active entitlements of living persons whose effective ``last`` (latest passed certification
    up to ``as_of``, or the start date when later) lies within the per-cohort bounds, with the
    person's card: (eid, pid, cohort, last ISO, name, id_number, phone, address, residence).

    The bounds come from the rule table (the caller inverts the clock), so no entitlement is
    visited unless its ``last`` can qualify. Three disjoint parts, by where ``last`` comes from:

    ``by_cert``   persons whose certifications all passed: one ordered pass over the
                  (person_id, cert_date) index (covering: no table rows) gives each person's
                  latest date; only the dates inside one of the cohorts' ranges are joined to
                  their entitlements (index seek) and checked against that cohort's range;
    ``by_start``  the same persons' entitlements that started after their latest certification
                  (or have none): start dates in range, checked with one index probe each;
    ``mixed``     persons with a failed certification (few): the exact per-entitlement subquery.

    Persons are read (by primary key) only for the rows that qualify."""
    ranges = sorted({(lo, hi) for lo, hi in bounds.values() if lo <= hi})
    if not ranges:
        return []
    sqlite = conn.dialect.name == "sqlite"
    params: dict = {"asof": _param_date(conn, as_of)}
    lo_e = _cohort_case({c: _param_date(conn, b[0]) for c, b in bounds.items()}, "lo", params)
    hi_e = _cohort_case({c: _param_date(conn, b[1]) for c, b in bounds.items()}, "hi", params)
    any_range = []
    for i, (lo, hi) in enumerate(ranges):
        params[f"rlo{i}"], params[f"rhi{i}"] = _param_date(conn, lo), _param_date(conn, hi)
        any_range.append(f"l.last BETWEEN :rlo{i} AND :rhi{i}")
    join = "CROSS JOIN" if sqlite else "JOIN"  # SQLite: keep the left side as the outer loop
    by_cert = (
        f"SELECT e.id, e.person_id, e.cohort, l.last AS eff "
        f"FROM (SELECT c.person_id, max(c.cert_date) AS last FROM certifications c WHERE c.cert_date <= :asof "
        f"      GROUP BY c.person_id{_no_flatten(conn)}) l "
        f"{join} entitlements e ON e.person_id = l.person_id "
        f"WHERE ({' OR '.join(any_range)}) AND l.person_id NOT IN (SELECT person_id FROM np) "
        f"AND e.status = 'active' AND l.last >= e.start_date AND l.last BETWEEN {lo_e} AND {hi_e}"
    )
    by_start = (
        "SELECT e.id, e.person_id, e.cohort, e.start_date AS eff FROM entitlements e "
        f"WHERE e.status = 'active' AND e.start_date BETWEEN {lo_e} AND {hi_e} "
        "AND e.person_id NOT IN (SELECT person_id FROM np) "
        "AND NOT EXISTS (SELECT 1 FROM certifications c WHERE c.person_id = e.person_id "
        "                AND c.cert_date >= e.start_date AND c.cert_date <= :asof)"
    )
    eff = _effective_last(conn, "SELECT person_id FROM np")
    mixed = (
        f"SELECT x.id, x.person_id, x.cohort, x.eff FROM ("
        f"  SELECT e.id, e.person_id, e.cohort, {eff} AS eff, {lo_e} AS lo, {hi_e} AS hi FROM entitlements e "
        f"  WHERE e.status = 'active' AND e.person_id IN (SELECT person_id FROM np){_no_flatten(conn)}) x "
        f"WHERE x.eff BETWEEN x.lo AND x.hi"
    )
    sql = (
        f"WITH np AS ({_NOT_PASSED}) "
        f"SELECT q.id, q.person_id, q.cohort, q.eff, p.name, p.id_number, p.phone, p.address, p.residence "
        f"FROM ({by_cert} UNION ALL {by_start} UNION ALL {mixed}) q {join} persons p ON p.id = q.person_id "
        f"WHERE p.death_date IS NULL"
    )
    if sqlite:
        # A quarter of a million rows is a normal answer: the driver's own cursor gives plain
        # tuples in one fetchall (no Row objects), and dates are stored as ISO text already.
        cur = conn.connection.driver_connection.cursor()
        try:
            cur.execute(sql, params)
            return cur.fetchall()
        finally:
            cur.close()
    rows = conn.execute(text(sql), params).all()
    return [(r[0], r[1], r[2], _iso(r[3]), r[4], r[5], r[6], r[7], r[8]) for r in rows]


def coverage_counts(conn: Connection, as_of: date, thresholds: dict[str, tuple[date, date, date]]) -> list[tuple[str, str, int]]:
    """(cohort, status, n) over the living persons' entitlements that are not terminated, counted
    in SQL. ``thresholds`` gives per cohort the latest effective ``last`` that is still
    (suspended, overdue, due_soon) on ``as_of`` — the caller inverts the rule table; a later
    ``last`` is the next status, and after the third, valid. A stored ``suspended`` status wins.

    One pass over the entitlements with each ``last`` answered from the (person_id, cert_date)
    index; the dead are excluded with one pass over persons (no per-row person lookup)."""
    if not thresholds:
        return []
    params: dict = {"asof": _param_date(conn, as_of)}
    cases = [_cohort_case({c: _param_date(conn, t[k]) for c, t in thresholds.items()}, f"t{k}_", params)
             for k in range(3)]
    sql = text(
        f"WITH np AS ({_NOT_PASSED}) "
        "SELECT x.cohort, CASE WHEN x.status = 'suspended' OR x.eff <= x.s THEN 'suspended' "
        "                      WHEN x.eff <= x.o THEN 'overdue' WHEN x.eff <= x.d THEN 'due_soon' "
        "                      ELSE 'valid' END AS st, count(*) "
        f"FROM (SELECT e.cohort, e.status, {_effective_last(conn, 'SELECT person_id FROM np')} AS eff, "
        f"             {cases[0]} AS s, {cases[1]} AS o, {cases[2]} AS d "
        "      FROM entitlements e WHERE e.status <> 'terminated' "
        "      AND e.person_id NOT IN (SELECT d.id FROM persons d WHERE d.death_date IS NOT NULL)"
        f"{_no_flatten(conn)}) x "
        "GROUP BY x.cohort, st"
    )
    return [(r[0], r[1], int(r[2])) for r in conn.execute(sql, params)]


def unprocessed_deaths(conn: Connection, person_id: str | None = None) -> list[dict]:
    """Entitlements of persons with a death date that are not terminated and have no live
    ``terminate`` event (no payroll run or death report has stopped them), one row each:
    person_id, name, id_number, death_date, death_source, entitlement_id, cohort — the
    earliest deaths first."""
    p, n, e = persons.c, entitlements.c, events.c
    stopped = select(e.id).where(and_(e.entitlement_id == n.id, e.kind == "terminate", e.voided_at.is_(None))).exists()
    stmt = (
        select(p.id.label("person_id"), p.name, p.id_number, p.death_date, p.death_source,
               n.id.label("entitlement_id"), n.cohort)
        .join(entitlements, n.person_id == p.id)
        .where(and_(p.death_date.is_not(None), n.status != "terminated", ~stopped))
        .order_by(p.death_date, p.name, n.cohort)
    )
    if person_id is not None:
        stmt = stmt.where(p.id == person_id)
    return [dict(r) for r in conn.execute(stmt).mappings()]
