"""``certdesk person show ID_NUMBER --json [--as-of DATE]``."""

from __future__ import annotations

from desktop.cli import emit, parse_date
from desktop.cli._common import add_json, services, signed_in


def register(sub) -> None:
    person = sub.add_parser("person", help="查询待遇领取人员").add_subparsers(dest="person_command")
    p = person.add_parser("show", help="显示一个人的全部待遇、状态和截止日期")
    p.add_argument("id_number")
    p.add_argument("--as-of", type=parse_date, help="以该日期计算状态（默认今天）")
    add_json(p)
    p.set_defaults(handler=_show)


def _show(args) -> int:

    signed_in(args)
    view = services(args).persons.show(args.id_number, args.as_of)
    if args.json:
        emit(view.as_json())
        return 0
    print(f"{view.name}  {view.masked_id}  （截至 {view.as_of}）")
    for e in view.entitlements:
        print(f"  {e.cohort_zh}：{e.status_zh}，最近认证 {e.last_certified}，截止 {e.deadline}，逾期将自 {e.suspend_from} 暂停")
    return 0
