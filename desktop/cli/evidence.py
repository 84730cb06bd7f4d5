"""``certdesk evidence purge [--as-of DATE] --json``: the retention job for face images and
returned-form scans → ``{"purged": images, "scans_purged": scans}``."""

from __future__ import annotations

from desktop.cli import emit, parse_date
from desktop.cli._common import add_json, cli_actor, services


def register(sub) -> None:
    ev = sub.add_parser("evidence", help="人脸图像等敏感证据").add_subparsers(dest="evidence_command")
    p = ev.add_parser("purge", help="清除超过保存期限的人脸图像和协助认证表扫描件")
    p.add_argument("--as-of", type=parse_date, help="以该日期判断是否到期（默认今天）")
    add_json(p)
    p.set_defaults(handler=_purge)


def _purge(args) -> int:

    done = services(args).evidence.purge(cli_actor(args), args.as_of)
    if args.json:
        emit({"purged": done["images"], "scans_purged": done["scans"]})
    else:
        print(f"已清除 {done['images']} 张到期的人脸图像、{done['scans']} 份到期的扫描件")
    return 0
