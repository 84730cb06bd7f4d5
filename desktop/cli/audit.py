"""``certdesk audit verify --json`` → {"ok", "events", "first_broken", …}.

On an enrolled workstation the chain is also compared with the central checkpoints when the centre
is reachable (``central``: checked or why not); ``first_broken.problem`` then may be ``truncated``,
``rewritten`` or ``forked`` besides the local ``chain_gap`` / ``content_changed``.
``--local`` skips the centre."""

from __future__ import annotations

from desktop.cli import emit
from desktop.cli._common import add_json, open_db, signed_in


def register(sub) -> None:
    audit = sub.add_parser("audit", help="审计日志").add_subparsers(dest="audit_command")
    p = audit.add_parser("verify", help="校验审计日志的哈希链是否完整（已登记的工作站同时与中心的检查点比对）")
    p.add_argument("--local", action="store_true", help="只校验本机，不连接中心")
    p.add_argument("--central", help="中心数据库地址（默认为本机保存的地址）")
    p.add_argument("--ca", help="验证中心服务器证书的 CA 证书文件")
    add_json(p)
    p.set_defaults(handler=_verify)


def _verify(args) -> int:
    from desktop.services.audit import verify_chain, verify_with_central
    from desktop.services.guard import require

    db = open_db(args)
    require(db, signed_in(args), "audit.verify")
    result = verify_chain(db)
    central = None
    if not args.local:
        result, central = verify_with_central(db, result, central_url=args.central, ca_file=args.ca)
    if args.json:
        doc = result.as_json()
        if central is not None:
            doc["central"] = central.as_json()
        emit(doc)
    elif result.ok:
        print(f"审计日志完整：{result.events} 条记录，{result.workstations} 个工作站")
    else:
        fb = result.first_broken
        print(f"审计日志被篡改或缺失（{fb['problem']}）：第 {fb['seq']} 条（{fb['action']}，工作站 {fb['workstation']}）起链条断开")
    if args.json:
        pass
    elif central is not None and central.checked:
        print(f"已与中心比对：{central.checkpoints} 个检查点，中心存有本机 {central.central_events} 条记录")
    elif central is not None and central.error not in ("not_enrolled", "no_central"):
        print(f"未能与中心比对：{central.message_zh}")
    return 0 if result.ok else 3
