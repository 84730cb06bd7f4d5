"""When and how to sync with the central database (docs/sync.md). Qt-free.

``SyncService.sync_once()`` pushes the outbox and pulls other workstations' changes.
``OnlineMonitor`` decides when the next attempt is due (exponential back-off with jitter while
the central database is unreachable) and keeps the state the status bar shows. The UI polls
``OnlineMonitor.snapshot()`` and runs ``SyncService.sync_once`` on its worker thread; nothing
here blocks for longer than one sync.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from db import sync as dbsync
from db.engine import make_engine
from db.migrate import upgrade
from desktop.errors import SyncError, UserFacingError
from desktop.services import sync_policy
from desktop.services.database import Database
from desktop.platform.workstation import Actor

log = logging.getLogger(__name__)

CENTRAL_SETTING = "central_url"  # sync_state key holding the configured central URL


def redact(url: str) -> str:
    """A URL without its password, for messages and logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    cred, host = rest.rsplit("@", 1)
    return f"{scheme}://{cred.split(':', 1)[0]}@{host}"


def resolve_central(explicit: str | None, local_db: Database | None = None) -> str | None:
    """``--central URL`` > ``CERTDESK_CENTRAL`` > the URL saved in this workstation's database."""
    if explicit:
        return explicit
    env = os.environ.get("CERTDESK_CENTRAL")
    if env:
        return env
    if local_db is not None:
        with local_db.engine.connect() as conn:
            return dbsync.get_state(conn, CENTRAL_SETTING)
    return None


def save_central(local_db: Database, url: str) -> None:
    with local_db.engine.begin() as conn:
        dbsync.set_state(conn, CENTRAL_SETTING, url)


@dataclass(frozen=True, slots=True)
class SyncResult:
    pushed: int
    pulled: int
    conflicts: tuple[dict, ...]
    audit_pushed: int = 0
    rejected: int = 0
    waiting: int = 0

    def as_json(self) -> dict:
        return {"pushed": self.pushed, "pulled": self.pulled, "conflicts": list(self.conflicts),
                "audit_pushed": self.audit_pushed, "rejected": self.rejected, "waiting": self.waiting}


class SyncService:
    """Syncs one workstation database with the central PostgreSQL.

    Thread contract: one ``sync_once`` at a time (a lock enforces it); call it from a worker
    thread, never the GUI thread. The central engine is created lazily and its schema brought
    to head once per service.
    """

    def __init__(self, local_db: Database, central_url: str, workstation: str | None = None, *,
                 ca_file: str | None = None):
        if not central_url:
            raise SyncError("未配置中心数据库地址", code="no_central")
        from desktop.services import central as devices

        self.local = local_db
        self.central_url = central_url
        self.device = devices.identity(local_db)  # None: never enrolled
        if self.device is not None:
            workstation = self.device.device_id  # the centrally allocated identity, nothing else
        elif workstation is None:
            from desktop.platform.workstation import workstation_id

            workstation = workstation_id()
        self.workstation = workstation
        self.ca_file = ca_file
        self._link = None
        self._central: Engine | None = None
        self._identity: str | None = None
        self._lock = threading.Lock()

    def central(self) -> Engine:
        if self._central is None:
            if self.device is not None:
                self._central = self._device_engine()
                return self._central
            from desktop.platform import runmode

            if not runmode.simulation_allowed():
                raise SyncError("本机尚未在中心登记：请管理员运行 certdesk central enrol（中心数据库只接受已登记的工作站）",
                                code="not_enrolled")
            # Demo and test mode only: an unenrolled workstation syncing with the owner's URL
            # (the sync tests of issue 7 run this way; production needs enrolment).
            engine = make_engine(self.central_url)
            try:
                upgrade(engine)
                self._identity = dbsync.central_identity(engine)
            except (OperationalError, DBAPIError) as exc:
                engine.dispose()
                raise SyncError(f"无法连接中心数据库：{redact(self.central_url)}", code="offline") from exc
            self._central = engine
        return self._central

    def _device_engine(self) -> Engine:
        from desktop.services.central import DeviceLink, connection_error

        self._link = DeviceLink(self.local, self.device, self.central_url, self.ca_file)
        try:
            engine = self._link.engine()
            self._identity = dbsync.central_identity(engine)
        except (OperationalError, DBAPIError) as exc:
            self._link.dispose()
            raise connection_error(exc, self.central_url) from exc
        return engine

    def sync_once(self, *, after_central_commit: Callable[[], None] | None = None) -> SyncResult:
        with self._lock:
            central = self.central()
            device = self.device is not None
            try:
                authority: list[dict] = []
                if device:
                    self._link.hello()  # clone check first: a refused twin pushes nothing
                    authority = sync_policy.enforce_authority(self.local.engine, central, self.workstation)
                pushed = sync_policy.push(self.local.engine, central, self.workstation,
                                          after_central_commit=after_central_commit, device=device)
                if device:
                    self._link.checkpoint()
                    self._link.refresh_form_keys()
                pulled = dbsync.pull(self.local.engine, central, self.workstation, identity=self._identity)
            except (OperationalError, DBAPIError) as exc:
                # Drop pooled connections: the server may have restarted.
                central.dispose()
                if device:
                    from desktop.services.central import connection_error

                    raise connection_error(exc, self.central_url) from exc
                raise SyncError("与中心数据库的连接中断，稍后重试", code="offline") from exc
            result = SyncResult(pushed.pushed, pulled.pulled, tuple(authority + pushed.conflicts + pulled.conflicts),
                                pushed.audit_pushed, pushed.rejected, dbsync.waiting(self.local.engine))
            with self.local.engine.begin() as conn:
                dbsync.set_state(conn, "last_sync_at", datetime.now().isoformat(timespec="seconds"))
            log.info("sync: pushed %s, pulled %s, conflicts %s", result.pushed, result.pulled, len(result.conflicts))
            return result

    def waiting(self) -> int:
        return dbsync.waiting(self.local.engine)

    def last_sync(self) -> datetime | None:
        with self.local.engine.connect() as conn:
            value = dbsync.get_state(conn, "last_sync_at")
        return datetime.fromisoformat(value) if value else None

    def open_conflicts(self) -> list[dict]:
        return dbsync.open_conflicts(self.local.engine)

    def refused(self) -> list[dict]:
        """Outbox entries the central database refused (``push_error``)."""
        return dbsync.refused(self.local.engine)

    def close(self) -> None:
        if self._link is not None:
            self._link.dispose()
            self._link = None
            self._central = None
        if self._central is not None:
            self._central.dispose()
            self._central = None


@dataclass(frozen=True, slots=True)
class OnlineState:
    online: bool | None  # None: not tried yet
    offline_since: datetime | None
    waiting: int
    last_sync: datetime | None
    next_attempt_in: float
    last_error: str | None
    syncing: bool

    def text_zh(self) -> str:
        if self.syncing:
            head = "正在同步…"
        elif self.online is None:
            head = "尚未连接中心"
        elif self.online:
            head = "在线"
        else:
            head = f"离线（自 {self.offline_since:%m-%d %H:%M}）" if self.offline_since else "离线"
        parts = [head, f"待上传 {self.waiting} 条"]
        parts.append(f"上次同步 {self.last_sync:%m-%d %H:%M}" if self.last_sync else "从未同步")
        return " · ".join(parts)


class OnlineMonitor:
    """Decides when to try the next sync and remembers the outcome. Qt-free, thread-safe.

    After a success the next attempt is ``interval`` seconds later. After each failure the delay
    doubles from ``base`` up to ``cap``, with ±``jitter`` randomness so counters that lost the
    network together do not hammer the server together when it returns. ``poke()`` (a local
    change was made, or the user pressed 同步) makes the next attempt due now.
    """

    def __init__(self, *, interval: float = 30.0, base: float = 2.0, cap: float = 300.0, jitter: float = 0.2,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], datetime] = datetime.now,
                 rng: random.Random | None = None):
        self.interval, self.base, self.cap, self.jitter = interval, base, cap, jitter
        self._clock, self._now = clock, now
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.failures = 0
        self.online: bool | None = None
        self.offline_since: datetime | None = None
        self.last_sync: datetime | None = None
        self.last_error: str | None = None
        self.waiting = 0
        self.syncing = False
        self._due = clock()

    def delay_after_failure(self, failures: int) -> float:
        raw = min(self.cap, self.base * (2 ** max(0, failures - 1)))
        return max(0.0, raw * (1 + self._rng.uniform(-self.jitter, self.jitter)))

    def due(self) -> bool:
        with self._lock:
            return not self.syncing and self._clock() >= self._due

    def seconds_until_due(self) -> float:
        with self._lock:
            return max(0.0, self._due - self._clock())

    def poke(self) -> None:
        with self._lock:
            self._due = self._clock()

    def started(self) -> None:
        with self._lock:
            self.syncing = True

    def succeeded(self, waiting: int = 0) -> None:
        with self._lock:
            self.syncing = False
            self.failures = 0
            self.online = True
            self.offline_since = None
            self.last_error = None
            self.last_sync = self._now()
            self.waiting = waiting
            self._due = self._clock() + self.interval

    def failed(self, error: str | None = None, waiting: int | None = None) -> float:
        with self._lock:
            self.syncing = False
            self.failures += 1
            if self.online is not False:
                self.offline_since = self._now()
            self.online = False
            self.last_error = error
            if waiting is not None:
                self.waiting = waiting
            delay = self.delay_after_failure(self.failures)
            self._due = self._clock() + delay
            return delay

    def set_waiting(self, waiting: int) -> None:
        with self._lock:
            self.waiting = waiting

    def snapshot(self) -> OnlineState:
        with self._lock:
            return OnlineState(self.online, self.offline_since, self.waiting, self.last_sync,
                               max(0.0, self._due - self._clock()), self.last_error, self.syncing)

    def run_once(self, service: SyncService) -> SyncResult | None:
        """One attempt if due (call from a worker thread): updates the state, never raises
        SyncError."""
        if not self.due():
            return None
        self.started()
        try:
            result = service.sync_once()
        except SyncError as exc:
            waiting = None
            try:
                waiting = service.waiting()
            except Exception:  # the local database should not fail, but never crash the loop
                pass
            self.failed(exc.message_zh, waiting)
            return None
        except Exception as exc:
            self.failed(type(exc).__name__)
            raise
        self.succeeded(result.waiting)
        return result


# --- 同步冲突: cases for a supervisor, refused uploads ----------------------------------------------

KIND_ZH = {
    "certified_after_death": "死亡后仍有认证",
    "duplicate_person_merged": "同一人员在两台工作站新建（已合并）",
    "pull_rejected": "下载的数据本机无法保存",
    "rejected": "上传被中心拒绝",
    "authority_refused": "本机改动了由中心决定的数据（已拒绝并恢复）",
    "authority_local_only": "本机有中心没有的高权限账号",
    "death_before_start": "死亡日期早于待遇开始日期",
    "deregistered_not_death": "户籍注销但不是死亡（待核实）",
}


@dataclass(frozen=True, slots=True)
class ConflictView:
    id: str
    kind: str
    status: str
    person_id: str | None
    name: str
    masked_id: str
    workstation: str | None
    created_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    detail: dict

    @property
    def kind_zh(self) -> str:
        return KIND_ZH.get(self.kind, self.kind)

    @property
    def summary_zh(self) -> str:
        d = self.detail
        if self.kind == "death_before_start":
            starts = "、".join(e.get("start_date", "") for e in d.get("entitlements") or []) or d.get("start_date", "—")
            return (f"登记的死亡日期 {d.get('death_date', '—')} 早于待遇开始日期 {starts}"
                    "：该待遇各月均不应发放，已发月份将在下次发放时追回。请核实死亡日期或待遇开始日期。")
        if self.kind == "certified_after_death" and (d.get("refused") or d.get("source")):
            return (f"已登记死亡（{d.get('death_date', '—')}），之后 {d.get('cert_date', '—')} 又有认证"
                    f"（{d.get('source') or d.get('certified_by') or '—'}），未计入、疑似冒领：请核实死亡登记，"
                    "登记有误则由主管撤销死亡登记；无误则调查该认证。")
        if self.kind == "certified_after_death":
            return (f"中心登记死亡日期 {d.get('death_date', '—')}，之后 {d.get('cert_date', '—')} 仍有认证"
                    f"（{d.get('certified_by') or '—'}@{d.get('certified_at') or '—'}）。请核实：死亡登记有误则在中心撤销；"
                    "认证有误则调查。")
        if self.kind == "deregistered_not_death":
            return (f"死亡名单中该人员的注销原因为“{d.get('reason', '—')}”（{d.get('date') or '无日期'}，"
                    f"{d.get('source', '—')} 第{d.get('line', '—')}行），不是死亡，未登记死亡。"
                    "请核实其是否仍符合领取条件（迁出、出国须另行认证）。")
        if self.kind == "duplicate_person_merged":
            fields = {"name": "姓名", "sex": "性别", "birth_date": "出生日期"}
            differ = "、".join(fields.get(f, f) for f in d.get("differing_fields") or [])
            moved = sum((d.get("repointed") or {}).values())
            return (f"本机新建的人员与中心已有人员身份号码相同，已并入中心记录，{moved} 条本机记录改挂到中心人员。"
                    + (f"两边{differ}不一致（本机：{d.get('local_name')}，中心：{d.get('central_name')}），请核对名册。"
                       if differ else ""))
        if self.kind == "pull_rejected":
            return f"{d.get('error', '')}"
        return json_text(d)

    @property
    def note(self) -> str:
        return self.detail.get("resolution_note") or ""


def json_text(d: dict) -> str:
    import json

    return json.dumps(d, ensure_ascii=False, sort_keys=True, default=str)


class ConflictService:
    """Sync cases (``sync_conflicts``) and refused uploads on this workstation. Works without a
    central database: a resolution is a local change, audited and queued like any other."""

    def __init__(self, db: Database):
        self.db = db

    def cases(self, status: str | None = "open") -> list[ConflictView]:
        import json

        from desktop.domain.idnumber import mask

        with self.db.engine.connect() as conn:
            rows = dbsync.conflict_rows(conn, status)
        out = []
        for r in rows:
            try:
                detail = json.loads(r["detail"]) if r.get("detail") else {}
            except ValueError:
                detail = {"text": r["detail"]}
            out.append(ConflictView(str(r["id"]), r["kind"], r["status"], r.get("person_id"),
                                    r.get("person_name") or "—",
                                    mask(r["person_id_number"]) if r.get("person_id_number") else "—",
                                    r.get("workstation"), r.get("created_at"), r.get("resolved_by"),
                                    r.get("resolved_at"), detail))
        return out

    def resolve(self, conflict_id: str, note: str, actor: Actor) -> bool:
        """A supervisor closes a case with a note (resolved_by/at); audited and queued for sync.
        False when it was already resolved."""
        from db import journal
        from db.models import utcnow
        from desktop.services.guard import require

        require(self.db, actor, "sync.resolve")
        note = (note or "").strip()
        if not note:
            raise UserFacingError("请填写处理说明", code="note_required")
        with self.db.engine.begin() as conn:
            if dbsync.conflict_row(conn, conflict_id) is None:
                raise UserFacingError("没有该同步冲突", code="no_such_conflict")
            done = dbsync.resolve_conflict(conn, conflict_id, actor.operator, note[:500], utcnow()) == 1
            if done:
                journal.audit(conn, actor.operator, actor.workstation, "sync.conflict_resolved", "sync_conflict",
                              conflict_id, {"note": note[:500]})
                journal.enqueue(conn, [("sync_conflict", conflict_id, None)])
        return done

    def refused(self) -> list[dict]:
        return dbsync.refused(self.db.engine)

    def refused_count(self) -> int:
        return dbsync.refused_count(self.db.engine)

    def retry_refused(self, actor: Actor, seqs=None) -> int:
        """重试: clear ``push_error`` so the next sync pushes those entries again (after the cause
        was fixed, e.g. on the central database). Audited."""
        from db import journal
        from desktop.services.guard import require

        require(self.db, actor, "sync.resolve")
        with self.db.engine.begin() as conn:
            n = dbsync.clear_refused(conn, seqs)
            journal.audit(conn, actor.operator, actor.workstation, "sync.retry_refused", None, None, {"entries": n})
        return n
