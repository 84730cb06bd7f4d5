"""Push the outbox to the central PostgreSQL and pull what other workstations did (docs/sync.md).

Persistence only: no Qt, no imports from desktop/. Everything here is safe to repeat after any
failure:

* **Push** reads unpushed outbox entries in ``seq`` order, loads the *current* local row of each
  entity (the outbox says *what* changed; the row says what it is now) and upserts it centrally
  keyed by its UUID, using the table's conflict rule, in one central transaction. Only after the
  central commit are the entries marked ``pushed_at`` locally; a crash in between means the next
  push repeats upserts that are no-ops. The workstation's own audit events are pushed by a
  watermark (``sync_state['audit_pushed_seq']``) with ``ON CONFLICT (id) DO NOTHING``.
* **Pull** reads the central change log ``sync_changes`` (filled by triggers, ordered by commit
  thanks to an advisory lock) after this workstation's cursor, skipping its own origin, fetches
  the rows and upserts them into the local SQLite directly — never through ``journal.enqueue`` —
  so pulled rows are not pushed back. The cursor moves in the same local transaction.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, Iterable, Sequence

from sqlalchemy import Connection, Engine, Table, func, or_, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError

from db.journal import entry_ids
from db.models import (
    AssistForm,
    AuditEvent,
    Certification,
    CycleRule,
    Entitlement,
    EntitlementEvent,
    FaceImage,
    HomeVisit,
    Operator,
    OutboxEntry,
    Person,
    RecoveryCase,
    EntitlementAmount,
    PayrollRun,
    Setting,
    SyncChange,
    SyncConflict,
    SyncState,
    new_id,
    utcnow,
)

from db.outreach_models import OutreachFlag, OutreachMark, PayrollExport, RecoveryInstalment  # noqa: E402
from db.profiles_repo import ImportProfile  # noqa: E402


def _pg_insert(table):
    """PostgreSQL's INSERT … ON CONFLICT; the dialect module is imported only when syncing to one
    (importing it costs the counter's start-up ~0.2 s)."""
    from sqlalchemy.dialects.postgresql import insert

    return insert(table)


LOCK_KEY = 727_0003  # the same key the capture trigger takes (migration 0003)
CONFLICT_NS = uuid.UUID("6b1f3c1e-8d0f-4d6e-9a57-0c3e2f7a9b11")


@dataclass(frozen=True)
class SyncTable:
    table: Table
    key: str
    rule: str  # fact | event | owned | visit | progress | audit | reference
    push: bool = True


def _t(model) -> Table:
    return model.__table__


# Parents before children (foreign keys), audit last.
TABLES: dict[str, SyncTable] = {
    s.table.name: s
    for s in (
        SyncTable(_t(Operator), "id", "owned"),
        SyncTable(_t(Setting), "key", "owned"),
        SyncTable(_t(ImportProfile), "name", "owned"),  # import source profiles: like settings
        SyncTable(_t(CycleRule), "cohort", "reference", push=False),
        SyncTable(_t(Person), "id", "owned"),
        SyncTable(_t(Entitlement), "id", "owned"),
        SyncTable(_t(Certification), "id", "fact"),
        SyncTable(_t(EntitlementEvent), "id", "event"),
        SyncTable(_t(RecoveryCase), "id", "fact"),
        SyncTable(_t(EntitlementAmount), "id", "fact"),
        SyncTable(_t(PayrollRun), "id", "fact"),
        SyncTable(_t(AssistForm), "id", "progress"),
        SyncTable(_t(HomeVisit), "id", "visit"),
        SyncTable(_t(FaceImage), "id", "owned"),  # encrypted; a purge (newer) wins
        SyncTable(_t(OutreachMark), "id", "fact"),
        SyncTable(_t(OutreachFlag), "person_id", "owned"),
        SyncTable(_t(PayrollExport), "id", "fact"),
        SyncTable(_t(RecoveryInstalment), "id", "fact"),
        SyncTable(_t(SyncConflict), "id", "owned"),
        SyncTable(_t(AuditEvent), "id", "audit"),
    )
}
ORDER = list(TABLES)

# Outbox entity names (singular, as services write them) → table names.
ENTITY_TABLE = {
    "person": "persons", "entitlement": "entitlements", "certification": "certifications",
    "entitlement_event": "entitlement_events", "recovery_case": "recovery_cases",
    "assist_form": "assist_forms", "operator": "operators", "setting": "settings",
    "home_visit": "home_visits", "sync_conflict": "sync_conflicts", "face_image": "face_images",
    "outreach_mark": "outreach_marks", "outreach_flag": "outreach_flags", "payroll_export": "payroll_exports",
    "recovery_instalment": "recovery_instalments", "import_profile": "import_profiles",
    "entitlement_amount": "entitlement_amounts", "payroll_run": "payroll_runs",
    **{name: name for name in TABLES},
}

CLOSED_VISIT = ("done", "not_at_home", "cancelled")
CHUNK = 1000


@dataclass
class PushResult:
    pushed: int = 0
    audit_pushed: int = 0
    rejected: int = 0
    conflicts: list[dict] = field(default_factory=list)


@dataclass
class PullResult:
    pulled: int = 0
    cursor: int = 0
    conflicts: list[dict] = field(default_factory=list)


def _chunks(items: Sequence, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- local bookkeeping -------------------------------------------------------------------------

_state = _t(SyncState)
_outbox = _t(OutboxEntry)
_changes = _t(SyncChange)
_conflicts = _t(SyncConflict)


def get_state(conn: Connection, key: str, default: str | None = None) -> str | None:
    value = conn.execute(select(_state.c.value).where(_state.c.key == key)).scalar()
    return default if value is None else value


def set_state(conn: Connection, key: str, value) -> None:
    stmt = sqlite_insert(_state) if conn.dialect.name == "sqlite" else _pg_insert(_state)
    stmt = stmt.values(key=key, value=str(value), updated_at=utcnow())
    conn.execute(stmt.on_conflict_do_update(index_elements=["key"],
                                            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at}))


def waiting(local: Engine) -> int:
    """Records waiting to be pushed (and not refused): a bulk entry counts its items."""
    with local.connect() as conn:
        return int(conn.execute(
            select(func.coalesce(func.sum(func.coalesce(_outbox.c.item_count, 1)), 0))
            .where(_outbox.c.pushed_at.is_(None), _outbox.c.push_error.is_(None))
        ).scalar_one())


def central_identity(central: Engine) -> str:
    """Identifies the central database so a cursor is never reused against another one."""
    with central.connect() as conn:
        if conn.dialect.name == "postgresql":
            sysid = conn.execute(text("SELECT system_identifier FROM pg_control_system()")).scalar()
            return f"{sysid}:{conn.execute(text('SELECT current_database()')).scalar()}"
        return str(central.url.database)


def cursor_key(identity: str) -> str:
    return f"pull_cursor:{identity}"[:64]


# --- conflict rules as upserts -----------------------------------------------------------------


def _columns(st: SyncTable) -> list[str]:
    cols = [c.name for c in st.table.columns]
    return [c for c in cols if c != "seq"] if st.rule == "audit" else cols


def _upsert(conn: Connection, st: SyncTable, *, central: bool):
    """The INSERT … ON CONFLICT statement implementing ``st.rule`` (docs/sync.md §3)."""
    t = st.table
    ins = (_pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(t)
    ex = ins.excluded
    key = [st.key]
    others = [c for c in _columns(st) if c != st.key]
    if st.rule in ("fact", "audit"):
        return ins.on_conflict_do_nothing(index_elements=key)
    if st.rule == "event":
        life = ("voided_at", "void_reason", "approved_by", "approved_at")
        return ins.on_conflict_do_update(
            index_elements=key,
            set_={c: func.coalesce(t.c[c], ex[c]) for c in life},
            where=((t.c.voided_at.is_(None) & ex.voided_at.isnot(None))
                   | (t.c.approved_at.is_(None) & ex.approved_at.isnot(None))),
        )
    set_all = {c: ex[c] for c in others}
    if not central:
        # Pull: the central row is the merged truth; the caller skips rows with local changes
        # still waiting in the outbox.
        return ins.on_conflict_do_update(index_elements=key, set_=set_all)
    if st.rule == "owned":
        if t.name == "persons":
            # A reported death is never cleared by a workstation (reversal is a central act).
            set_all["death_date"] = func.coalesce(ex.death_date, t.c.death_date)
            set_all["death_source"] = func.coalesce(ex.death_source, t.c.death_source)
        return ins.on_conflict_do_update(index_elements=key, set_=set_all, where=ex.updated_at > t.c.updated_at)
    if st.rule == "visit":
        # (no IN (…): expanding parameters cannot be used with executemany)
        closed_t = or_(*(t.c.status == s for s in CLOSED_VISIT))
        closed_x = or_(*(ex.status == s for s in CLOSED_VISIT))
        return ins.on_conflict_do_update(
            index_elements=key, set_=set_all,
            where=((~closed_t & closed_x) | ((ex.updated_at > t.c.updated_at) & ~(closed_t & ~closed_x))),
        )
    if st.rule == "progress":
        return ins.on_conflict_do_update(
            index_elements=key, set_=set_all, where=(t.c.status == "outstanding") & (ex.status != "outstanding")
        )
    raise ValueError(st.rule)


def _apply(conn: Connection, st: SyncTable, rows: list[dict], *, central: bool) -> tuple[set[str], dict[str, str]]:
    """Upsert ``rows``; returns (keys written, {key: error} for rows the database refused).

    The batch runs in a savepoint; if the database refuses it, each row gets its own savepoint
    so one bad row cannot block the others.
    """
    if not rows:
        return set(), {}
    cols = _columns(st)
    rows = [{c: r.get(c) for c in cols} for r in rows]
    keycol = st.table.c[st.key]
    written: set[str] = set()
    try:
        with conn.begin_nested():
            for part in _chunks(rows):
                written |= _run(conn, st, part, keycol, central)
        return written, {}
    except (IntegrityError, DBAPIError):
        written = set()
    errors: dict[str, str] = {}
    for row in rows:
        try:
            with conn.begin_nested():
                written |= _run(conn, st, [row], keycol, central)
        except (IntegrityError, DBAPIError) as exc:
            errors[str(row[st.key])] = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
    return written, errors


def _run(conn, st, rows, keycol, central) -> set[str]:
    stmt = _upsert(conn, st, central=central)
    if conn.dialect.name == "postgresql":
        result = conn.execute(stmt.returning(keycol), rows)
        return {str(k) for k in result.scalars().all()}
    conn.execute(stmt, rows)
    return {str(r[st.key]) for r in rows}


def _fetch(conn: Connection, st: SyncTable, keys: Iterable[str]) -> list[dict]:
    keys = list(keys)
    out: list[dict] = []
    for part in _chunks(keys):
        out.extend(dict(r) for r in conn.execute(select(st.table).where(st.table.c[st.key].in_(part))).mappings())
    return out


# --- push --------------------------------------------------------------------------------------


class _Remap(Exception):
    """Raised inside the central transaction (rolled back) when pushed persons duplicate central
    ones by ID number; the caller merges them locally and starts the batch again."""

    def __init__(self, dups: dict[str, dict], ents: list[dict]):
        super().__init__("duplicate persons")
        self.dups, self.ents = dups, ents


def push(local: Engine, central: Engine, workstation: str, *, batch: int = 5000,
         after_central_commit: Callable[[], None] | None = None, device: bool = False) -> PushResult:
    """Push every waiting outbox entry and this workstation's new audit events.

    Before pushing, entries the central database once refused are retried when their row changed
    since (a newer outbox entry for it), and persons created here that the central database
    already holds under another UUID (same ID number) are merged onto the central person
    (docs/sync.md §3.4)."""
    result = PushResult()
    retry_superseded(local)
    if device:
        close_central_entries(local)
    with local.connect() as lc:
        unpushed = lc.execute(select(_outbox.c.entity_id, _outbox.c.op, _outbox.c.payload).where(
            _outbox.c.pushed_at.is_(None), _outbox.c.entity.in_(("person", "persons")))).all()
        candidates = _fetch(lc, TABLES["persons"], {i for eid, op, payload in unpushed for i in entry_ids(op, eid, payload)})
    if candidates:
        with central.begin() as cc:
            _lock(cc, workstation)
            dups = _duplicates(cc, candidates)
            ents = _central_entitlements(cc, [str(r["id"]) for r in dups.values()])
        if dups:
            result.conflicts.extend(merge_persons(local, dups, ents, workstation))
    merges = 0
    while True:
        with local.connect() as lc:
            fetched = lc.execute(
                select(_outbox.c.seq, _outbox.c.entity, _outbox.c.entity_id, _outbox.c.op, _outbox.c.payload)
                .where(_outbox.c.pushed_at.is_(None), _outbox.c.push_error.is_(None))
                .order_by(_outbox.c.seq).limit(batch)
            ).all()
            if not fetched:
                break
            # a batch holds about ``batch`` records: bulk entries count their items
            entries, size = [], 0
            for seq, entity, entity_id, op, payload in fetched:
                if entries and size >= batch:
                    break
                ids = entry_ids(op, entity_id, payload)
                entries.append((seq, entity, ids))
                size += len(ids)
            wanted: dict[str, set[str]] = {}
            refused: dict[int, str] = {}
            for seq, entity, ids in entries:
                name = ENTITY_TABLE.get(entity)
                if name is None or not TABLES[name].push:
                    refused[seq] = f"unknown entity {entity}"
                    continue
                wanted.setdefault(name, set()).update(ids)
            rows = {name: _fetch(lc, TABLES[name], keys) for name, keys in wanted.items()}

        errors: dict[tuple[str, str], str] = {}
        try:
            with central.begin() as cc:
                _lock(cc, workstation)
                if rows.get("persons"):
                    dups = _duplicates(cc, rows["persons"])
                    if dups:  # another workstation pushed the same new person meanwhile
                        raise _Remap(dups, _central_entitlements(cc, [str(r["id"]) for r in dups.values()]))
                _push_tables(cc, rows, workstation, result, errors)
        except _Remap as remap:
            merges += 1
            if merges > 10:
                raise RuntimeError("duplicate persons keep reappearing") from remap
            result.conflicts.extend(merge_persons(local, remap.dups, remap.ents, workstation))
            continue
        if after_central_commit is not None:
            after_central_commit()
        _mark(local, entries, refused, errors, result)
        if len(fetched) < batch and len(entries) == len(fetched):
            break
    result.audit_pushed = _push_audit(local, central, workstation, batch, own_only=device)
    return result


# --- centrally decided data (issue 15 §2) ---------------------------------------------------------

CENTRAL_OWNED = ("operators", "settings", "import_profiles", "cycle_rules")
AUTHORITY_FIELDS = {"operators": ("username", "role", "active"), "settings": ("value",),
                    "import_profiles": ("kind", "mapping"), "cycle_rules": None}


def close_central_entries(local: Engine) -> int:
    """An enrolled device never pushes operators or settings (the centre decides them; its role
    may not write them): their waiting entries are closed, not refused."""
    names = [e for e, t in ENTITY_TABLE.items() if t in CENTRAL_OWNED]
    with local.begin() as lc:
        return lc.execute(update(_outbox).where(_outbox.c.pushed_at.is_(None), _outbox.c.entity.in_(names))
                          .values(pushed_at=utcnow(), push_error="central_authority")).rowcount or 0


def enforce_authority(local: Engine, central: Engine, workstation: str) -> list[dict]:
    """Compare this device's copy of the centrally decided tables with the centre's.

    A difference in an authority field (an operator's username, role or active flag; a setting's
    value; a rule) was made on this workstation — in the window that refuses it, or in the SQLite
    file — and is refused: the central row is put back here and a case ``authority_refused`` is
    opened (audited, and pushed so the centre sees it). A senior account the centre does not
    know is reported (``authority_local_only``) and left alone. Returns the new cases."""
    crows: dict[str, dict[str, dict]] = {}
    lrows: dict[str, dict[str, dict]] = {}
    with central.connect() as cc:
        for name in CENTRAL_OWNED:
            st = TABLES[name]
            crows[name] = {str(r[st.key]): dict(r) for r in cc.execute(select(st.table)).mappings()}
    with local.connect() as lc:
        for name in CENTRAL_OWNED:
            st = TABLES[name]
            lrows[name] = {str(r[st.key]): dict(r) for r in lc.execute(select(st.table)).mappings()}
    restore: dict[str, list[dict]] = {}
    found: list[dict] = []
    for name in CENTRAL_OWNED:
        fields = AUTHORITY_FIELDS[name] or [c for c in _columns(TABLES[name]) if c != "updated_at"]
        for key, lrow in lrows[name].items():
            crow = crows[name].get(key)
            if crow is None:
                if name == "operators" and lrow.get("active") and lrow.get("role") != "clerk":
                    found.append({"kind": "authority_local_only", "entity": name, "entity_id": key,
                                  "detail": {"username": lrow.get("username"), "role": lrow.get("role")}})
                continue
            diff = [f for f in fields if _norm(lrow.get(f)) != _norm(crow.get(f))]
            if diff:
                restore.setdefault(name, []).append(crow)
                found.append({"kind": "authority_refused", "entity": name, "entity_id": key,
                              "detail": {"fields": diff, "local": {f: _plain(lrow.get(f)) for f in diff},
                                         "central": {f: _plain(crow.get(f)) for f in diff},
                                         **({"username": crow.get("username")} if name == "operators" else {})}})
    if not found:
        return []
    from db import journal

    now = utcnow()
    cases = []
    with local.begin() as lc:
        for name, rows in restore.items():
            _apply(lc, TABLES[name], rows, central=False)
        for f in found:
            detail = f["detail"]
            ident = f"{f['kind']}:{f['entity']}:{f['entity_id']}:{json.dumps(detail, sort_keys=True, default=str)}"
            row = {"id": str(uuid.uuid5(CONFLICT_NS, ident)), "kind": f["kind"], "entity": f["entity"],
                   "entity_id": f["entity_id"], "person_id": None,
                   "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
                   "workstation": workstation, "status": "open", "resolved_by": None, "resolved_at": None,
                   "created_at": now, "updated_at": now}
            if lc.execute(sqlite_insert(_conflicts).on_conflict_do_nothing(index_elements=["id"]), [row]).rowcount:
                journal.audit(lc, "system", workstation, "sync." + f["kind"], f["entity"], None,
                              {"entity_id": f["entity_id"], **detail})
                journal.enqueue(lc, [("sync_conflict", row["id"], None)])
                cases.append(conflict_json(row))
    close_central_entries(local)
    return cases


def _plain(v):
    return v.isoformat() if isinstance(v, (date, datetime)) else v


def _push_tables(cc: Connection, rows: dict[str, list[dict]], workstation: str, result: PushResult,
                     errors: dict) -> None:
    for name in ORDER:
        if rows.get(name):
            conflicts, errs = _push_table(cc, TABLES[name], rows[name], workstation)
            result.conflicts.extend(conflicts)
            errors.update({(name, k): v for k, v in errs.items()})


def _mark(local: Engine, entries, refused: dict, errors: dict, result: PushResult) -> None:
    """After the central commit: mark entries pushed, or refused with the database's reason.

    ``entries`` are ``(seq, entity, ids)``. A bulk entry some of whose records were refused is
    split: it is marked pushed, and each refused record gets an entry of its own (refused, so it
    waits for a supervisor like any other) — the rest of the batch is not held back."""
    now = utcnow()
    split: list[tuple[str, str, str]] = []  # (entity, id, error) of refused records of bulk entries
    pushed = 0
    for seq, entity, ids in entries:
        if seq in refused:
            continue
        name = ENTITY_TABLE.get(entity)
        errs = [(i, errors[(name, i)]) for i in ids if (name, i) in errors]
        if errs and len(ids) == 1:
            refused[seq] = errs[0][1]
            continue
        split += [(entity, i, e) for i, e in errs]
        pushed += len(ids) - len(errs)
    ok = [e[0] for e in entries if e[0] not in refused]
    with local.begin() as lc:
        for part in _chunks(ok):
            lc.execute(update(_outbox).where(_outbox.c.seq.in_(part)).values(pushed_at=now))
        for seq, err in refused.items():
            lc.execute(update(_outbox).where(_outbox.c.seq == seq).values(push_error=err[:500]))
        if split:
            lc.execute(_outbox.insert(), [{"id": new_id(), "entity": e, "entity_id": i, "op": "upsert",
                                           "payload": None, "created_at": now, "push_error": err[:500]}
                                          for e, i, err in split])
    result.pushed += pushed
    result.rejected += len(refused) + len(split)


# --- refused entries: retry ---------------------------------------------------------------------


def retry_superseded(local: Engine) -> int:
    """Retry refused entries whose row changed since (a newer outbox entry for the same row): the
    change may have fixed the cause. Returns how many were cleared."""
    newer = _outbox.alias("newer")
    stmt = (update(_outbox)
            .where(_outbox.c.pushed_at.is_(None), _outbox.c.push_error.isnot(None),
                   select(newer.c.seq).where(newer.c.entity == _outbox.c.entity, newer.c.entity_id == _outbox.c.entity_id,
                                             newer.c.seq > _outbox.c.seq).exists())
            .values(push_error=None))
    with local.begin() as lc:
        return lc.execute(stmt).rowcount or 0


def refused(local: Engine, limit: int = 500) -> list[dict]:
    """Entries the central database refused, waiting for someone to fix the cause and retry."""
    with local.connect() as lc:
        return [dict(r) for r in lc.execute(
            select(_outbox.c.seq, _outbox.c.entity, _outbox.c.entity_id, _outbox.c.push_error, _outbox.c.created_at)
            .where(_outbox.c.pushed_at.is_(None), _outbox.c.push_error.isnot(None))
            .order_by(_outbox.c.seq).limit(limit)).mappings()]


def refused_count(local: Engine) -> int:
    with local.connect() as lc:
        return lc.execute(select(func.count()).select_from(_outbox).where(
            _outbox.c.pushed_at.is_(None), _outbox.c.push_error.isnot(None))).scalar_one()


def clear_refused(conn: Connection, seqs: Sequence[int] | None = None) -> int:
    """Clear ``push_error`` (all refused entries, or those ``seqs``) so the next push retries them."""
    stmt = update(_outbox).where(_outbox.c.pushed_at.is_(None), _outbox.c.push_error.isnot(None))
    if seqs is not None:
        stmt = stmt.where(_outbox.c.seq.in_(list(seqs)))
    return conn.execute(stmt.values(push_error=None)).rowcount or 0


# --- the same new person created on two workstations (docs/sync.md §3.4) -------------------------

IDENTITY_FIELDS = ("name", "sex", "birth_date")


def _duplicates(cc: Connection, persons: list[dict]) -> dict[str, dict]:
    """{local person id: central person row} for local persons whose ID number the central
    database holds under another UUID."""
    pt = TABLES["persons"].table
    by_number = {p["id_number"]: p for p in persons if p.get("id_number")}
    out: dict[str, dict] = {}
    for part in _chunks(sorted(by_number)):
        for r in cc.execute(select(pt).where(pt.c.id_number.in_(part))).mappings():
            mine = by_number[r["id_number"]]
            if str(r["id"]) != str(mine["id"]):
                out[str(mine["id"])] = dict(r)
    return out


def _central_entitlements(cc: Connection, person_ids: list[str]) -> list[dict]:
    et = TABLES["entitlements"].table
    return [dict(r) for part in _chunks(person_ids) for r in
            cc.execute(select(et).where(et.c.person_id.in_(part))).mappings()]


def _refs(parent: str) -> list[tuple[SyncTable, str]]:
    """Synced tables and columns referring to ``parent`` (persons or entitlements)."""
    out = []
    for st in TABLES.values():
        for fk in st.table.foreign_keys:
            if fk.column.table.name == parent:
                out.append((st, fk.parent.name))
    if parent == "persons":
        out.append((TABLES["sync_conflicts"], "person_id"))
    return out


def merge_persons(local: Engine, dups: dict[str, dict], central_ents: list[dict], workstation: str) -> list[dict]:
    """Map persons created here onto the central persons with the same ID number.

    In one local transaction: the central person (and its entitlements) replace the local copies;
    a local entitlement of a cohort the central person already has is replaced by the central one;
    every local row that referred to them (certifications, events, forms, visits …) is re-pointed
    and queued, so it is pushed under the central ids; the local copies' outbox entries are marked
    done (``push_error = 'merged:<central id>'``); refused entries of re-pointed rows are retried.
    A ``duplicate_person_merged`` case records it (open when name, sex or birth date differed).
    """
    from db import journal  # the audit log and outbox (same package, no cycle at import)

    pt, et = TABLES["persons"].table, TABLES["entitlements"].table
    person_refs, ent_refs = _refs("persons"), _refs("entitlements")
    cases: list[dict] = []
    now = utcnow()
    with local.begin() as lc:
        set_state(lc, "last_person_merge", now.isoformat())  # a write first: the transaction is open
        if lc.dialect.name == "sqlite":
            lc.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # checked at commit; reset after it
        for local_id, cp in dups.items():
            central_id = str(cp["id"])
            mine = lc.execute(select(pt).where(pt.c.id == local_id)).mappings().first()
            if mine is None:
                continue
            mine = dict(mine)
            cents = {r["cohort"]: r for r in central_ents if str(r["person_id"]) == central_id}
            local_ents = [dict(r) for r in lc.execute(select(et).where(et.c.person_id == local_id)).mappings()]
            ent_map = {str(e["id"]): cents[e["cohort"]] for e in local_ents if e["cohort"] in cents}
            # 1. the local copies go, the central rows come in (FKs are checked at commit)
            lc.execute(pt.delete().where(pt.c.id == local_id))
            _apply(lc, TABLES["persons"], [cp], central=False)
            for old in ent_map:
                lc.execute(et.delete().where(et.c.id == old))
            _apply(lc, TABLES["entitlements"], list(ent_map.values()), central=False)
            # 2. re-point what referred to them, and queue it
            queue: list[tuple[str, str]] = []
            moved: dict[str, int] = {}
            for st, col in ent_refs:
                for old, ce in ent_map.items():
                    keys = [str(k) for k in lc.execute(select(st.table.c[st.key]).where(st.table.c[col] == old)).scalars()]
                    if keys:
                        lc.execute(update(st.table).where(st.table.c[col] == old).values({col: str(ce["id"])}))
                        queue += [(st.table.name, k) for k in keys]
                        moved[st.table.name] = moved.get(st.table.name, 0) + len(keys)
            for st, col in person_refs:
                keys = [str(k) for k in lc.execute(select(st.table.c[st.key]).where(st.table.c[col] == local_id)).scalars()]
                if keys:
                    lc.execute(update(st.table).where(st.table.c[col] == local_id).values({col: central_id}))
                    if st.push:
                        queue += [(st.table.name, k) for k in keys]
                    moved[st.table.name] = moved.get(st.table.name, 0) + len(keys)
            # person_id is the key of outreach_flags: its re-pointed rows are queued under the new key
            queue = [(t, central_id if (t == "outreach_flags" and k == local_id) else k) for t, k in queue]
            # 3. the local copies' entries are done; refused entries of re-pointed rows are retried
            gone = [("person", local_id), ("persons", local_id)]
            gone += [(e, old) for old in ent_map for e in ("entitlement", "entitlements")]
            for entity, eid in gone:
                lc.execute(update(_outbox).where(_outbox.c.entity == entity, _outbox.c.entity_id == eid,
                                                 _outbox.c.pushed_at.is_(None))
                           .values(pushed_at=now, push_error=f"merged:{central_id}"))
            for table, key in queue:
                entities = [e for e, t in ENTITY_TABLE.items() if t == table]
                lc.execute(update(_outbox).where(_outbox.c.entity.in_(entities), _outbox.c.entity_id == key,
                                                 _outbox.c.pushed_at.is_(None), _outbox.c.push_error.isnot(None))
                           .values(push_error=None))
            journal.enqueue(lc, [(t, k, None) for t, k in dict.fromkeys(queue)])
            # 4. the record: a case and an audit event (never the ID number)
            differ = [f for f in IDENTITY_FIELDS if _norm(mine.get(f)) != _norm(cp.get(f))]
            detail = {"local_person_id": local_id, "central_person_id": central_id, "differing_fields": differ,
                      "merged_entitlements": {old: str(ce["id"]) for old, ce in ent_map.items()},
                      "repointed": moved, "local_name": mine.get("name"), "central_name": cp.get("name")}
            case = {"id": str(uuid.uuid5(CONFLICT_NS, f"duplicate_person_merged:{local_id}")),
                    "kind": "duplicate_person_merged", "entity": "persons", "entity_id": central_id,
                    "person_id": central_id, "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
                    "workstation": workstation, "status": "open" if differ else "resolved",
                    "resolved_by": None if differ else "system", "resolved_at": None if differ else now,
                    "created_at": now, "updated_at": now}
            lc.execute(sqlite_insert(_conflicts).on_conflict_do_nothing(index_elements=["id"])
                       if lc.dialect.name == "sqlite" else _pg_insert(_conflicts).on_conflict_do_nothing(index_elements=["id"]),
                       [case])
            journal.enqueue(lc, [("sync_conflict", case["id"], None)])
            journal.audit(lc, "system", workstation, "sync.duplicate_person_merged", "person", central_id,
                          {k: v for k, v in detail.items() if k not in ("local_name", "central_name")})
            cases.append(conflict_json(case))
    return cases


def _lock(cc: Connection, workstation: str) -> None:
    if cc.dialect.name == "postgresql":
        cc.execute(text("SELECT set_config('certdesk.origin', :o, true)"), {"o": workstation})
        cc.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def _push_table(cc: Connection, st: SyncTable, rows: list[dict], workstation: str):
    conflicts: list[dict] = []
    written, errors = _apply(cc, st, rows, central=True)
    name = st.table.name
    if name == "certifications":
        conflicts = _deaths_vs_certifications(cc, [r for r in rows if str(r["id"]) in written], workstation)
    elif st.rule in ("owned", "visit", "progress", "event"):
        # Where the central rule kept or merged something (central newer, a death kept, a closed
        # visit …) the central row differs from the one pushed: log a change with the origin
        # "central" so this workstation pulls the merged row back.
        sent = [r for r in rows if str(r[st.key]) not in errors]
        central_rows = {str(r[st.key]): r for r in _fetch(cc, st, [str(r[st.key]) for r in sent])}
        differ = [str(r[st.key]) for r in sent
                  if str(r[st.key]) in central_rows and _differs(central_rows[str(r[st.key])], r)]
        if differ:
            cc.execute(_changes.insert(), [{"entity": name, "entity_id": k, "origin": "central",
                                            "changed_at": utcnow()} for k in differ])
    return conflicts, errors


def _differs(a: dict, b: dict) -> bool:
    return any(_norm(a.get(k)) != _norm(b.get(k)) for k in a if k != "seq")


def _norm(v):
    if isinstance(v, datetime):
        return v.replace(microsecond=0)
    return v


def _deaths_vs_certifications(cc: Connection, certs: list[dict], workstation: str) -> list[dict]:
    """A death reported centrally wins over a certification dated after it: the certification is
    kept (a fact) but a supervisor case is opened (docs/sync.md §3.3)."""
    if not certs:
        return []
    persons = _t(Person)
    ids = sorted({c["person_id"] for c in certs})
    deaths = {}
    for part in _chunks(ids):
        deaths.update(dict(cc.execute(select(persons.c.id, persons.c.death_date)
                                      .where(persons.c.id.in_(part), persons.c.death_date.isnot(None))).all()))
    cases = []
    for c in certs:
        death = deaths.get(c["person_id"])
        cert_date = c["cert_date"] if isinstance(c["cert_date"], date) else date.fromisoformat(str(c["cert_date"]))
        if death is None or cert_date <= death or c.get("result") != "passed":
            continue
        detail = {"certification_id": c["id"], "cert_date": cert_date.isoformat(), "death_date": death.isoformat(),
                  "method": c["method"], "certified_by": c.get("operator"), "certified_at": c.get("workstation")}
        now = utcnow()
        cases.append({
            "id": str(uuid.uuid5(CONFLICT_NS, f"certified_after_death:{c['id']}")), "kind": "certified_after_death",
            "entity": "certifications", "entity_id": c["id"], "person_id": c["person_id"],
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True), "workstation": workstation,
            "status": "open", "resolved_by": None, "resolved_at": None, "created_at": now, "updated_at": now,
        })
    if cases:
        # Logged with origin "central" so the reporting workstation pulls its own copy of the case.
        cc.execute(text("SELECT set_config('certdesk.origin', 'central', true)"))
        cc.execute(_pg_insert(_conflicts).on_conflict_do_nothing(index_elements=["id"]), cases)
        cc.execute(text("SELECT set_config('certdesk.origin', :o, true)"), {"o": workstation})
    return [conflict_json(c) for c in cases]


def conflict_json(row: dict) -> dict:
    detail = json.loads(row["detail"]) if row.get("detail") else {}
    return {"id": row["id"], "kind": row["kind"], "person_id": row.get("person_id"), "entity": row.get("entity"),
            "entity_id": row.get("entity_id"), "status": row.get("status"), "workstation": row.get("workstation"),
            **detail}


def _push_audit(local: Engine, central: Engine, workstation: str, batch: int, *, own_only: bool = False) -> int:
    """Push audit events after the watermark. An enrolled device (``own_only``) pushes only its
    own chain: its role may append to no other."""
    audit = _t(AuditEvent)
    st = TABLES["audit_log"]
    total = 0
    while True:
        with local.connect() as lc:
            mark = int(get_state(lc, "audit_pushed_seq", "0"))
            rows = [dict(r) for r in lc.execute(select(audit).where(audit.c.seq > mark)
                                                 .order_by(audit.c.seq).limit(batch)).mappings()]
        if not rows:
            return total
        last_seq, fetched = rows[-1]["seq"], len(rows)
        if own_only:
            rows = [r for r in rows if r["workstation"] == workstation]
        written: set = set()
        if rows:
            with central.begin() as cc:
                _lock(cc, workstation)
                written, _ = _apply(cc, st, rows, central=True)
        with local.begin() as lc:
            set_state(lc, "audit_pushed_seq", last_seq)
        total += len(written)
        if fetched < batch:
            return total


# --- pull --------------------------------------------------------------------------------------

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


def _local_conflict(lc: Connection, kind: str, entity: str, entity_id: str, error: str) -> dict:
    now = utcnow()
    row = {"id": str(uuid.uuid5(CONFLICT_NS, f"{kind}:{entity}:{entity_id}")), "kind": kind, "entity": entity,
           "entity_id": entity_id, "person_id": None, "detail": json.dumps({"error": error}), "workstation": None,
           "status": "open", "resolved_by": None, "resolved_at": None, "created_at": now, "updated_at": now}
    lc.execute(sqlite_insert(_conflicts).on_conflict_do_nothing(index_elements=["id"]), [row])
    return conflict_json(row)


# --- field laptop copy -------------------------------------------------------------------------


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
