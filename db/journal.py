"""The audit log (hash-chained per workstation) and the sync outbox, written in the caller's
transaction so a change, its audit event and its outbox entry commit or vanish together."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import Connection, insert, select

from db.bulk import _iso_datetime, bulk_insert, insert_rows
from db.models import AuditEvent, OutboxEntry, new_id, utcnow

_audit = AuditEvent.__table__
_outbox = OutboxEntry.__table__
OUTBOX = _outbox


_encode = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":")).encode


def _dumps(value: Any) -> str:
    return _encode(value)


def event_hash(prev_hash: str | None, row: dict) -> str:
    """SHA-256 over the previous hash and the event's fields, unit-separated (\x1f)."""
    ts = row["ts"]
    ts = ts.isoformat(sep=" ") if isinstance(ts, datetime) else str(ts)
    body = "\x1f".join(
        (prev_hash or "", row["id"], ts, row.get("operator") or "", row.get("workstation") or "",
         row["action"], row.get("entity") or "", row.get("entity_id") or "", row.get("detail") or "")
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# engine -> (device id, key): an enrolled workstation MACs the events of its own chain with its
# per-device key (held in the OS key store; registered by desktop.services.central).
_mac_keys: dict[int, tuple[str, bytes]] = {}


def register_mac_key(engine, device_id: str, key: bytes) -> None:
    _mac_keys[id(engine)] = (device_id, key)


def mac_key_for(engine) -> tuple[str, bytes] | None:
    return _mac_keys.get(id(engine))


def event_mac(key: bytes, event_hash_hex: str) -> str:
    """HMAC-SHA256 of an event's hash (which covers its content and its predecessor)."""
    return hmac.new(key, b"certdesk-audit|" + event_hash_hex.encode("ascii"), hashlib.sha256).hexdigest()


def last_hash(conn: Connection, workstation: str | None) -> str | None:
    stmt = select(_audit.c.hash).where(_audit.c.workstation == workstation).order_by(_audit.c.seq.desc()).limit(1)
    return conn.execute(stmt).scalar()


def audit_many(conn: Connection, operator: str | None, workstation: str | None, events: Iterable[tuple]) -> int:
    """Append events ``(action, entity, entity_id, detail_dict)``; returns how many."""
    prev = last_hash(conn, workstation)
    mk = _mac_keys.get(id(conn.engine))
    mac_key = mk[1] if mk is not None and mk[0] == workstation else None
    now = utcnow()
    rows = []
    for action, entity, entity_id, detail in events:
        row = {
            "id": new_id(),
            "ts": now,
            "operator": operator,
            "workstation": workstation,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "detail": _dumps(detail) if detail is not None else None,
        }
        row["prev_hash"] = prev
        row["hash"] = prev = event_hash(prev, row)
        if mac_key is not None:
            row["mac"] = event_mac(mac_key, row["hash"])
        rows.append(row)
    bulk_insert(conn, _audit, rows)
    return len(rows)


def audit(conn: Connection, operator, workstation, action, entity=None, entity_id=None, detail=None) -> None:
    audit_many(conn, operator, workstation, [(action, entity, entity_id, detail)])


def enqueue(conn: Connection, changes: Iterable[tuple[str, str, dict]], op: str = "upsert") -> int:
    """Queue ``(entity, entity_id, payload)`` changes for the central database. The payload is
    informational (the sync pushes the current row); ``None`` skips it for bulk work."""
    now = utcnow()
    rows = [
        {"id": new_id(), "entity": e, "entity_id": i, "op": op, "payload": None if p is None else _dumps(p),
         "created_at": now}
        for e, i, p in changes
    ]
    bulk_insert(conn, _outbox, rows)
    return len(rows)


# ids per bulk outbox entry: small enough that a push batch can be cut near its size, large
# enough that a million-row import writes a thousand entries instead of millions
BULK_ITEMS = 1000


def enqueue_bulk(conn: Connection, entity: str, ids: Sequence[str], now: datetime | None = None) -> int:
    """Queue many records of one ``entity`` as a few ``op = 'bulk'`` entries (bulk imports).

    Each entry names up to :data:`BULK_ITEMS` ids (``payload``: a JSON array; ``item_count``: how
    many; ``entity_id``: the first). The sync expands an entry where it stands in ``seq`` order,
    so everything queued before it is pushed first and everything after it later — the same
    order as one entry per record, at a fraction of the cost (one row instead of a thousand).
    Returns the number of entries written."""
    if not ids:
        return 0
    now_s = _iso_datetime(now or utcnow())
    ids = list(ids)
    rows = []
    for k in range(0, len(ids), BULK_ITEMS):
        part = ids[k:k + BULK_ITEMS]
        rows.append((new_id(), entity, part[0], "bulk", _dumps(part), now_s, len(part)))
    insert_rows(conn, _outbox, ("id", "entity", "entity_id", "op", "payload", "created_at", "item_count"), rows)
    return len(rows)


def entry_ids(op: str | None, entity_id: str, payload: str | None) -> list[str]:
    """The record ids an outbox entry stands for: its ``entity_id``, or a bulk entry's list."""
    if op == "bulk" and payload:
        return [str(i) for i in json.loads(payload)]
    return [str(entity_id)]


def queued(conn: Connection, *, pending: bool = False) -> list[tuple[str, str]]:
    """``(entity, id)`` of every record in the outbox (or only those waiting), bulk entries
    expanded, in push order."""
    stmt = select(_outbox.c.entity, _outbox.c.entity_id, _outbox.c.op, _outbox.c.payload).order_by(_outbox.c.seq)
    if pending:
        stmt = stmt.where(_outbox.c.pushed_at.is_(None))
    return [(e, i) for e, eid, op, payload in conn.execute(stmt) for i in entry_ids(op, eid, payload)]


def row_payload(row: dict) -> dict:
    """A record as JSON-able data for the outbox (dates and datetimes as ISO text)."""
    return {k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in row.items()}


def iter_audit(conn: Connection):
    """Every audit event in insertion order (for chain verification)."""
    stmt = select(_audit).order_by(_audit.c.seq)
    return conn.execution_options(yield_per=10_000).execute(stmt).mappings()
