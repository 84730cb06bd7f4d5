"""Opening the database: URL resolution, migrations, the rule table."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from db import engine as db_engine
from db.encryption import EncryptionError
from db.engine import make_engine, session_factory, sqlite_url
from db.migrate import upgrade
from desktop.platform import paths
from desktop.errors import UserFacingError
from desktop.domain.rules import CycleRule, RuleTable


class DatabaseLocked(UserFacingError):
    code = "database_key_mismatch"


OPEN_REFUSALS = {
    "wrong_key": ("本机数据库无法用本系统账户的密钥打开（系统账户或密钥库已更换？）。数据没有丢失：请联系信息科用恢复密钥解锁"
                  "（certdesk recovery unlock），或从中心重新同步",
                  "database_key_mismatch"),
    "busy": ("数据库正被另一个程序使用，无法完成加密升级。请关闭其他 CertDesk 窗口后重试", "database_busy"),
}


def database_key(path: Path | None = None) -> bytes:
    """The key of a local database file: this OS account's ``database-key`` (desktop/platform/keystore.py)."""
    from desktop.platform import keystore

    return keystore.get_key(keystore.DATABASE_KEY)


db_engine.set_key_provider(database_key)


def open_engine(url: str):
    """``make_engine`` with a refused file said in Chinese (wrong key, busy during migration).
    Once the key has opened the file, and where the bureau deployed a recovery public key, the
    key is escrowed beside it (desktop/platform/recovery.py) — wrapped so that only the centre's private
    key opens it; never before (a wrong key must not replace a good escrow)."""
    try:
        engine = make_engine(url)
    except EncryptionError as exc:
        message, code = OPEN_REFUSALS.get(exc.code, ("本机数据库文件已损坏或无法读取，请联系信息科从备份恢复", "database_unreadable"))
        raise DatabaseLocked(message, code=code) from None
    path = db_engine.sqlite_file(url)
    if path is not None and db_engine.is_encrypted(engine):
        from desktop.platform import recovery

        recovery.ensure_escrow(path, database_key(path))
    return engine


def resolve_url(explicit: str | None = None, demo: bool = False) -> str:
    """``--db URL`` > ``CERTDESK_DB`` > the local SQLite file in the user's data directory.

    A bare file path is accepted as an SQLite database.
    """
    url = explicit or os.environ.get("CERTDESK_DB")
    if not url:
        return sqlite_url(paths.default_db_path(demo))
    if "://" not in url:
        return sqlite_url(Path(url).resolve())
    return url


def _device_keys(db: "Database") -> None:
    """An enrolled workstation MACs its audit events with its own key (from the OS key store)."""
    from sqlalchemy import text

    with db.engine.connect() as conn:
        enrolled = conn.execute(text("SELECT 1 FROM sync_state WHERE key = 'device_id'")).first()
    if enrolled:
        from desktop.services.central import register_audit_key

        register_audit_key(db)


@dataclass
class Database:
    url: str
    engine: Engine

    @classmethod
    def open(cls, url: str | None = None, *, demo: bool = False, migrate: bool = True) -> "Database":
        resolved = resolve_url(url, demo)
        engine = open_engine(resolved)
        if migrate:
            upgrade(engine)
        db = cls(resolved, engine)
        if migrate and engine.dialect.name == "sqlite":
            _device_keys(db)
        return db

    def session(self):
        return session_factory(self.engine)()

    def rule_table(self) -> RuleTable:
        from db.repositories import rule_rows

        with self.engine.connect() as conn:
            rows = rule_rows(conn)
        return RuleTable(
            {
                r["cohort"]: CycleRule(r["cohort"], r["kind"], r["period"], r["warn_days"], r["suspend_offset_months"])
                for r in rows
            }
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()
