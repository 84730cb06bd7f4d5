"""``certdesk forms issue|batch|receive|list|reprint`` — assist forms for remote residents (issue 6).

    certdesk forms issue ID_NUMBER --pdf FILE [--as-of DATE] [--json]
    certdesk forms batch --due-within DAYS --pdf FILE [--labels FILE] [--as-of DATE] [--json]
    certdesk forms receive (--image FILE | --serial TEXT) --body NAME --date DATE --certifier NAME
                           [--expect ID_NUMBER] [--scan FILE] [--confirm-by SUPERVISOR] [--as-of DATE] [--json]
    certdesk forms list (--outstanding | --overdue) [--as-of DATE] [--json]
    certdesk forms reprint SERIAL --pdf FILE [--json]

``receive`` exits 0 when the form was accepted and 3 when it was refused (the JSON says why). A
typed serial (no QR) needs a supervisor: signed in as one, or ``--confirm-by NAME`` with that
supervisor's own password (asked for, or ``CERTDESK_CONFIRM_PASSWORD`` in a script).
"""

from __future__ import annotations

from desktop.cli import emit, parse_date
from desktop.cli._common import add_json, cli_actor, services, signed_in

REFUSED_EXIT = 3


def register(sub) -> None:
    forms = sub.add_parser("forms", help="异地协助认证表：打印、批量打印、收回登记、跟踪").add_subparsers(
        dest="forms_command")

    p = forms.add_parser("issue", help="为一个人打印协助认证表")
    p.add_argument("id_number")
    p.add_argument("--pdf", required=True, help="输出 PDF 文件")
    p.add_argument("--as-of", type=parse_date, help="以该日期为今天（默认今天）")
    add_json(p)
    p.set_defaults(handler=_issue)

    p = forms.add_parser("batch", help="批量打印：截止日期在 N 天内、尚无未寄回表格的异地居住人员")
    p.add_argument("--due-within", type=int, required=True, metavar="DAYS")
    p.add_argument("--pdf", required=True, help="输出 PDF 文件（全部表格）")
    p.add_argument("--labels", help="信封地址标签 PDF 文件")
    p.add_argument("--as-of", type=parse_date)
    add_json(p)
    p.set_defaults(handler=_batch)

    p = forms.add_parser("receive", help="收回登记：校验二维码并登记异地协助认证")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--image", help="扫描件或照片（PNG/JPEG/TIFF/PDF）")
    src.add_argument("--serial", help="表格编号，或扫码枪读出的二维码内容")
    p.add_argument("--body", required=True, help="认证单位名称")
    p.add_argument("--date", type=parse_date, required=True, help="认证单位的认证日期")
    p.add_argument("--certifier", required=True, help="经办人姓名")
    p.add_argument("--expect", metavar="ID_NUMBER", help="只接受该人员的表格")
    p.add_argument("--scan", help="另附的扫描件（默认为 --image）")
    p.add_argument("--confirm-by", metavar="SUPERVISOR", help="手工输入编号时确认的审核主管（随后输入其本人密码）")
    p.add_argument("--as-of", type=parse_date)
    add_json(p)
    p.set_defaults(handler=_receive)

    p = forms.add_parser("list", help="跟踪：未寄回或已逾期的表格")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--outstanding", action="store_true")
    which.add_argument("--overdue", action="store_true")
    p.add_argument("--as-of", type=parse_date)
    add_json(p)
    p.set_defaults(handler=_list)

    p = forms.add_parser("reprint", help="补打一份未寄回的表格（编号和二维码不变）")
    p.add_argument("serial")
    p.add_argument("--pdf", required=True)
    add_json(p)
    p.set_defaults(handler=_reprint)


def _service(args):
    return services(args).forms


def _issue(args) -> int:
    res = _service(args).issue(args.id_number, cli_actor(args), args.pdf, today=args.as_of)
    f = res.form
    if args.json:
        emit({"serial": f.serial, "name": f.name, "id_number": f.masked_id, "deadline": f.deadline.isoformat(),
              "pdf": res.pdf})
    else:
        print(f"已打印 {f.serial}：{f.name}（{f.masked_id}），寄回截止 {f.deadline} → {res.pdf}")
    return 0


def _batch(args) -> int:
    res = _service(args).batch(args.due_within, cli_actor(args), args.pdf, labels_out=args.labels, as_of=args.as_of)
    if args.json:
        emit(res.as_json())
    elif not res.forms:
        print("没有需要打印的人员")
    else:
        print(f"已打印 {len(res.forms)} 份：{res.pdf}" + (f"；标签：{res.labels}" if res.labels else ""))
    return 0


def _confirmation(args, actor):
    """The supervisor who confirms a typed serial, after checking their own password."""
    if not args.confirm_by:
        return None
    import getpass
    import os
    import sys

    from desktop.platform.workstation import Actor

    pw = os.environ.get("CERTDESK_CONFIRM_PASSWORD")
    if pw is None:
        if sys.stdin is None or not sys.stdin.isatty():
            from desktop.cli._common import SignInRequired

            raise SignInRequired("没有确认主管的密码：交互使用时输入，脚本中设置 CERTDESK_CONFIRM_PASSWORD")
        pw = getpass.getpass(f"{args.confirm_by} 的密码（确认手工输入编号）：")
    view = services(args).operators.verify_second_officer(
        args.confirm_by, pw, "supervisor", workstation=actor.workstation, first_officer=actor.operator,
        purpose="forms_typed_serial")
    return Actor(view.username, actor.workstation, view.role)


def _receive(args) -> int:
    actor = cli_actor(args)
    res = _service(args).receive(
        image_path=args.image, text=args.serial, body_name=args.body, body_date=args.date,
        certifier=args.certifier, actor=actor, today=args.as_of, expected_id_number=args.expect,
        scan_path=args.scan, confirmed_by=_confirmation(args, actor))
    if args.json:
        emit(res.as_json())
    else:
        print(res.summary_zh())
    return 0 if res.accepted else REFUSED_EXIT


def _list(args) -> int:
    signed_in(args)
    svc = _service(args)
    rows = svc.overdue(args.as_of) if args.overdue else svc.outstanding(args.as_of)
    if args.json:
        emit({"kind": "overdue" if args.overdue else "outstanding", "count": len(rows),
              "forms": [r.as_json() for r in rows]})
        return 0
    for r in rows:
        late = f"，已逾期 {r.days_overdue} 天" if r.days_overdue else ""
        print(f"{r.serial}  {r.name}  {r.masked_id}  截止 {r.deadline}{late}  {r.phone or ''}")
    print(f"共 {len(rows)} 份")
    return 0


def _reprint(args) -> int:
    res = _service(args).reprint(args.serial, cli_actor(args), args.pdf)
    if args.json:
        emit({"serial": res.serial, "pdf": res.pdf})
    else:
        print(f"已补打 {res.serial} → {res.pdf}")
    return 0
