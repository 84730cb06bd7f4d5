"""Queries and writes of the core tables: persons, entitlements, certifications (written),
payroll events, recoveries, forms. No business rules here: callers decide, this stores.

Functions take a SQLAlchemy ``Connection`` (the caller owns the transaction) and return plain
rows/mappings. IN-lists are chunked to stay under SQLite's parameter limit.

Beside this module: :mod:`db.bulk` (the bulk-write primitives and chunking),
:mod:`db.certification_queries` (what counts as certified: the queries that decide money),
:mod:`db.import_repo` (import batches, amount history, red-flag cases).
"""

from __future__ import annotations

from datetime import date
from typing import Iterable, Sequence

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from db.bulk import _chunks, bulk_insert
from db.models import (
    AssistForm,
    Certification,
    Entitlement,
    EntitlementEvent,
    Person,
    RecoveryCase,
)

persons = Person.__table__
entitlements = Entitlement.__table__
certifications = Certification.__table__
events = EntitlementEvent.__table__
recoveries = RecoveryCase.__table__
forms = AssistForm.__table__


def rule_rows(conn: Connection) -> list[dict]:
    """The clock's rule table (cycle_rules)."""
    from db.models import CycleRule

    return [dict(r) for r in conn.execute(select(CycleRule.__table__)).mappings()]


# --- persons -------------------------------------------------------------------------------


def persons_by_numbers(conn: Connection, numbers: Sequence[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for part in _chunks(list(numbers)):
        for row in conn.execute(select(persons).where(persons.c.id_number.in_(part))).mappings():
            out[row["id_number"]] = dict(row)
    return out


def person_by_number(conn: Connection, number: str) -> dict | None:
    row = conn.execute(select(persons).where(persons.c.id_number == number)).mappings().first()
    return dict(row) if row else None


def person_by_id(conn: Connection, person_id: str) -> dict | None:
    row = conn.execute(select(persons).where(persons.c.id == person_id)).mappings().first()
    return dict(row) if row else None


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_persons(conn: Connection, text: str, limit: int = 200) -> list[dict]:
    """By ID number (prefix or last digits) or name (prefix or substring). Bound parameters
    only; LIKE wildcards typed by the user are escaped."""
    text = text.strip()[:64]
    if not text:
        return []
    pattern = escape_like(text)
    if text[:1].isdigit():
        cond = or_(
            persons.c.id_number.like(pattern + "%", escape="\\"),
            persons.c.id_number.like("%" + pattern, escape="\\"),
        )
    else:
        cond = persons.c.name.like("%" + pattern + "%", escape="\\")
    stmt = select(persons).where(cond).order_by(persons.c.name, persons.c.id_number).limit(limit)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def set_death(conn: Connection, person_id: str, death_date: date | None, source: str | None, when, by) -> None:
    conn.execute(
        update(persons)
        .where(persons.c.id == person_id)
        .values(death_date=death_date, death_source=source, updated_at=when, updated_by=by)
    )


# --- entitlements ----------------------------------------------------------------------------


def entitlements_for_persons(conn: Connection, person_ids: Sequence[str]) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict] = {}
    for part in _chunks(list(person_ids)):
        for row in conn.execute(select(entitlements).where(entitlements.c.person_id.in_(part))).mappings():
            out[(row["person_id"], row["cohort"])] = dict(row)
    return out


def entitlements_of(conn: Connection, person_id: str) -> list[dict]:
    stmt = select(entitlements).where(entitlements.c.person_id == person_id).order_by(entitlements.c.start_date)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def set_entitlement_status(conn: Connection, rows: list[dict]) -> None:
    """rows: {"eid", "status", "status_since", "updated_at"}."""
    if rows:
        stmt = (
            update(entitlements)
            .where(entitlements.c.id == bindparam("eid"))
            .values(status=bindparam("status"), status_since=bindparam("status_since"), updated_at=bindparam("updated_at"))
        )
        conn.execute(stmt, rows)


def stream_payroll_rows(conn: Connection, last_cert_on_or_before: date):
    """Streams one tuple per entitlement: (entitlement_id, person_id, id_number, name, cohort,
    start_date, monthly_fen, death_date, last_passed_certification ≤ the given day).

    The last certification is a correlated subquery answered from the (person_id, cert_date)
    index, so a million entitlements stream in constant memory (no per-person dictionary)."""
    c = certifications.c
    last = (
        select(func.max(c.cert_date))
        .where(and_(c.person_id == entitlements.c.person_id, c.result == "passed", c.cert_date <= last_cert_on_or_before))
        .scalar_subquery()
    )
    stmt = select(
        entitlements.c.id,
        entitlements.c.person_id,
        persons.c.id_number,
        persons.c.name,
        entitlements.c.cohort,
        entitlements.c.start_date,
        entitlements.c.monthly_amount_fen,
        persons.c.death_date,
        last,
    ).join(persons, persons.c.id == entitlements.c.person_id)
    return conn.execution_options(yield_per=20_000).execute(stmt)


# --- certifications --------------------------------------------------------------------------


def insert_certifications(conn: Connection, rows: list[dict]) -> None:
    bulk_insert(conn, certifications, rows)


# --- events ------------------------------------------------------------------------------


def events_of_entitlements(conn: Connection, entitlement_ids: Iterable[str]) -> list[dict]:
    ids = list(entitlement_ids)
    out: list[dict] = []
    for part in _chunks(ids):
        stmt = select(events).where(events.c.entitlement_id.in_(part)).order_by(events.c.payroll_month, events.c.created_at)
        out.extend(dict(r) for r in conn.execute(stmt).mappings())
    return out


def insert_events(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(events), rows)


def void_events(conn: Connection, ids: list[str], when, reason: str) -> None:
    if ids:
        conn.execute(
            update(events).where(events.c.id.in_(ids)).values(voided_at=when, void_reason=reason)
        )


def approve_event(conn: Connection, event_id: str, approver: str, when) -> int:
    return conn.execute(
        update(events)
        .where(and_(events.c.id == event_id, events.c.approved_by.is_(None)))
        .values(approved_by=approver, approved_at=when)
    ).rowcount


# --- recoveries, forms, samples ----------------------------------------------------------


def insert_recoveries(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(recoveries), rows)


def outstanding_forms_of(conn: Connection, person_id: str) -> list[dict]:
    stmt = select(forms).where(and_(forms.c.person_id == person_id, forms.c.status == "outstanding"))
    return [dict(r) for r in conn.execute(stmt).mappings()]


def person_ids_with_status(conn: Connection, status: str) -> list[str]:
    stmt = select(entitlements.c.person_id).where(entitlements.c.status == status).distinct().order_by(entitlements.c.person_id)
    return [r[0] for r in conn.execute(stmt)]


def sample_persons(conn: Connection, n: int) -> list[tuple[str, str]]:
    """(id_number, name) of living persons, in a stable order."""
    stmt = select(persons.c.id_number, persons.c.name).where(persons.c.death_date.is_(None)).order_by(persons.c.id).limit(n)
    return [tuple(r) for r in conn.execute(stmt)]
