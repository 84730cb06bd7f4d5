"""Verifying the tamper-evident audit log.

Each workstation's events form a chain: every event stores the hash of the one before it (on the
same workstation) and its own hash over its content. Editing, deleting or inserting an event —
even with the append-only triggers dropped, directly in the file — breaks the chain at that
point. Chains of other workstations merged by the sync are verified the same way.

An enrolled workstation (issue 15 §5) also MACs its own events with its per-device key (HMAC-SHA256,
key in the OS key store), so a chain rewritten and re-hashed without the key is found locally
(``rewritten``). At every sync the centre records a checkpoint (count and head hash of this
device's chain); :func:`verify_with_central` compares the local chain with those checkpoints and
with the centre's copy of the events, and finds what a consistent local rewrite cannot hide:

* ``truncated`` — the local chain is shorter than a checkpoint (events deleted at the end);
* ``rewritten`` — an event the centre holds under the same id has another hash here;
* ``forked`` — from some event on, the local chain and the centre's copy went different ways (a
  restored or cloned database that carried on), or the centre holds two successors of one event.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from db import journal
from db.models import AuditEvent
from desktop.services.database import Database

_audit = AuditEvent.__table__


@dataclass(frozen=True, slots=True)
class AuditCheck:
    ok: bool
    events: int
    workstations: int
    first_broken: dict | None  # {"seq", "id", "workstation", "action", "problem"}

    def as_json(self) -> dict:
        return {"ok": self.ok, "events": self.events, "workstations": self.workstations,
                "first_broken": self.first_broken}


def verify_chain(db: Database) -> AuditCheck:
    last: dict[str | None, str | None] = {}
    count = 0
    broken = None
    mac = _own_mac_key(db)
    with db.engine.connect() as conn:
        for row in journal.iter_audit(conn):
            count += 1
            if broken is not None:
                continue
            ws = row["workstation"]
            expected_prev = last.get(ws)
            problem = None
            if row["prev_hash"] != expected_prev:
                problem = "chain_gap"  # an event before this one was removed, inserted or reordered
            elif row["hash"] != journal.event_hash(row["prev_hash"], dict(row)):
                problem = "content_changed"
            elif mac is not None and ws == mac[0] and (
                    not row.get("mac") or row["mac"] != journal.event_mac(mac[1], row["hash"])):
                problem = "rewritten"  # consistent hashes, but not made with this device's key
            if problem:
                broken = _where(row, problem)
            last[ws] = row["hash"]
    return AuditCheck(broken is None, count, len(last), broken)


def _where(row, problem: str, **extra) -> dict:
    return {"seq": row["seq"] if row is not None else None, "id": row["id"] if row is not None else None,
            "workstation": row["workstation"] if row is not None else None,
            "action": row["action"] if row is not None else None, "problem": problem, **extra}


def _own_mac_key(db: Database) -> tuple[str, bytes] | None:
    """(device id, audit key) of an enrolled workstation, when its key store can be read."""
    if not db.is_sqlite:
        return None
    from desktop.platform import keystore
    from desktop.services.central import audit_key, identity

    ident = identity(db)
    if ident is None:
        return None
    try:
        key = audit_key(ident)
    except keystore.KeyStoreUnavailable:
        return None
    return (ident.device_id, key) if key else None


@dataclass(frozen=True, slots=True)
class CentralCheck:
    checked: bool
    checkpoints: int = 0
    central_events: int = 0
    error: str | None = None  # offline | tls | auth | not_enrolled | …
    message_zh: str | None = None

    def as_json(self) -> dict:
        return {"checked": self.checked, "checkpoints": self.checkpoints, "central_events": self.central_events,
                "error": self.error, "message": self.message_zh}


def verify_with_central(db: Database, local: AuditCheck | None = None, *, central_url: str | None = None,
                        ca_file: str | None = None) -> tuple[AuditCheck, CentralCheck]:
    """The local check, then this device's chain against the centre's checkpoints and copy of its
    events when the centre is reachable. A local break found first is kept (it is earlier)."""
    from desktop.errors import SyncError
    from desktop.services import central as devices
    from desktop.services.sync import resolve_central

    local = local or verify_chain(db)
    ident = devices.identity(db) if db.is_sqlite else None
    if ident is None:
        return local, CentralCheck(False, error="not_enrolled", message_zh="本机未在中心登记，只校验了本机的链")
    url = resolve_central(central_url, db)
    if not url:
        return local, CentralCheck(False, error="no_central", message_zh="未配置中心数据库")
    link = devices.DeviceLink(db, ident, url, ca_file)
    try:
        try:
            with link.engine().connect() as cc:
                from db import central as dbcentral

                points = dbcentral.checkpoints(cc, ident.device_id)
                theirs = [dict(r) for r in cc.execute(
                    select(_audit.c.id, _audit.c.hash, _audit.c.prev_hash)
                    .where(_audit.c.workstation == ident.device_id).order_by(_audit.c.seq)).mappings()]
        except SyncError as exc:
            return local, CentralCheck(False, error=exc.code, message_zh=exc.message_zh)
        except Exception as exc:  # noqa: BLE001 - unreachable: say why, keep the local verdict
            err = devices.connection_error(exc, url)
            return local, CentralCheck(False, error=err.code, message_zh=err.message_zh)
    finally:
        link.dispose()
    with db.engine.connect() as conn:
        mine = [dict(r) for r in conn.execute(select(_audit).where(_audit.c.workstation == ident.device_id)
                                              .order_by(_audit.c.seq)).mappings()]
    problem = _compare(mine, theirs, points)
    check = CentralCheck(True, len(points), len(theirs))
    if local.first_broken is not None or problem is None:
        return local, check
    return AuditCheck(False, local.events, local.workstations, problem), check


def _compare(mine: list[dict], theirs: list[dict], points: list[dict]) -> dict | None:
    children: dict[str | None, int] = {}
    for ev in theirs:
        children[ev["prev_hash"]] = children.get(ev["prev_hash"], 0) + 1
    for k, ev in enumerate(theirs):
        if children.get(ev["prev_hash"], 0) > 1:
            here = mine[k] if k < len(mine) else None
            return _where(here, "forked", central_id=ev["id"])
    for k, ev in enumerate(theirs):
        if k >= len(mine):
            return _where(mine[-1] if mine else None, "truncated", expected=len(theirs), found=len(mine))
        if mine[k]["id"] == ev["id"]:
            if mine[k]["hash"] != ev["hash"]:
                return _where(mine[k], "rewritten", central_hash=ev["hash"])
            continue
        # another event at this place: deleted here (the centre's next one is further on), or the
        # two went different ways after a common event
        later = {e["id"]: i for i, e in enumerate(mine)}
        if ev["id"] in later and later[ev["id"]] > k:
            return _where(mine[k], "forked", central_id=ev["id"])
        if all(e["id"] not in later for e in theirs[k:]):
            return _where(mine[k], "forked", central_id=ev["id"])
        return _where(mine[k], "truncated", expected=len(theirs), found=len(mine), central_id=ev["id"])
    for p in points:
        n = p["count"]
        if n == 0:
            continue
        if n > len(mine):
            return _where(mine[-1] if mine else None, "truncated", expected=n, found=len(mine))
        if mine[n - 1]["hash"] != p["head_hash"]:
            return _where(mine[n - 1], "rewritten", checkpoint=p["seq"])
    return None
