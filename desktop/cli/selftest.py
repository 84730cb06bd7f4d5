"""``certdesk selftest [--json] [--deep]``: can this machine run CertDesk? (for IT staff)

Exit status 0 when no check failed with severity ``error`` (warnings such as "no card reader"
keep 0), 1 otherwise. ``--deep`` also loads the face engine and connects to a central database.
"""

from __future__ import annotations

from desktop.cli import emit

MARK = {True: "通过", False: "失败", None: "—"}


def register(subparsers) -> None:
    p = subparsers.add_parser("selftest", help="自检：处理器、人脸模型、中文字体、数据库、读卡器和摄像头")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.add_argument("--deep", action="store_true", help="同时加载人脸识别引擎、连接中心数据库（较慢）")
    p.add_argument("--demo", action="store_true", help="检查演示数据库（模拟设备）")
    p.set_defaults(handler=_selftest)


def _selftest(args) -> int:
    from desktop.selftest import run_selftest, save_report

    report = run_selftest(db_url=getattr(args, "db", None), demo=args.demo, deep=args.deep)
    save_report(report)
    if args.json:
        emit(report.as_json())
    else:
        for c in report.checks:
            print(f"[{MARK[c.ok]}] {c.title_zh}：{c.message_zh}")
        print("自检通过" if report.ok else f"自检未通过：{len(report.errors)} 项错误")
    return 0 if report.ok else 5
