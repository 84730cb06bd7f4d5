"""``certdesk roster import FILE [--dry-run] [--map 'SOURCE=TARGET,…'] [--profile NAME] --json``
and ``certdesk results import FILE [--map …] [--profile NAME] --json``.

Columns are recognised by their synonyms (身份证号码 = 公民身份号码 …); ``--map`` names the rest
(``--map '类别=认证对象,备注='``: an empty target leaves a column out) and ``--profile`` applies a
saved source profile (``certdesk profiles list``); ``--map`` wins over the profile."""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop.cli import emit, parse_date
from desktop.cli._common import add_json, cli_actor, services


def map_arg(text: str) -> dict[str, str]:
    from desktop.formats.import_mapping import parse_map

    try:
        return parse_map(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_mapping_args(p) -> None:
    p.add_argument("--map", type=map_arg, metavar="'原列名=目标列名,…'", help="指定列的对应关系（目标为空则忽略该列）")
    p.add_argument("--profile", metavar="NAME", help="使用保存的来源方案（certdesk profiles list）")


def register(sub) -> None:
    roster = sub.add_parser("roster", help="待遇领取人员名册").add_subparsers(dest="roster_command")
    p = roster.add_parser("import", help="导入名册（.xls/.xlsx/.ods 或 CSV）")
    p.add_argument("file", type=Path)
    p.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    p.add_argument("--as-of", type=parse_date, help="以该日期为“今天”校验")
    add_mapping_args(p)
    add_json(p)
    p.set_defaults(handler=_roster_import)

    results = sub.add_parser("results", help="认证结果与死亡信息").add_subparsers(dest="results_command")
    p = results.add_parser("import", help="导入手机认证/信息比对结果或死亡名单")
    p.add_argument("file", type=Path)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--as-of", type=parse_date)
    add_mapping_args(p)
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
    if doc.get("review"):
        print(f"待核查 {len(doc['review'])} 行（未登记死亡）：")
        for r in doc["review"]:
            print(f"  第{r['line']}行：{r['reason']}")
    for note in report.notes_zh():
        print(f"注意：{note}")


def _mapping(args, kind: str):
    if not args.map and not args.profile:
        return None

    return services(args).profiles.mapping_for(args.file, kind, profile=args.profile, explicit=args.map)


def _roster_import(args) -> int:

    actor = cli_actor(args)
    report = services(args).imports.import_roster(args.file, actor, dry_run=args.dry_run, today=args.as_of,
                                                        mapping=_mapping(args, "roster"))
    _print(report, args)
    return 0


def _results_import(args) -> int:

    actor = cli_actor(args)
    report = services(args).imports.import_results(args.file, actor, dry_run=args.dry_run, today=args.as_of,
                                                         mapping=_mapping(args, "results"))
    _print(report, args)
    return 0
