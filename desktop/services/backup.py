"""Backups of the local database, encrypted with its own key and verified (issue 16).

``backup``: SQLite's online backup API copies the live database (the app may keep running) into
a temporary file under the *same* key, the copy passes ``integrity_check`` and every table's row
count equals the snapshot it was copied from; only then does it take the backup's name (0600),
with ``<backup>.mac`` beside it (an HMAC of the whole file, checked first by a restore). Where
the bureau deployed a recovery public key the backup gets its own key escrow (desktop/platform/recovery.py).

``restore``: the backup is opened with this account's key and checked completely *before*
anything is replaced; then the backup API copies it over the live database in one step (other
connections see the old or the new database, never a mix) and the schema is brought up to date.
"""

from __future__ import annotations

from pathlib import Path

from db import encryption, journal
from db.engine import is_encrypted, sqlite_file
from db.migrate import upgrade
from desktop.platform import keystore, recovery
from desktop.errors import NotFound, UserFacingError
from desktop.services.database import Database
from desktop.services.guard import require
from desktop.platform.workstation import Actor

# a CertDesk database has at least these (a foreign SQLite file is refused before restoring)
REQUIRED_TABLES = ("alembic_version", "persons", "audit_log")

_REFUSED = {
    "wrong_key": ("备份文件无法用本机的数据库密钥打开（另一台电脑或另一个系统账户的备份？请信息科用恢复密钥解锁）", "backup_wrong_key"),
    "plaintext": ("备份文件没有加密（不是 certdesk backup 生成的），不能恢复", "backup_not_encrypted"),
    "integrity": ("备份文件已损坏（完整性检查未通过），没有替换任何数据", "backup_corrupt"),
    "unreadable": ("备份文件已损坏，无法读取，没有替换任何数据", "backup_corrupt"),
    "not_certdesk": ("该文件不是 CertDesk 数据库的备份，没有替换任何数据", "backup_not_certdesk"),
    "row_counts": ("备份校验失败（行数不一致），请重新备份", "backup_verify_failed"),
    "no_mac": ("找不到备份的校验文件（备份文件名后加 .mac），无法确认备份完好，没有替换任何数据", "backup_mac_missing"),
}


class BackupError(UserFacingError):
    code = "backup_failed"


def _refusal(exc: encryption.EncryptionError) -> BackupError:
    message, code = _REFUSED.get(exc.code, ("备份文件无法读取", "backup_unreadable"))
    return BackupError(message, code=code)


class BackupService:
    def __init__(self, db: Database):
        self.db = db

    def _local_file(self) -> Path:
        path = sqlite_file(self.db.url)
        if path is None or not is_encrypted(self.db.engine):
            raise BackupError("只能备份加密的本机数据库；中心数据库请用 PostgreSQL 自己的备份工具", code="not_local_database")
        return path

    def backup(self, dest: str | Path, actor: Actor) -> dict:
        require(self.db, actor, "data.backup")
        live = self._local_file()
        dest = Path(dest).resolve()
        if dest == live.resolve() or dest.name.startswith(live.name + "-"):
            raise BackupError("备份文件不能是数据库本身", code="backup_is_database")
        if not dest.parent.is_dir():
            raise NotFound(f"备份文件夹不存在：{dest.parent}", code="folder_not_found")
        key = keystore.get_key(keystore.DATABASE_KEY)
        with self.db.engine.begin() as conn:
            journal.audit(conn, actor.operator, actor.workstation, "database.backup", None, None, {"file": dest.name})
        try:
            with self.db.engine.connect() as conn:
                counts = encryption.backup_to(conn.connection.driver_connection, dest, key)
        except encryption.EncryptionError as exc:
            raise _refusal(exc) from None
        except OSError as exc:
            raise BackupError(f"无法写入备份文件：{exc.strerror or exc}", code="backup_write_failed") from None
        escrow = recovery.ensure_escrow(dest, key)
        return {"file": str(dest), "bytes": dest.stat().st_size, "encrypted": True, "verified": True,
                "integrity": "ok", "tables": len(counts), "rows": sum(counts.values()),
                "mac": str(encryption.mac_path(dest)), "escrow": str(escrow) if escrow else None}

    def restore(self, source: str | Path, actor: Actor) -> dict:
        require(self.db, actor, "data.restore")
        self._local_file()
        source = Path(source).resolve()
        if not source.is_file():
            raise NotFound(f"找不到备份文件：{source}", code="file_not_found")
        key = keystore.get_key(keystore.DATABASE_KEY)
        try:
            with self.db.engine.connect() as conn:
                counts = encryption.restore_from(source, key, conn.connection.driver_connection,
                                                 require_tables=REQUIRED_TABLES)
        except encryption.EncryptionError as exc:
            raise _refusal(exc) from None
        self.db.engine.dispose()  # pooled connections start afresh on the restored database
        upgrade(self.db.engine)  # an older backup gets this version's schema
        with self.db.engine.begin() as conn:
            journal.audit(conn, actor.operator, actor.workstation, "database.restore", None, None,
                          {"file": source.name, "rows": sum(counts.values())})
        return {"restored": str(source), "integrity": "ok", "tables": len(counts), "rows": sum(counts.values())}
