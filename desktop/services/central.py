"""Enrolled devices and the central admin steps (issue 15 §2–§5). Qt-free.

* ``migrate`` — ``certdesk central migrate``: the schema owner brings the central database to
  head and (re)installs the authority layer (db/central.py). Workstations never migrate it.
* ``enrol`` — ``certdesk central enrol``: an admin gives this workstation a centrally allocated
  identity: a device id (also its PostgreSQL role), a serial tag, a new installation id bound to
  this database, a first sync token; the role's password and the device's audit-MAC key go to
  the OS key store (desktop/platform/keystore.py), never into the database.
* ``rotate_form_key`` — ``certdesk central keys rotate``: a new form-signing key made centrally;
  devices fetch every key at their next sync, so forms signed with an older key still verify.
* ``DeviceLink`` — what ``SyncService`` and ``audit verify`` use to reach the centre as this
  device: TLS with ``sslmode=verify-full`` and the configured CA file, the clone check
  (``certdesk_hello``), key distribution and audit checkpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from db import central as dbcentral
from db import journal
from db import sync as dbsync
from db.engine import make_engine
from db.migrate import current_revision, head_revision, upgrade
from db.models import AuditEvent, utcnow
from desktop.platform import keystore
from desktop.formats import qrsign
from desktop.errors import SyncError, UserFacingError
from desktop.services.database import Database
from desktop.platform.workstation import Actor

log = logging.getLogger(__name__)

CENTRAL_SETTING = "central_url"
CA_SETTING = "central_ca"

MSG_CLONE = ("本机的中心身份已被另一份数据库使用（多半是克隆的系统镜像或拷贝的数据库），中心已拒绝同步。"
             "请管理员在本机运行 certdesk central enrol 重新登记，使本机获得新的身份")
MSG_OTHER_INSTALL = ("这份数据库不是登记本机身份时的那一份（安装编号不符，可能是拷贝或还原的数据库），中心已拒绝同步。"
                     "请管理员运行 certdesk central enrol 重新登记本机")
MSG_NOT_ENROLLED = "本机在中心的登记已被撤销或不存在，请管理员运行 certdesk central enrol 重新登记"


@dataclass(frozen=True, slots=True)
class Identity:
    device_id: str
    tag: str
    install_id: str

    def secret(self, kind: str) -> str:
        return keystore.secret_name(kind, self.device_id, self.install_id)


def identity(db: Database) -> Identity | None:
    """This database's enrolment, or None (standalone, or never enrolled)."""
    with db.engine.connect() as conn:
        dev = dbsync.get_state(conn, "device_id")
        if not dev:
            return None
        return Identity(dev, dbsync.get_state(conn, "device_tag") or "", dbsync.get_state(conn, "install_id") or "")


# --- connections ----------------------------------------------------------------------------------


def tls_url(url: str, ca_file: str | None, *, user: str | None = None, password: str | None = None) -> str:
    """``url`` with ``sslmode=verify-full`` (unless the URL names a mode itself), the CA file,
    and the given user/password. The result holds a password: never log it."""
    u = make_url(url if "://" in url else f"postgresql://{url}")
    query = dict(u.query)
    query.setdefault("sslmode", "verify-full")
    if ca_file:
        query["sslrootcert"] = str(Path(ca_file).resolve())
    u = u.set(query=query)
    if user is not None:
        u = u.set(username=user)
    if password is not None:
        u = u.set(password=password)
    return u.render_as_string(hide_password=False)


def redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "<central>"


TLS_WORDS = ("ssl", "certificate", "tls", "root cert", "does not match host name", "no encryption")


def connection_error(exc: BaseException, url: str) -> SyncError:
    """A Chinese message that says what went wrong: TLS, credentials, or simply offline."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    if any(w in text for w in TLS_WORDS):
        return SyncError(f"与中心数据库的加密连接（TLS）校验失败：服务器证书无法用配置的 CA 证书验证，或服务器未启用 TLS。"
                         f"请检查 CA 证书文件（certdesk sync --ca 文件）和中心服务器证书（{redact(url)}）", code="tls")
    if "password authentication failed" in text or "authentication failed" in text:
        return SyncError("中心数据库拒绝了本机的凭据：本机的登记可能已被撤销，请管理员重新登记（certdesk central enrol）",
                         code="auth")
    return SyncError(f"无法连接中心数据库：{redact(url)}", code="offline")


def resolve_ca(db: Database | None, explicit: str | None = None) -> str | None:
    """``--ca FILE`` > ``CERTDESK_CENTRAL_CA`` > the CA file saved on this workstation."""
    if explicit:
        return explicit
    env = os.environ.get("CERTDESK_CENTRAL_CA")
    if env:
        return env
    if db is not None:
        with db.engine.connect() as conn:
            return dbsync.get_state(conn, CA_SETTING)
    return None


def save_ca(db: Database, path: str) -> str:
    p = Path(path)
    if not p.is_file():
        raise UserFacingError(f"找不到 CA 证书文件：{path}", code="no_ca_file")
    with db.engine.begin() as conn:
        dbsync.set_state(conn, CA_SETTING, str(p.resolve()))
    return str(p.resolve())


def admin_engine(url: str, ca_file: str | None) -> Engine:
    """The central database as its schema owner (central admin steps only), over verified TLS.
    A standalone installation (its own centre) may name its SQLite file (keys rotate only)."""
    if not url.startswith(("postgresql", "postgres")):
        from desktop.services.database import resolve_url

        return make_engine(resolve_url(url))
    return make_engine(tls_url(url, ca_file))


def _require_admin(db: Database, actor: Actor) -> None:
    from desktop.services.guard import require

    require(db, actor, "central.admin")


def _check_head(engine: Engine, url: str) -> None:
    try:
        rev = current_revision(engine)
    except (OperationalError, DBAPIError) as exc:
        raise connection_error(exc, url) from exc
    if rev != head_revision():
        raise SyncError(f"中心数据库的结构版本（{rev or '空'}）与本程序（{head_revision()}）不一致："
                        "请管理员先运行 certdesk central migrate", code="central_schema")


# --- admin steps ----------------------------------------------------------------------------------


def migrate(db: Database, admin_url: str, actor: Actor, *, ca_file: str | None = None) -> dict:
    _require_admin(db, actor)
    engine = admin_engine(admin_url, ca_file)
    try:
        try:
            ran = upgrade(engine)
            with engine.begin() as conn:
                dbcentral.install_authority(conn)
                journal.audit(conn, actor.operator, "central", "central.migrate", None, None,
                              {"revision": head_revision(), "migrated": ran})
        except (OperationalError,) as exc:
            raise connection_error(exc, admin_url) from exc
    finally:
        engine.dispose()
    return {"revision": head_revision(), "migrated": ran, "authority": dbcentral.VERSION}


@dataclass(frozen=True, slots=True)
class Enrolment:
    device_id: str
    tag: str
    install_id: str
    central: str  # the device's URL, without a password

    def as_json(self) -> dict:
        return {"device_id": self.device_id, "tag": self.tag, "install_id": self.install_id, "central": self.central}


def enrol(db: Database, admin_url: str, actor: Actor, *, name: str | None = None, ca_file: str | None = None,
          device_url: str | None = None) -> Enrolment:
    """Give this workstation (``db``) a new central identity. Re-enrolling (after a clone was
    refused, or a restore) makes a new identity; the old one stays with whoever holds it."""
    _require_admin(db, actor)
    if not db.is_sqlite:
        raise UserFacingError("只能登记工作站本机的数据库（SQLite），不能登记中心数据库本身", code="not_a_workstation")
    ca_file = resolve_ca(db, ca_file)
    engine = admin_engine(admin_url, ca_file)
    install_id, token = str(uuid.uuid4()), secrets.token_hex(16)
    try:
        _check_head(engine, admin_url)
        with engine.begin() as conn:
            if not dbcentral.authority_installed(conn):
                raise UserFacingError("中心数据库尚未安装权限控制：请先运行 certdesk central migrate", code="central_schema")
            device_id, tag, password = dbcentral.create_device(
                conn, name=name, install_id=install_id, token=token, enrolled_by=actor.operator, when=utcnow())
            journal.audit(conn, actor.operator, "central", "central.enrol", "device", None,
                          {"device_id": device_id, "tag": tag, "name": name, "from": actor.workstation})
    except (OperationalError,) as exc:
        raise connection_error(exc, admin_url) from exc
    finally:
        engine.dispose()
    ident = Identity(device_id, tag, install_id)
    keystore.set_secret(ident.secret("pg"), password)
    keystore.set_secret(ident.secret("audit"), secrets.token_hex(32))
    base = make_url(tls_url(device_url or admin_url, None))
    query = {k: v for k, v in base.query.items() if k not in ("sslrootcert",)}
    dev_url = base.set(username=device_id, password=None, query=query).render_as_string(hide_password=False)
    with db.engine.begin() as conn:
        for key, value in (("device_id", device_id), ("device_tag", tag), ("install_id", install_id),
                           ("device_token", token), (CENTRAL_SETTING, dev_url)):
            dbsync.set_state(conn, key, value)
        dbsync.delete_state(conn, "device_token_next")
        if ca_file:
            dbsync.set_state(conn, CA_SETTING, str(Path(ca_file).resolve()))
        journal.audit(conn, actor.operator, actor.workstation, "central.enrolled", "device", None,
                      {"device_id": device_id, "tag": tag})
    _set_workstation_file(device_id)
    register_audit_key(db)
    return Enrolment(device_id, tag, install_id, dev_url)


def _set_workstation_file(device_id: str) -> None:
    """From now on this installation's actors record the centrally allocated id."""
    from desktop.platform import paths

    try:
        (paths.config_dir() / "workstation.json").write_text(json.dumps({"id": device_id}), encoding="utf-8")
    except OSError:  # pragma: no cover - a read-only config folder
        log.warning("enrol: could not write workstation.json")


def rotate_form_key(db: Database, admin_url: str, actor: Actor, *, ca_file: str | None = None) -> str:
    _require_admin(db, actor)
    engine = admin_engine(admin_url, resolve_ca(db, ca_file))
    try:
        _check_head(engine, admin_url)
        with engine.begin() as conn:
            key_id = dbcentral.add_form_key(conn, actor.operator, utcnow())
            journal.audit(conn, actor.operator, "central", "central.form_key_rotated", None, None, {"key_id": key_id})
    except OperationalError as exc:
        raise connection_error(exc, admin_url) from exc
    finally:
        engine.dispose()
    return key_id


def list_devices(db: Database, admin_url: str, actor: Actor, *, ca_file: str | None = None) -> list[dict]:
    _require_admin(db, actor)
    engine = admin_engine(admin_url, resolve_ca(db, ca_file))
    try:
        with engine.connect() as conn:
            return dbcentral.devices(conn)
    except OperationalError as exc:
        raise connection_error(exc, admin_url) from exc
    finally:
        engine.dispose()


# --- the device's side ----------------------------------------------------------------------------


class DeviceLink:
    """This enrolled workstation's connection to the centre, as its own role over verified TLS."""

    def __init__(self, db: Database, ident: Identity, central_url: str, ca_file: str | None = None):
        self.db = db
        self.ident = ident
        self.central_url = central_url
        self.ca_file = resolve_ca(db, ca_file)
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        if self._engine is None:
            password = keystore.get_secret(self.ident.secret("pg"))
            if not password:
                raise SyncError("系统密钥库中没有本机的中心凭据（可能换了 Windows 账号或重装了系统）："
                                "请管理员运行 certdesk central enrol 重新登记", code="no_credential")
            engine = make_engine(tls_url(self.central_url, self.ca_file, user=self.ident.device_id, password=password))
            try:
                _check_head(engine, self.central_url)
            except SyncError:
                engine.dispose()
                raise
            self._engine = engine
        return self._engine

    def hello(self) -> None:
        """The clone check: present this database's installation id and sync token; the centre
        replaces the token (the next one is saved here first, so a lost answer is harmless)."""
        with self.db.engine.begin() as conn:
            token = dbsync.get_state(conn, "device_token") or ""
            nxt = dbsync.get_state(conn, "device_token_next")
            if not nxt:
                nxt = secrets.token_hex(16)
                dbsync.set_state(conn, "device_token_next", nxt)
        try:
            with self.engine().begin() as cc:
                dbcentral.hello(cc, self.ident.install_id, token, nxt)
        except DBAPIError as exc:
            text = str(exc.orig or exc)
            for marker, message, code in (("certdesk:clone", MSG_CLONE, "clone_detected"),
                                          ("certdesk:other_installation", MSG_OTHER_INSTALL, "clone_detected"),
                                          ("certdesk:not_enrolled", MSG_NOT_ENROLLED, "not_enrolled")):
                if marker in text:
                    self._record_refusal(code)
                    raise SyncError(message, code=code) from exc
            raise
        with self.db.engine.begin() as conn:
            dbsync.set_state(conn, "device_token", nxt)
            dbsync.delete_state(conn, "device_token_next")

    def _record_refusal(self, code: str) -> None:
        try:
            with self.db.engine.begin() as conn:
                journal.audit(conn, "system", self.ident.device_id, "sync.refused_identity", "device", None,
                              {"code": code})
        except Exception:  # noqa: BLE001 - the refusal itself is what matters
            pass

    def refresh_form_keys(self) -> int:
        """Fetch every central form key into the OS key store (the newest signs; all verify)."""
        with self.engine().connect() as cc:
            rows = dbcentral.form_keys(cc)
        if not rows:
            return 0
        current = [r for r in rows if r["retired_at"] is None][-1:] or rows[-1:]
        doc = {"current": current[0]["key_id"], "keys": {r["key_id"]: r["secret"] for r in rows}}
        keystore.set_secret(self.ident.secret("forms"), json.dumps(doc))
        return len(rows)

    def checkpoint(self) -> dict:
        """Anchor this device's audit chain at the centre (after its events were pushed)."""
        head = own_chain_head(self.db, self.ident.device_id)
        mac = device_checkpoint_mac(self.ident, head["count"], head["hash"])
        with self.engine().begin() as cc:
            seq = dbcentral.checkpoint(cc, head["count"], head["id"], head["hash"], mac)
        return {**head, "seq": seq}

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


# --- audit MAC key ----------------------------------------------------------------------------------


def audit_key(ident: Identity) -> bytes | None:
    value = keystore.get_secret(ident.secret("audit"))
    return bytes.fromhex(value) if value else None


def register_audit_key(db: Database) -> bool:
    """Make the journal MAC this device's events with its key (enrolled databases only)."""
    ident = identity(db)
    if ident is None:
        return False
    try:
        key = audit_key(ident)
    except keystore.KeyStoreUnavailable:
        log.warning("audit: the key store is unavailable; events are hashed but not MACed")
        return False
    if key is None:
        return False
    journal.register_mac_key(db.engine, ident.device_id, key)
    return True


def device_checkpoint_mac(ident: Identity, count: int, head_hash: str | None) -> str | None:
    key = audit_key(ident)
    if key is None:
        return None
    msg = f"certdesk-checkpoint|{ident.device_id}|{count}|{head_hash or ''}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def own_chain_head(db: Database, device_id: str) -> dict:
    audit = AuditEvent.__table__
    with db.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(audit).where(audit.c.workstation == device_id)).scalar_one()
        last = conn.execute(select(audit.c.id, audit.c.hash).where(audit.c.workstation == device_id)
                            .order_by(audit.c.seq.desc()).limit(1)).first()
    return {"count": count, "id": last[0] if last else None, "hash": last[1] if last else None}


# --- form keys on this installation ---------------------------------------------------------------


def form_key_ring(db: Database) -> qrsign.FormKeys | None:
    """The form keys an enrolled device received at sync (None when not enrolled)."""
    ident = identity(db)
    if ident is None:
        return None

    def load() -> tuple[dict[str, bytes], str | None]:
        try:
            raw = keystore.get_secret(ident.secret("forms"))
        except keystore.KeyStoreUnavailable:
            raw = None
        doc = json.loads(raw) if raw else {"current": None, "keys": {}}
        return {k: bytes.fromhex(v) for k, v in doc["keys"].items()}, doc.get("current")

    keys, current = load()
    return qrsign.FormKeys(keys, current, loader=load)


def central_key_ring(db: Database) -> qrsign.FormKeys:
    """Form keys read straight from the central database (a command run on it with --db)."""
    with db.engine.connect() as conn:
        rows = dbcentral.form_keys(conn)
    current = [r for r in rows if r["retired_at"] is None][-1:]
    return qrsign.FormKeys({r["key_id"]: bytes.fromhex(r["secret"]) for r in rows},
                           current[0]["key_id"] if current else None)
