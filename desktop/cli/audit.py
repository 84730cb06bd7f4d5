"""``certdesk audit verify --json`` → {"ok", "events", "first_broken"}."""

from __future__ import annotations

from desktop.cli import emit
from desktop.cli._common import add_json, open_db, signed_in


def register(sub) -> None:
    audit = sub.add_parser("audit", help="审计日志").add_subparsers(dest="audit_command")
    p = audit.add_parser("verify", help="校验审计日志的哈希链是否完整")
    add_json(p)
    p.set_defaults(handler=_verify)


def _verify(args) -> int:
    from desktop.services.audit import verify_chain
    from desktop.services.guard import require

    db = open_db(args)
    require(db, signed_in(args), "audit.verify")
    result = verify_chain(db)
    if args.json:
        emit(result.as_json())
    elif result.ok:
        print(f"审计日志完整：{result.events} 条记录，{result.workstations} 个工作站")
    else:
        fb = result.first_broken
        print(f"审计日志被篡改或缺失：第 {fb['seq']} 条（{fb['action']}，工作站 {fb['workstation']}）起链条断开")
    return 0 if result.ok else 3
