"""Sync cases (``sync_conflicts``): reading, recording and closing them (docs/sync.md §3).

Persistence only. Which case a sync outcome opens is decided by the callers (push and pull for
refused rows, ``desktop/services/sync_policy.py`` for merged persons and the centre's authority).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from db.models import utcnow
from db.sync.tables import CONFLICT_NS, TABLES, _conflicts, _pg_insert


def case_id(ident: str) -> str:
    """The case's id: the same event on any workstation makes the same case."""
    return str(uuid.uuid5(CONFLICT_NS, ident))


def insert_case(conn: Connection, row: dict) -> int:
    """Record a case unless one with its id exists; returns 1 when it was new."""
    ins = sqlite_insert(_conflicts) if conn.dialect.name == "sqlite" else _pg_insert(_conflicts)
    return conn.execute(ins.on_conflict_do_nothing(index_elements=["id"]), [row]).rowcount or 0


def conflict_json(row: dict) -> dict:
    detail = json.loads(row["detail"]) if row.get("detail") else {}
    return {"id": row["id"], "kind": row["kind"], "person_id": row.get("person_id"), "entity": row.get("entity"),
            "entity_id": row.get("entity_id"), "status": row.get("status"), "workstation": row.get("workstation"),
            **detail}


def _local_conflict(lc: Connection, kind: str, entity: str, entity_id: str, error: str) -> dict:
    now = utcnow()
    row = {"id": case_id(f"{kind}:{entity}:{entity_id}"), "kind": kind, "entity": entity,
           "entity_id": entity_id, "person_id": None, "detail": json.dumps({"error": error}), "workstation": None,
           "status": "open", "resolved_by": None, "resolved_at": None, "created_at": now, "updated_at": now}
    insert_case(lc, row)
    return conflict_json(row)


def open_conflicts(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [conflict_json(dict(r)) for r in conn.execute(
            select(_conflicts).where(_conflicts.c.status == "open").order_by(_conflicts.c.created_at)).mappings()]


def conflict_rows(conn: Connection, status: str | None = "open", limit: int = 1000) -> list[dict]:
    """Sync cases with the person's name and ID number (the caller masks it), newest first."""
    pt = TABLES["persons"].table
    stmt = (select(_conflicts, pt.c.name.label("person_name"), pt.c.id_number.label("person_id_number"))
            .select_from(_conflicts.outerjoin(pt, pt.c.id == _conflicts.c.person_id))
            .order_by(_conflicts.c.created_at.desc(), _conflicts.c.id).limit(limit))
    if status is not None:
        stmt = stmt.where(_conflicts.c.status == status)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def conflict_row(conn: Connection, conflict_id: str) -> dict | None:
    row = conn.execute(select(_conflicts).where(_conflicts.c.id == conflict_id)).mappings().first()
    return dict(row) if row else None


def resolve_conflict(conn: Connection, conflict_id: str, resolved_by: str, note: str, when: datetime) -> int:
    """Close an open case; the note goes into ``detail.resolution_note``. Returns rows changed."""
    row = conflict_row(conn, conflict_id)
    if row is None or row["status"] != "open":
        return 0
    detail = json.loads(row["detail"]) if row.get("detail") else {}
    detail["resolution_note"] = note
    return conn.execute(update(_conflicts).where(_conflicts.c.id == conflict_id, _conflicts.c.status == "open").values(
        status="resolved", resolved_by=resolved_by, resolved_at=when, updated_at=when,
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True))).rowcount or 0
