"""``certdesk ledger ID_NUMBER --json [--through YYYY-MM]``: the payment ledger of a person."""

from __future__ import annotations

from desktop.cli import emit, parse_date
from desktop.cli._common import add_json, services, signed_in
from desktop.cli.payroll import _month


def register(sub) -> None:
    p = sub.add_parser("ledger", help="显示一个人每项待遇逐月的应发、已发指令、金额和更正")
    p.add_argument("id_number")
    p.add_argument("--through", type=_month, help="显示到该月（默认：本月或最近一次发放月）")
    p.add_argument("--as-of", type=parse_date, help="以该日期为准（默认今天）")
    add_json(p)
    p.set_defaults(handler=_ledger)


_DUE_ZH = {True: "应发", False: "不应发", None: "待认证"}
_INSTR_ZH = {"paid": "已发", "withheld": "暂停", "terminated": "终止", None: "—"}


def _ledger(args) -> int:
    from desktop.domain.rules import COHORTS

    signed_in(args)
    doc = services(args).payroll.ledger(args.id_number, args.through, args.as_of)
    if args.json:
        emit(doc)
        return 0
    for e in doc["entitlements"]:
        print(f"{COHORTS[e['cohort']].name_zh}：待补发 {e['back_pay_outstanding']} 元，待追回 {e['recovery_open']} 元，"
              f"多发未追 {e['overpaid_unclaimed']} 元")
        for m in e["months"]:
            settled = m["settled_by"]
            note = f"（{settled['kind']} {settled['month']}）" if settled else ""
            print(f"  {m['month']}  {_DUE_ZH[m['due']]:<4} {_INSTR_ZH[m['instructed']]:<3} {m['amount']}{note}")
    return 0
