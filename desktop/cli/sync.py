"""``certdesk sync --once --json`` and ``certdesk visits book|schedule|list|certify|close|prepare``.

The central database comes from ``--central URL``, the environment variable ``CERTDESK_CENTRAL``
or the URL saved on this workstation with ``certdesk sync --save-central URL``.
"""

from __future__ import annotations

import os

from desktop.cli import emit, parse_date
from desktop.cli._common import add_json, open_db, services, signed_in


def _workstation(args) -> str:
    from desktop.platform.workstation import workstation_id

    return getattr(args, "workstation", None) or os.environ.get("CERTDESK_WORKSTATION") or workstation_id()


def _actor(args):
    from desktop.platform.workstation import Actor

    base = signed_in(args, changes=True)
    return Actor(base.operator, _workstation(args), base.role)


def register(sub) -> None:
    s = sub.add_parser("sync", help="与中心数据库同步（上传本机变更，下载其他工作站的变更）")
    s.add_argument("--once", action="store_true", help="同步一次后退出")
    s.add_argument("--central", help="中心数据库地址（postgresql://…），默认 CERTDESK_CENTRAL 或本机保存的地址")
    s.add_argument("--save-central", metavar="URL", help="保存本机使用的中心数据库地址")
    s.add_argument("--ca", metavar="FILE", help="验证中心服务器证书的 CA 证书文件（连接一律 TLS verify-full；保存在本机）")
    s.add_argument("--status", action="store_true", help="显示待上传数量、上次同步时间和未处理的冲突")
    s.add_argument("--workstation", help=argparse_suppress())
    add_json(s)
    s.set_defaults(handler=_sync)

    v = sub.add_parser("visits", help="上门认证：电话预约、排班、外出准备、结案").add_subparsers(dest="visits_command")
    b = v.add_parser("book", help="电话预约上门认证")
    b.add_argument("id_number")
    b.add_argument("--address", required=True)
    b.add_argument("--phone")
    b.add_argument("--reason", default="行动不便")
    b.add_argument("--prefer", type=parse_date, nargs="*", default=[], help="希望上门的日期（可多个）")
    add_json(b)
    b.set_defaults(handler=_book)

    sc = v.add_parser("schedule", help="把预约排给工作人员")
    sc.add_argument("visit_id")
    sc.add_argument("--staff", required=True)
    sc.add_argument("--date", type=parse_date, required=True)
    add_json(sc)
    sc.set_defaults(handler=_schedule)

    ls = v.add_parser("list", help="列出预约（可按工作人员和日期）")
    ls.add_argument("--staff")
    ls.add_argument("--from", dest="start", type=parse_date)
    ls.add_argument("--to", dest="end", type=parse_date)
    ls.add_argument("--open", action="store_true", help="只列未结案的")
    add_json(ls)
    ls.set_defaults(handler=_list)

    ce = v.add_parser("certify", help="上门认证通过并结案（可离线）")
    ce.add_argument("visit_id")
    ce.add_argument("--date", type=parse_date)
    ce.add_argument("--note")
    ce.add_argument("--workstation", help=argparse_suppress())
    add_json(ce)
    ce.set_defaults(handler=_certify)

    cl = v.add_parser("close", help="结案：done 已完成 / not_at_home 未遇到本人 / cancelled 已取消")
    cl.add_argument("visit_id")
    cl.add_argument("--outcome", required=True, choices=["done", "not_at_home", "cancelled"])
    cl.add_argument("--note")
    cl.add_argument("--workstation", help=argparse_suppress())
    add_json(cl)
    cl.set_defaults(handler=_close)

    pr = v.add_parser("prepare", help="外出前：从中心数据库复制该工作人员的上门任务到本机")
    pr.add_argument("--staff", required=True)
    pr.add_argument("--from", dest="start", type=parse_date, required=True)
    pr.add_argument("--to", dest="end", type=parse_date, required=True)
    pr.add_argument("--central")
    pr.add_argument("--workstation", help=argparse_suppress())
    add_json(pr)
    pr.set_defaults(handler=_prepare)


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


def _sync(args) -> int:
    from desktop.errors import SyncError
    from desktop.services.sync import SyncService, redact, resolve_central, save_central

    db = open_db(args)
    actor = signed_in(args)
    from desktop.services.guard import require

    require(db, actor, "settings.change" if (args.save_central or args.ca) else "sync.run")
    if args.ca:
        from desktop.services.central import save_ca

        saved = save_ca(db, args.ca)
        if not args.once and not args.save_central:
            emit({"ca": saved}) if args.json else print(f"已保存 CA 证书文件：{saved}")
            return 0
    if args.save_central:
        save_central(db, args.save_central)
        if not args.once:
            emit({"central": redact(args.save_central)}) if args.json else print(f"已保存中心数据库地址：{redact(args.save_central)}")
            return 0
    url = resolve_central(args.central, db)
    if args.status or not args.once:
        from db import sync as dbsync

        from desktop.services.central import identity

        ident = identity(db)
        doc = {"central": redact(url) if url else None, "waiting": dbsync.waiting(db.engine),
               "open_conflicts": dbsync.open_conflicts(db.engine),
               "device": {"device_id": ident.device_id, "tag": ident.tag} if ident else None}
        with db.engine.connect() as conn:
            doc["last_sync"] = dbsync.get_state(conn, "last_sync_at")
        if args.json:
            emit(doc)
        else:
            print(f"中心数据库：{doc['central'] or '未配置'}；待上传 {doc['waiting']} 条；上次同步 {doc['last_sync'] or '从未'}；"
                  f"未处理冲突 {len(doc['open_conflicts'])} 件")
        return 0
    if not url:
        raise SyncError("未配置中心数据库：请使用 --central URL、环境变量 CERTDESK_CENTRAL 或 --save-central", code="no_central")
    service = SyncService(db, url, workstation=_workstation(args))
    try:
        result = service.sync_once()
    finally:
        service.close()
    if args.json:
        emit(result.as_json())
    else:
        print(f"已上传 {result.pushed} 条，已下载 {result.pulled} 条，冲突 {len(result.conflicts)} 件，仍待上传 {result.waiting} 条")
    return 0


def _visits(args):

    return services(args).visits


def _print_visit(view) -> None:
    when = view.scheduled_date.isoformat() if view.scheduled_date else "未排班"
    print(f"{view.id}  {view.person_name} {view.masked_id}  {view.status_zh}  {view.staff or '-'} {when}  {view.address}")


def _out(args, view) -> int:
    if args.json:
        emit(view.as_json())
    else:
        _print_visit(view)
    return 0


def _book(args) -> int:
    service = _visits(args)
    person = services(args).persons.show(args.id_number)
    view = service.book(person.id, args.address, _actor(args), phone=args.phone, reason=args.reason,
                        preferred_dates=args.prefer)
    return _out(args, view)


def _schedule(args) -> int:
    return _out(args, _visits(args).schedule(args.visit_id, args.staff, args.date, _actor(args)))


def _list(args) -> int:
    signed_in(args)
    views = _visits(args).list(open_only=args.open, staff=args.staff, start=args.start, end=args.end)
    if args.json:
        emit([v.as_json() for v in views])
    else:
        for v in views:
            _print_visit(v)
    return 0


def _certify(args) -> int:
    return _out(args, _visits(args).certify(args.visit_id, _actor(args), cert_date=args.date, note=args.note))


def _close(args) -> int:
    return _out(args, _visits(args).close(args.visit_id, args.outcome, _actor(args), note=args.note))


def _prepare(args) -> int:
    from desktop.errors import SyncError
    from desktop.services.sync import resolve_central

    service = _visits(args)
    _actor(args)
    url = resolve_central(args.central, service.db)
    if not url:
        raise SyncError("未配置中心数据库", code="no_central")
    counts = service.prepare_field_laptop(args.staff, (args.start, args.end), url, workstation=_workstation(args))
    if args.json:
        emit(counts)
    else:
        print(f"已准备 {counts['visits']} 个上门任务（{counts.get('persons', 0)} 人）")
    return 0
