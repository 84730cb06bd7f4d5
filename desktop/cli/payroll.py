"""``certdesk payroll --month YYYY-MM --json [--xlsx FILE]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop.cli import emit_stream
from desktop.cli._common import add_json, cli_actor, services, signed_in


def _month(text: str):
    from desktop.domain.months import Month

    try:
        return Month.parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"月份格式应为 YYYY-MM：{text}") from None


def register(sub) -> None:
    p = sub.add_parser("payroll", help="生成某月的待遇发放指令（暂停、恢复补发、终止、追回）")
    p.add_argument("--month", type=_month, required=True)
    p.add_argument("--xlsx", type=Path, help="同时导出为 Excel 文件（每类一张工作表）")
    p.add_argument("--preview", action="store_true", help="只计算，不记录事件")
    p.add_argument("--confirm-go-live", action="store_true",
                   help="主管确认：暂停名册中没有任何认证记录、本次将被暂停的人员（首次上线检查）")
    add_json(p)
    p.set_defaults(handler=_payroll)


def _payroll(args) -> int:

    result = services(args).payroll.run(args.month, cli_actor(args) if not args.preview else signed_in(args),
                                               record=not args.preview,
                                               confirm_go_live=args.confirm_go_live)
    if args.xlsx:
        from desktop.formats.exports import payroll_xlsx

        payroll_xlsx(result, args.xlsx)
    if args.json:
        emit_stream(result.as_json())  # 100,000s of instructions: streamed
    else:
        print(f"{result.month}：暂停 {len(result.suspend)}，恢复 {len(result.resume)}，终止 {len(result.terminate)}，"
              f"追回 {len(result.recover)}，更正 {len(result.corrections)}")
        if result.go_live_guard:
            print(f"另有 {len(result.go_live_guard)} 人没有任何认证记录（花名册未提供最近认证日期），本次未暂停；"
                  "核实后由主管加 --confirm-go-live 重新运行")
    return 0
