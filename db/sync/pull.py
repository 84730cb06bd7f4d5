"""Pull what other workstations did from the central PostgreSQL (docs/sync.md §2).

Persistence only: no Qt, no imports from desktop/. Pull reads the central change log
``sync_changes`` (filled by triggers, ordered by commit thanks to an advisory lock) after this
workstation's cursor, skipping its own origin, fetches the rows and upserts them into the local
SQLite directly — never through ``journal.enqueue`` — so pulled rows are not pushed back. The
cursor moves in the same local transaction. Safe to repeat after any failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from sqlalchemy import Engine, func, select

from db.journal import entry_ids
from db.models import AuditEvent, Certification, Entitlement, EntitlementEvent, utcnow
from db.sync.conflicts import _local_conflict
from db.sync.tables import (
    CENTRAL_OWNED,
    ENTITY_TABLE,
    ORDER,
    TABLES,
    _apply,
    _changes,
    _chunks,
    _fetch,
    _outbox,
    _t,
    central_identity,
    cursor_key,
    get_state,
    set_state,
)


@dataclass
class PullResult:
    pulled: int = 0
    cursor: int = 0
    conflicts: list[dict] = field(default_factory=list)


_FK_PARENTS = {  # table -> [(column, parent table)]
    "entitlements": [("person_id", "persons")],
    "certifications": [("person_id", "persons")],
    "entitlement_events": [("entitlement_id", "entitlements")],
    "recovery_cases": [("entitlement_id", "entitlements"), ("person_id", "persons")],
    "entitlement_amounts": [("entitlement_id", "entitlements")],
    "assist_forms": [("person_id", "persons")],
    "home_visits": [("person_id", "persons")],
}


def central_head(central: Engine) -> int:
    with central.connect() as cc:
        return cc.execute(select(func.coalesce(func.max(_changes.c.seq), 0))).scalar_one()


def pull(local: Engine, central: Engine, workstation: str, *, batch: int = 20000, identity: str | None = None) -> PullResult:
    """Apply central changes made by anyone but ``workstation`` since the cursor."""
    key = cursor_key(identity or central_identity(central))
    result = PullResult()
    with local.connect() as lc:
        cursor = int(get_state(lc, key, "0"))
    while True:
        with central.connect() as cc:
            changes = cc.execute(
                select(_changes.c.seq, _changes.c.entity, _changes.c.entity_id, _changes.c.origin)
                .where(_changes.c.seq > cursor).order_by(_changes.c.seq).limit(batch)
            ).all()
            if not changes:
                break
            wanted: dict[str, set[str]] = {}
            for _seq, entity, entity_id, origin in changes:
                if origin != workstation and entity in TABLES:
                    wanted.setdefault(entity, set()).add(entity_id)
            rows = {name: _fetch(cc, TABLES[name], keys) for name, keys in wanted.items()}
        new_cursor = changes[-1][0]
        n, conflicts = apply_rows(local, central, rows, cursor_state=(key, new_cursor))
        result.pulled += n
        result.conflicts.extend(conflicts)
        cursor = new_cursor
        if len(changes) < batch:
            break
    result.cursor = cursor
    return result


def apply_rows(local: Engine, central: Engine | None, rows: dict[str, list[dict]], *,
               cursor_state: tuple[str, int] | None = None) -> tuple[int, list[dict]]:
    """Upsert central rows into the local database in one transaction (no outbox entries).

    Parents a partial copy lacks (a field laptop holds only its visits' people) are fetched from
    the central database first. Returns (rows applied, local conflicts).
    """
    if central is not None:
        _complete_parents(local, central, rows)
    audit_ids = {r["id"] for r in rows.get("audit_log", [])}
    applied = 0
    conflicts: list[dict] = []
    with local.begin() as lc:
        # The first statement writes, so SQLite takes its write lock before anything is read.
        if cursor_state is not None:
            set_state(lc, *cursor_state)
        else:
            set_state(lc, "last_apply", utcnow().isoformat())
        pending = {(ENTITY_TABLE.get(e, e), k) for e, i, op, payload in lc.execute(
            select(_outbox.c.entity, _outbox.c.entity_id, _outbox.c.op, _outbox.c.payload)
            .where(_outbox.c.pushed_at.is_(None))) for k in entry_ids(op, i, payload)}
        audit = _t(AuditEvent)
        mark = int(get_state(lc, "audit_pushed_seq", "0"))
        all_audit_pushed = lc.execute(select(func.count()).select_from(audit).where(audit.c.seq > mark)).scalar_one() == 0
        for name in ORDER:
            st = TABLES[name]
            todo = rows.get(name) or []
            if st.rule not in ("fact", "audit", "event"):
                todo = [r for r in todo if (name, str(r[st.key])) not in pending]
            if not todo:
                continue
            written, errors = _apply(lc, st, todo, central=False)
            applied += len(written)
            for k, err in errors.items():
                conflicts.append(_local_conflict(lc, "pull_rejected", name, k, err))
        if audit_ids and all_audit_pushed:
            # Pulled events get local seq numbers; they are not this workstation's to push.
            set_state(lc, "audit_pushed_seq", lc.execute(select(func.max(audit.c.seq))).scalar_one())
    return applied, conflicts


def _complete_parents(local: Engine, central: Engine, rows: dict[str, list[dict]]) -> None:
    # entitlements first (their persons are then completed in the second round)
    for round_tables in (("entitlements",), ("persons",)):
        parent = round_tables[0]
        need: set[str] = set()
        for child, refs in _FK_PARENTS.items():
            for col, ptable in refs:
                if ptable == parent:
                    need |= {str(r[col]) for r in rows.get(child, []) if r.get(col)}
        if not need:
            continue
        need -= {str(r["id"]) for r in rows.get(parent, [])}
        pt = TABLES[parent].table
        with local.connect() as lc:
            have = set()
            for part in _chunks(sorted(need)):
                have |= {str(x) for x in lc.execute(select(pt.c.id).where(pt.c.id.in_(part))).scalars()}
        missing = need - have
        if missing:
            with central.connect() as cc:
                rows.setdefault(parent, []).extend(_fetch(cc, TABLES[parent], sorted(missing)))


def copy_subset(central: Engine, local: Engine, person_ids: Sequence[str], visit_ids: Sequence[str],
                identity: str | None = None) -> dict[str, int]:
    """Copy what a field laptop needs from the central database into ``local``.

    The pull cursor is set to the central head read *before* copying, so anything that changes
    during the copy is pulled again later (upserts are idempotent).
    """
    head = central_head(central)
    ents, events = _t(Entitlement), _t(EntitlementEvent)
    rows: dict[str, list[dict]] = {}
    with central.connect() as cc:
        rows["persons"] = _fetch(cc, TABLES["persons"], person_ids)
        rows["entitlements"] = [dict(r) for part in _chunks(list(person_ids))
                                for r in cc.execute(select(ents).where(ents.c.person_id.in_(part))).mappings()]
        rows["certifications"] = [dict(r) for part in _chunks(list(person_ids)) for r in cc.execute(
            select(_t(Certification)).where(_t(Certification).c.person_id.in_(part))).mappings()]
        ent_ids = [r["id"] for r in rows["entitlements"]]
        rows["entitlement_events"] = [dict(r) for part in _chunks(ent_ids)
                                      for r in cc.execute(select(events).where(events.c.entitlement_id.in_(part))).mappings()]
        rows["home_visits"] = _fetch(cc, TABLES["home_visits"], visit_ids)
        for name in CENTRAL_OWNED:
            rows[name] = [dict(r) for r in cc.execute(select(TABLES[name].table)).mappings()]
    key = cursor_key(identity or central_identity(central))
    with local.connect() as lc:
        current = int(get_state(lc, key, "0"))
    # A laptop that already has a cursor keeps it (re-pulling an overlap is harmless).
    apply_rows(local, None, rows, cursor_state=(key, current or head))
    return {name: len(v) for name, v in rows.items()}
