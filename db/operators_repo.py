"""SQL for operator accounts and the counter's own audit queries (no business rules here)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from db.models import AuditEvent, Certification, Operator

_op = Operator.__table__
_audit = AuditEvent.__table__
_cert = Certification.__table__

COLUMNS = ("id", "username", "display_name", "role", "password_hash", "active", "failed_attempts",
           "locked_until", "must_change_password", "created_at", "updated_at")


def count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(_op)).scalar_one()


def by_username(conn: Connection, username: str) -> dict | None:
    row = conn.execute(select(_op).where(func.lower(_op.c.username) == username.strip().lower())).mappings().first()
    return dict(row) if row else None


def all_operators(conn: Connection) -> list[dict]:
    return [dict(r) for r in conn.execute(select(_op).order_by(_op.c.role, _op.c.username)).mappings()]


def insert(conn: Connection, row: dict) -> None:
    conn.execute(_op.insert().values(**row))


def update(conn: Connection, operator_id: str, **values) -> None:
    conn.execute(_op.update().where(_op.c.id == operator_id).values(**values))


def audit_since(conn: Connection, actions: tuple[str, ...], since: datetime, workstation: str | None = None) -> list[dict]:
    stmt = select(_audit.c.ts, _audit.c.operator, _audit.c.workstation, _audit.c.action, _audit.c.detail).where(
        _audit.c.action.in_(actions), _audit.c.ts >= since)
    if workstation is not None:
        stmt = stmt.where(_audit.c.workstation == workstation)
    return [dict(r) for r in conn.execute(stmt.order_by(_audit.c.seq)).mappings()]


def certifications_on(conn: Connection, cert_date, workstation: str | None = None) -> list[dict]:
    stmt = select(_cert.c.id, _cert.c.person_id, _cert.c.method, _cert.c.result, _cert.c.operator,
                  _cert.c.approver, _cert.c.workstation).where(_cert.c.cert_date == cert_date)
    if workstation is not None:
        stmt = stmt.where(_cert.c.workstation == workstation)
    return [dict(r) for r in conn.execute(stmt).mappings()]
