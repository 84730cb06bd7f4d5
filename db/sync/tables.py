"""The synced tables, the sync bookkeeping and the row upserts shared by push and pull (docs/sync.md).

Persistence only: no Qt, no imports from desktop/. ``TABLES`` lists every synced table with its
conflict rule (docs/sync.md §3); ``_upsert`` is that rule as one INSERT … ON CONFLICT statement, so
the central database applies it atomically. Which case a rule's outcome opens, and how duplicate
persons are merged, is decided in ``desktop/services/sync_policy.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import Connection, Engine, Table, func, or_, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError

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
    utcnow,
)
from db.outreach_models import OutreachFlag, OutreachMark, PayrollExport, RecoveryInstalment
from db.profiles_repo import ImportProfile


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

# Centrally decided tables (issue 15 §2): a device never pushes them, the centre's copy wins.
CENTRAL_OWNED = ("operators", "settings", "import_profiles", "cycle_rules")


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


def delete_state(conn: Connection, key: str) -> None:
    conn.execute(_state.delete().where(_state.c.key == key))


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


def _lock(cc: Connection, workstation: str) -> None:
    if cc.dialect.name == "postgresql":
        cc.execute(text("SELECT set_config('certdesk.origin', :o, true)"), {"o": workstation})
        cc.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def norm(v):
    """A value as sync compares it (timestamps to the second)."""
    if isinstance(v, datetime):
        return v.replace(microsecond=0)
    return v


def columns(name: str) -> list[str]:
    """The columns of the synced table ``name`` that sync copies."""
    return _columns(TABLES[name])


def table_rows(conn: Connection, name: str) -> dict[str, dict]:
    """Every row of a (small, centrally decided) synced table, by key."""
    st = TABLES[name]
    return {str(r[st.key]): dict(r) for r in conn.execute(select(st.table)).mappings()}
