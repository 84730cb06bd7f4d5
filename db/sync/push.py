"""Push the outbox to the central PostgreSQL (docs/sync.md §2).

Persistence only: no Qt, no imports from desktop/. Safe to repeat after any failure: push reads
unpushed outbox entries in ``seq`` order, loads the *current* local row of each entity (the outbox
says *what* changed; the row says what it is now) and upserts it centrally keyed by its UUID, using
the table's conflict rule, in one central transaction. Only after the central commit are the
entries marked ``pushed_at`` locally; a crash in between means the next push repeats upserts that
are no-ops. The workstation's own audit events are pushed by a watermark
(``sync_state['audit_pushed_seq']``) with ``ON CONFLICT (id) DO NOTHING``.

Persons created here that the central database already holds under another UUID (same ID number)
are handed to the caller's ``merge`` (``desktop/services/sync_policy.merge_persons``), and the
certifications written centrally to its ``check_certifications`` (``sync_policy.certified_after_death``),
inside the push's central transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Sequence

from sqlalchemy import Connection, Engine, func, select, text, update

from db.journal import entry_ids
from db.models import AuditEvent, Person, new_id, utcnow
from db.sync.tables import (
    CENTRAL_OWNED,
    ENTITY_TABLE,
    ORDER,
    TABLES,
    SyncTable,
    _apply,
    _changes,
    _chunks,
    _conflicts,
    _fetch,
    _lock,
    norm,
    _outbox,
    _pg_insert,
    _t,
    get_state,
    set_state,
)

# (local engine, {local person id: central person row}, the central persons' entitlements,
# workstation) -> the cases opened
Merge = Callable[[Engine, dict[str, dict], list[dict], str], list[dict]]
# (central connection inside the push's transaction, the certifications just written centrally,
# workstation) -> the cases opened
CertificationCheck = Callable[[Connection, list[dict], str], list[dict]]


@dataclass
class PushResult:
    pushed: int = 0
    audit_pushed: int = 0
    rejected: int = 0
    conflicts: list[dict] = field(default_factory=list)


class _Remap(Exception):
    """Raised inside the central transaction (rolled back) when pushed persons duplicate central
    ones by ID number; the caller merges them locally and starts the batch again."""

    def __init__(self, dups: dict[str, dict], ents: list[dict]):
        super().__init__("duplicate persons")
        self.dups, self.ents = dups, ents


def push(local: Engine, central: Engine, workstation: str, *, merge: Merge,
         check_certifications: CertificationCheck, batch: int = 5000,
         after_central_commit: Callable[[], None] | None = None, device: bool = False) -> PushResult:
    """Push every waiting outbox entry and this workstation's new audit events.

    Before pushing, entries the central database once refused are retried when their row changed
    since (a newer outbox entry for it), and persons created here that the central database
    already holds under another UUID (same ID number) are merged onto the central person by
    ``merge`` (docs/sync.md §3.4)."""
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
            result.conflicts.extend(merge(local, dups, ents, workstation))
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
                _push_tables(cc, rows, workstation, result, errors, check_certifications)
        except _Remap as remap:
            merges += 1
            if merges > 10:
                raise RuntimeError("duplicate persons keep reappearing") from remap
            result.conflicts.extend(merge(local, remap.dups, remap.ents, workstation))
            continue
        if after_central_commit is not None:
            after_central_commit()
        _mark(local, entries, refused, errors, result)
        if len(fetched) < batch and len(entries) == len(fetched):
            break
    result.audit_pushed = _push_audit(local, central, workstation, batch, own_only=device)
    return result


def _push_tables(cc: Connection, rows: dict[str, list[dict]], workstation: str, result: PushResult,
                 errors: dict, check: CertificationCheck) -> None:
    for name in ORDER:
        if rows.get(name):
            conflicts, errs = _push_table(cc, TABLES[name], rows[name], workstation, check)
            result.conflicts.extend(conflicts)
            errors.update({(name, k): v for k, v in errs.items()})


def _push_table(cc: Connection, st: SyncTable, rows: list[dict], workstation: str, check: CertificationCheck):
    conflicts: list[dict] = []
    written, errors = _apply(cc, st, rows, central=True)
    name = st.table.name
    if name == "certifications":
        written_certs = [r for r in rows if str(r["id"]) in written]
        conflicts = check(cc, written_certs, workstation) if written_certs else []
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
    return any(norm(a.get(k)) != norm(b.get(k)) for k in a if k != "seq")


def death_dates(cc: Connection, person_ids: Sequence[str]) -> dict[str, date]:
    """{person id: central death date} of those of ``person_ids`` reported dead."""
    persons = _t(Person)
    deaths: dict[str, date] = {}
    for part in _chunks(sorted(set(person_ids))):
        deaths.update(dict(cc.execute(select(persons.c.id, persons.c.death_date)
                                      .where(persons.c.id.in_(part), persons.c.death_date.isnot(None))).all()))
    return deaths


def insert_central_cases(cc: Connection, cases: list[dict], workstation: str) -> None:
    """Record cases centrally with the origin "central" (so the reporting workstation pulls its
    own copy), then act as ``workstation`` again for the rest of the push."""
    if not cases:
        return
    cc.execute(text("SELECT set_config('certdesk.origin', 'central', true)"))
    cc.execute(_pg_insert(_conflicts).on_conflict_do_nothing(index_elements=["id"]), cases)
    cc.execute(text("SELECT set_config('certdesk.origin', :o, true)"), {"o": workstation})


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


def close_central_entries(local: Engine) -> int:
    """An enrolled device never pushes operators or settings (the centre decides them; its role
    may not write them): their waiting entries are closed, not refused."""
    names = [e for e, t in ENTITY_TABLE.items() if t in CENTRAL_OWNED]
    with local.begin() as lc:
        return lc.execute(update(_outbox).where(_outbox.c.pushed_at.is_(None), _outbox.c.entity.in_(names))
                          .values(pushed_at=utcnow(), push_error="central_authority")).rowcount or 0


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
