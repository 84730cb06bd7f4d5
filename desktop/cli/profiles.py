"""``certdesk profiles list [--kind roster|results] --json`` and
``certdesk profiles save NAME --kind roster|results --file SAMPLE [--map 'SOURCE=TARGET,…'] --json``:
saved import source profiles (issue 21 §2)."""

from __future__ import annotations

from pathlib import Path

from desktop.cli import emit
from desktop.cli._common import add_json, cli_actor, services
from desktop.cli.roster import map_arg

KIND_CHOICES = ("roster", "results")


def register(sub) -> None:
    profiles = sub.add_parser("profiles", help="导入来源方案（列对应关系）").add_subparsers(dest="profiles_command")
    p = profiles.add_parser("list", help="列出保存的来源方案")
    p.add_argument("--kind", choices=KIND_CHOICES)
    add_json(p)
    p.set_defaults(handler=_list)

    p = profiles.add_parser("save", help="按样例文件保存来源方案（同名则替换）")
    p.add_argument("name")
    p.add_argument("--kind", choices=KIND_CHOICES, required=True)
    p.add_argument("--file", type=Path, required=True, help="该来源的一个样例文件（记录其表头）")
    p.add_argument("--map", type=map_arg, metavar="'原列名=目标列名,…'", help="表头同义词以外的对应关系")
    add_json(p)
    p.set_defaults(handler=_save)


def _list(args) -> int:

    profiles = services(args).profiles.list(args.kind)
    if args.json:
        emit({"profiles": [p.as_json() for p in profiles]})
        return 0
    if not profiles:
        print("（没有保存的来源方案）")
    for p in profiles:
        cols = "，".join(f"{s}→{t or '忽略'}" for s, t in p.columns.items())
        print(f"{p.name}（{p.as_json()['kind_zh']}）：{cols}")
    return 0


def _save(args) -> int:
    from desktop.formats.import_mapping import preview, resolve
    from desktop.services.profiles import kind_fields

    actor = cli_actor(args)
    pv = preview(args.file, n=0)
    required, optional = kind_fields(args.kind)
    m = resolve(pv.header, required, optional, args.map)
    columns = {**m.as_profile(), **{s: t for s, t in (args.map or {}).items() if not t}}
    profile = services(args).profiles.save(args.name, args.kind, columns, pv.header, actor)
    if args.json:
        emit({"profile": profile.as_json(), "missing": m.missing})
    else:
        print(f"已保存来源方案：{profile.name}" + (f"（仍缺少：{'、'.join(m.missing)}）" if m.missing else ""))
    return 0
