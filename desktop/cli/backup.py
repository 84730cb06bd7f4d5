"""``certdesk backup FILE``, ``certdesk restore FILE`` and ``certdesk recovery keygen|unlock``.

backup / restore need a supervisor or an admin signed in (desktop/services/backup.py).
``recovery unlock`` cannot sign in — the accounts are inside the database it unlocks — so the
recovery private key and its passphrase (held by IT at the centre) are its authority; it is
audited in the unlocked database. ``recovery keygen`` touches no database.
"""

from __future__ import annotations

import sys
from pathlib import Path

from desktop.cli import emit
from desktop.cli._common import add_json, services, signed_in


def register(sub) -> None:
    p = sub.add_parser("backup", help="备份本机数据库（用同一密钥加密，写入后校验）")
    p.add_argument("file", help="备份文件")
    add_json(p)
    p.set_defaults(handler=_backup)

    p = sub.add_parser("restore", help="从备份恢复本机数据库（先完整校验，再替换）")
    p.add_argument("file", help="certdesk backup 生成的备份文件")
    add_json(p)
    p.set_defaults(handler=_restore)

    rec = sub.add_parser("recovery", help="恢复密钥：系统账户丢失后解锁本机数据库").add_subparsers(dest="recovery_command")
    p = rec.add_parser("keygen", help="生成本局的恢复密钥对（私钥留在中心，公钥部署到各工作站）")
    p.add_argument("--private-out", required=True, help="恢复私钥文件（用口令加密，离线保存）")
    p.add_argument("--public-out", required=True, help="恢复公钥文件（部署为配置文件夹中的 recovery-public.pem）")
    p.add_argument("--passphrase-stdin", action="store_true", help="从标准输入读取私钥口令")
    add_json(p)
    p.set_defaults(handler=_keygen)
    p = rec.add_parser("unlock", help="用恢复私钥解锁本机数据库，并改用当前系统账户的密钥")
    p.add_argument("--private-key", required=True, help="恢复私钥文件")
    p.add_argument("--passphrase-stdin", action="store_true", help="从标准输入读取私钥口令")
    add_json(p)
    p.set_defaults(handler=_unlock)


def _backup(args) -> int:
    return _service(args, "backup", lambda out: f"已备份到 {out['file']}（{out['rows']} 行，已加密并校验）")


def _restore(args) -> int:
    return _service(args, "restore", lambda out: f"已从 {out['restored']} 恢复（{out['rows']} 行，完整性检查通过）")


def _service(args, method: str, say) -> int:

    actor = signed_in(args, changes=method == "restore")
    out = getattr(services(args).backup, method)(args.file, actor)
    if args.json:
        emit(out)
    else:
        print(say(out))
    return 0


def _passphrase(args) -> bytes:
    import getpass

    from desktop.platform.recovery import RecoveryError

    if args.passphrase_stdin:
        text = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin is not None and sys.stdin.isatty():
        text = getpass.getpass("恢复私钥的口令：")
    else:
        raise RecoveryError("没有口令：交互使用时输入，或用 --passphrase-stdin 从标准输入读取", code="passphrase_missing")
    return text.encode("utf-8")


def _keygen(args) -> int:
    from desktop.platform import recovery

    fp = recovery.keygen(Path(args.private_out), Path(args.public_out), _passphrase(args))
    out = {"private_key": str(Path(args.private_out).resolve()), "public_key": str(Path(args.public_out).resolve()),
           "fingerprint": fp}
    if args.json:
        emit(out)
    else:
        print(f"已生成恢复密钥对（指纹 {fp}）。私钥离线保存在中心；公钥复制到各工作站配置文件夹，命名为 recovery-public.pem")
    return 0


def _unlock(args) -> int:
    from db import journal
    from db.engine import sqlite_file
    from desktop.platform import recovery
    from desktop.errors import UserFacingError
    from desktop.services.database import Database, resolve_url
    from desktop.platform.workstation import workstation_id

    url = resolve_url(getattr(args, "db", None))
    path = sqlite_file(url)
    if path is None:
        raise UserFacingError("只有本机数据库文件需要解锁", code="not_local_database")
    private = recovery.load_private(Path(args.private_key), _passphrase(args))
    out = recovery.unlock(path, private)
    db = Database.open(url)
    try:
        with db.engine.begin() as conn:
            journal.audit(conn, "recovery-key", workstation_id(), "database.recovered", None, None,
                          {"rekeyed": out["rekeyed"], "rows": out["rows"]})
    finally:
        db.dispose()
    if args.json:
        emit(out)
    else:
        print(f"已解锁 {out['database']}（{out['rows']} 行），此后使用当前系统账户的密钥")
    return 0
