"""Home visits (上门认证, docs/domain.md §6): queries and writes. No business rules."""

from __future__ import annotations

from datetime import date
from typing import Sequence

from sqlalchemy import Connection, insert, select, update

from db.models import HomeVisit, Person

_v = HomeVisit.__table__
_p = Person.__table__

OPEN = ("booked", "scheduled")


def insert_visit(conn: Connection, row: dict) -> None:
    conn.execute(insert(_v), [row])


def update_visit(conn: Connection, visit_id: str, **values) -> int:
    return conn.execute(update(_v).where(_v.c.id == visit_id).values(**values)).rowcount


def visit_by_id(conn: Connection, visit_id: str) -> dict | None:
    row = conn.execute(select(_v).where(_v.c.id == visit_id)).mappings().first()
    return dict(row) if row else None


def _with_person():
    return select(_v, _p.c.name.label("person_name"), _p.c.id_number.label("person_id_number")).join(
        _p, _p.c.id == _v.c.person_id
    )


def visit_with_person(conn: Connection, visit_id: str) -> dict | None:
    row = conn.execute(_with_person().where(_v.c.id == visit_id)).mappings().first()
    return dict(row) if row else None


def list_visits(conn: Connection, *, status: Sequence[str] | None = None, staff: str | None = None,
                start: date | None = None, end: date | None = None, limit: int = 1000) -> list[dict]:
    stmt = _with_person()
    if status:
        stmt = stmt.where(_v.c.status.in_(list(status)))
    if staff:
        stmt = stmt.where(_v.c.staff == staff)
    if start:
        stmt = stmt.where(_v.c.scheduled_date >= start)
    if end:
        stmt = stmt.where(_v.c.scheduled_date <= end)
    stmt = stmt.order_by(_v.c.scheduled_date.is_(None), _v.c.scheduled_date, _v.c.created_at).limit(limit)
    return [dict(r) for r in conn.execute(stmt).mappings()]
