"""Reads and writes for merging a person created here onto the central one (docs/sync.md §3.4).

Persistence only: what is merged, and the case it leaves, is decided by
``desktop/services/sync_policy.merge_persons``; these are its steps, each inside the caller's
local transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from db.sync.tables import ENTITY_TABLE, TABLES, SyncTable, _apply, _outbox, set_state


def refs(parent: str) -> list[tuple[SyncTable, str]]:
    """Synced tables and columns referring to ``parent`` (persons or entitlements)."""
    out = []
    for st in TABLES.values():
        for fk in st.table.foreign_keys:
            if fk.column.table.name == parent:
                out.append((st, fk.parent.name))
    if parent == "persons":
        out.append((TABLES["sync_conflicts"], "person_id"))
    return out


def begin(lc: Connection, now: datetime) -> None:
    """Open the merge's write transaction (a write first) with foreign keys checked at commit."""
    set_state(lc, "last_person_merge", now.isoformat())
    if lc.dialect.name == "sqlite":
        lc.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # checked at commit; reset after it


def person(lc: Connection, person_id: str) -> dict | None:
    pt = TABLES["persons"].table
    row = lc.execute(select(pt).where(pt.c.id == person_id)).mappings().first()
    return dict(row) if row is not None else None


def entitlements_of(lc: Connection, person_id: str) -> list[dict]:
    et = TABLES["entitlements"].table
    return [dict(r) for r in lc.execute(select(et).where(et.c.person_id == person_id)).mappings()]


def replace(lc: Connection, name: str, old_keys: list[str], new_rows: list[dict]) -> None:
    """Delete the local rows ``old_keys`` of ``name`` and store ``new_rows`` (central copies) instead."""
    st = TABLES[name]
    for key in old_keys:
        lc.execute(st.table.delete().where(st.table.c[st.key] == key))
    _apply(lc, st, new_rows, central=False)


def restore(lc: Connection, name: str, rows: list[dict]) -> None:
    """Overwrite local rows of ``name`` with the central ones."""
    _apply(lc, TABLES[name], rows, central=False)


def repoint(lc: Connection, st: SyncTable, col: str, old: str, new: str) -> list[str]:
    """Point ``st.col`` from ``old`` to ``new``; returns the keys of the rows changed."""
    t = st.table
    keys = [str(k) for k in lc.execute(select(t.c[st.key]).where(t.c[col] == old)).scalars()]
    if keys:
        lc.execute(update(t).where(t.c[col] == old).values({col: new}))
    return keys


def close_entries(lc: Connection, entities: list[tuple[str, str]], marker: str, now: datetime) -> None:
    """Mark the waiting outbox entries of ``(entity, id)`` done with ``marker`` as their note."""
    for entity, eid in entities:
        lc.execute(update(_outbox).where(_outbox.c.entity == entity, _outbox.c.entity_id == eid,
                                         _outbox.c.pushed_at.is_(None))
                   .values(pushed_at=now, push_error=marker))


def retry_entries(lc: Connection, table: str, key: str) -> None:
    """Clear the refusal of waiting entries for the row ``key`` of ``table`` (pushed again)."""
    entities = [e for e, t in ENTITY_TABLE.items() if t == table]
    lc.execute(update(_outbox).where(_outbox.c.entity.in_(entities), _outbox.c.entity_id == key,
                                     _outbox.c.pushed_at.is_(None), _outbox.c.push_error.isnot(None))
               .values(push_error=None))
