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

from desktop.errors import CertDeskError

# Top-level options every command shares (parsed before the sub-command).
GLOBAL_HELP = "certdesk [--db URL] <command> …"


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text}") from None


def emit(doc: Any) -> None:
    """Print one JSON document (UTF-8, Chinese unescaped)."""
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str, indent=1) + "\n")
    sys.stdout.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="certdesk", description="社保待遇资格认证柜台系统（命令行）")
    parser.add_argument("--db", help="SQLAlchemy URL of the database (default: CERTDESK_DB or the local SQLite file)")
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
        return 1
