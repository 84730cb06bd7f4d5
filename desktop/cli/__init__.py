"""The headless command line: ``certdesk <command> …``.

Each module in this package registers its own sub-commands via ``register(subparsers)``; modules
are discovered by name so an area (forms, idcard, face, sync …) adds a module without touching
this file. A command prints one JSON document on stdout when ``--json`` is given. Nothing here
imports Qt or the face models at module level: commands that open no window start fast.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from datetime import date
from typing import Any, Callable

from desktop.errors import CertDeskError, DeviceError, NotFound, SyncError

# Top-level options every command shares (parsed before the sub-command).
GLOBAL_HELP = "certdesk [--db URL] [--operator NAME] <command> …"

# Exit statuses (documented in --help and the README).
EXIT_OK, EXIT_USAGE, EXIT_REFUSED, EXIT_NOT_FOUND, EXIT_DEVICE = 0, 2, 3, 4, 5
EPILOG = """退出状态 / exit status: 0 完成 done; 2 用法错误 usage; 3 被规则拒绝 refused by a rule (权限、登录、数据校验);
4 未找到 not found; 5 设备或网络 device or network. --json 的错误都有 "error" 和 "message".

登录 / sign-in: 读取个人信息或改动数据的命令须以工作人员身份运行：--operator 用户名（随后输入密码），
计划任务用环境变量 CERTDESK_OPERATOR 和 CERTDESK_PASSWORD。新数据库先运行 certdesk init。
诊断命令（--version、selftest、devices probe、idcard check/decode）无需登录。"""


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text}") from None


def emit(doc: Any) -> None:
    """Print one JSON document (UTF-8, Chinese unescaped)."""
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str, indent=1) + "\n")
    sys.stdout.flush()


def emit_stream(doc: dict, *, out=None) -> None:
    """Print one JSON document like :func:`emit`, written piece by piece: each element of a
    top-level list is encoded on its own (one per line, by the C encoder), so an answer of
    500,000 instructions is never one string in memory (a payroll month at bureau scale)."""
    out = out or sys.stdout
    dumps = json.JSONEncoder(ensure_ascii=False, default=str).encode
    out.write("{")
    for n, (key, value) in enumerate(doc.items()):
        out.write(f'{"," if n else ""}\n {dumps(key)}: ')
        if isinstance(value, list) and value:
            out.write("[\n  ")
            for k in range(0, len(value), 2000):
                out.write(",\n  ".join(map(dumps, value[k:k + 2000])))
                if k + 2000 < len(value):
                    out.write(",\n  ")
            out.write("\n ]")
        else:
            out.write(dumps(value))
    out.write("\n}\n")
    out.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="certdesk", description="社保待遇资格认证柜台系统（命令行）", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="SQLAlchemy URL of the database (default: CERTDESK_DB or the local SQLite file)")
    parser.add_argument("--operator", help="以该工作人员身份运行（随后输入密码；或设置 CERTDESK_OPERATOR/CERTDESK_PASSWORD）")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register: Callable | None = getattr(module, "register", None)
        if register:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from desktop import __version__

        print(__version__)
        return 0
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except CertDeskError as exc:
        if getattr(args, "json", False):
            emit({"error": exc.code, "message": exc.message_zh})
        else:
            print(f"错误：{exc.message_zh}", file=sys.stderr)
        return exit_status(exc)


def exit_status(exc: CertDeskError) -> int:
    if isinstance(exc, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(exc, (SyncError, DeviceError)):
        return EXIT_DEVICE
    return EXIT_REFUSED
