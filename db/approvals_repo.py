"""SQL for the supervisor's approval list (no business rules here): entitlement events that wait
for a supervisor (a resumption after a suspension of more than 12 months)."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from db.models import Entitlement, EntitlementEvent, Person

_ev = EntitlementEvent.__table__
_ent = Entitlement.__table__
_p = Person.__table__


def pending(conn: Connection, limit: int = 2000) -> list[dict]:
    """Live events with ``needs_approval`` and no approver yet, oldest payroll month first."""
    stmt = (
        select(_ev.c.id, _ev.c.kind, _ev.c.payroll_month, _ev.c.effective_month, _ev.c.detail, _ev.c.operator,
               _ev.c.workstation, _ev.c.created_at, _ent.c.id.label("entitlement_id"), _ent.c.cohort,
               _p.c.id.label("person_id"), _p.c.name, _p.c.id_number)
        .select_from(_ev.join(_ent, _ent.c.id == _ev.c.entitlement_id).join(_p, _p.c.id == _ent.c.person_id))
        .where(and_(_ev.c.needs_approval.is_(True), _ev.c.approved_by.is_(None), _ev.c.voided_at.is_(None)))
        .order_by(_ev.c.payroll_month, _p.c.name, _ev.c.id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def event(conn: Connection, event_id: str) -> dict | None:
    row = conn.execute(select(_ev).where(_ev.c.id == event_id)).mappings().first()
    return dict(row) if row else None
