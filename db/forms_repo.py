"""Queries and writes for assist forms (协助认证表, table ``assist_forms``).

Like :mod:`db.repositories`: no business rules, the caller owns the transaction, plain rows out.
"""

from __future__ import annotations

from datetime import date
from typing import Sequence

from sqlalchemy import Connection, and_, func, insert, select, update

from db.models import AssistForm, Certification, Entitlement, Person

forms = AssistForm.__table__
persons = Person.__table__
entitlements = Entitlement.__table__
certifications = Certification.__table__

# Columns of the person printed on a form or shown in a tracking list.
_PERSON_COLS = (
    persons.c.id_number,
    persons.c.name,
    persons.c.sex,
    persons.c.phone,
    persons.c.address,
    persons.c.residence,
    persons.c.death_date,
)


def last_serial(conn: Connection, prefix: str) -> str | None:
    """The highest serial starting with ``prefix`` (serials of one prefix share a width, so the
    longest-then-greatest string is the highest number even past the zero-padded width)."""
    stmt = (
        select(forms.c.serial)
        .where(forms.c.serial.like(prefix + "%"))
        .order_by(func.length(forms.c.serial).desc(), forms.c.serial.desc())
        .limit(1)
    )
    return conn.execute(stmt).scalar()


def insert_forms(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(forms), rows)


def form_by_serial(conn: Connection, serial: str) -> dict | None:
    stmt = (
        select(forms, *_PERSON_COLS)
        .join(persons, persons.c.id == forms.c.person_id)
        .where(forms.c.serial == serial)
    )
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def forms_with_status(conn: Connection, status: str, *, deadline_before: date | None = None,
                      limit: int | None = None) -> list[dict]:
    """Forms of a status with their person, earliest deadline first."""
    cond = forms.c.status == status
    if deadline_before is not None:
        cond = and_(cond, forms.c.deadline < deadline_before)
    stmt = (
        select(forms, *_PERSON_COLS)
        .join(persons, persons.c.id == forms.c.person_id)
        .where(cond)
        .order_by(forms.c.deadline, persons.c.name, forms.c.serial)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def remote_persons_without_outstanding_form(conn: Connection) -> list[dict]:
    """Living remote (异地) residents who have no outstanding form, with their person columns."""
    has_form = (
        select(forms.c.id)
        .where(and_(forms.c.person_id == persons.c.id, forms.c.status == "outstanding"))
        .exists()
    )
    stmt = (
        select(persons.c.id, *_PERSON_COLS, persons.c.birth_date)
        .where(and_(persons.c.residence == "remote", persons.c.death_date.is_(None), ~has_form))
        .order_by(persons.c.id)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def mark_printed(conn: Connection, form_id: str) -> int:
    return conn.execute(
        update(forms).where(forms.c.id == form_id).values(printed_count=forms.c.printed_count + 1)
    ).rowcount


def mark_received(conn: Connection, form_id: str, values: dict) -> int:
    """Close an outstanding form; returns 0 when it was no longer outstanding (received elsewhere)."""
    return conn.execute(
        update(forms)
        .where(and_(forms.c.id == form_id, forms.c.status == "outstanding"))
        .values(status="received", **values)
    ).rowcount


def mark_cancelled(conn: Connection, form_id: str) -> int:
    return conn.execute(
        update(forms)
        .where(and_(forms.c.id == form_id, forms.c.status == "outstanding"))
        .values(status="cancelled")
    ).rowcount


def form_row(conn: Connection, form_id: str) -> dict | None:
    row = conn.execute(select(forms).where(forms.c.id == form_id)).mappings().first()
    return dict(row) if row else None


def certifications_by_method(conn: Connection, person_id: str, method: str) -> list[dict]:
    stmt = select(certifications).where(
        and_(certifications.c.person_id == person_id, certifications.c.method == method)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def entitlements_of_persons(conn: Connection, person_ids: Sequence[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    ids = list(person_ids)
    for i in range(0, len(ids), 800):
        stmt = select(entitlements).where(entitlements.c.person_id.in_(ids[i:i + 800]))
        for r in conn.execute(stmt).mappings():
            out.setdefault(r["person_id"], []).append(dict(r))
    return out
