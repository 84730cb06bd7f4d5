"""``certdesk roster import FILE [--dry-run] --json`` and ``certdesk results import FILE --json``."""

from __future__ import annotations

from pathlib import Path

from desktop.cli import emit, parse_date
from desktop.cli._common import add_json, cli_actor, open_db


def register(sub) -> None:
    roster = sub.add_parser("roster", help="待遇领取人员名册").add_subparsers(dest="roster_command")
    p = roster.add_parser("import", help="导入名册（CSV 或 XLSX）")
    p.add_argument("file", type=Path)
    p.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    p.add_argument("--as-of", type=parse_date, help="以该日期为“今天”校验")
    add_json(p)
    p.set_defaults(handler=_roster_import)

    results = sub.add_parser("results", help="认证结果与死亡信息").add_subparsers(dest="results_command")
    p = results.add_parser("import", help="导入手机认证/信息比对结果或死亡报告")
    p.add_argument("file", type=Path)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--as-of", type=parse_date)
    add_json(p)
    p.set_defaults(handler=_results_import)


def _print(report, args) -> None:
    if args.json:
        emit(report.as_json())
        return
    head = "（试运行，未写入）" if report.dry_run else ""
    print(f"新增 {report.imported}，更新 {report.updated}，未变 {report.unchanged}，拒绝 {len(report.rejected)}{head}")
    doc = report.as_json()
    for r in doc["rejected"]:
        print(f"  第{r['line']}行：{r['reason']}")
    if doc["warnings"]:
        print(f"提醒 {len(doc['warnings'])} 行（已导入，请核对）：")
        for r in doc["warnings"]:
            print(f"  第{r['line']}行：{r['reason']}")
    for note in report.notes_zh():
        print(f"注意：{note}")


def _roster_import(args) -> int:
    from desktop.services.imports import ImportService

    report = ImportService(open_db(args)).import_roster(args.file, cli_actor(args), dry_run=args.dry_run, today=args.as_of)
    _print(report, args)
    return 0


def _results_import(args) -> int:
    from desktop.services.imports import ImportService

    report = ImportService(open_db(args)).import_results(args.file, cli_actor(args), dry_run=args.dry_run, today=args.as_of)
    _print(report, args)
    return 0
