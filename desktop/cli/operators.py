"""``certdesk init`` and ``certdesk operators add|list`` — accounts from the command line.

``init`` makes a new database's ``admin`` (``--admin-password-stdin`` for scripted installs; else
a one-time password is printed once and must be changed at first login). ``operators add`` is an
administrator's act, like the window's 操作员 page.
"""

from __future__ import annotations

import sys

from desktop.cli import emit
from desktop.cli._common import add_json, services, signed_in


def register(sub) -> None:
    p = sub.add_parser("init", help="新数据库：建立 admin 管理员账号（已有账号时不做任何改动）")
    p.add_argument("--admin-password-stdin", action="store_true", help="从标准输入读取 admin 的密码（脚本化安装）")
    add_json(p)
    p.set_defaults(handler=_init)

    ops = sub.add_parser("operators", help="工作人员账号（系统管理员）").add_subparsers(dest="operators_command")
    a = ops.add_parser("add", help="添加工作人员账号")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=["clerk", "supervisor", "admin"])
    a.add_argument("--display-name", help="显示的姓名（默认同用户名）")
    a.add_argument("--password-stdin", action="store_true", help="从标准输入读取初始密码")
    a.add_argument("--service-account", action="store_true",
                   help="计划任务用的账号：密码无需在首次登录时修改")
    add_json(a)
    a.set_defaults(handler=_add)
    ls = ops.add_parser("list", help="列出工作人员账号")
    add_json(ls)
    ls.set_defaults(handler=_list)


def _stdin_password() -> str:
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _init(args) -> int:
    from desktop.services.operators import check_password_rules
    from desktop.platform.workstation import workstation_id

    pw = None
    if args.admin_password_stdin:
        pw = _stdin_password()
        check_password_rules(pw, "admin")
    made = services(args).operators.ensure_admin(workstation_id(), pw, must_change=pw is None)
    doc = {"created": made is not None, "username": "admin",
           "one_time_password": made if made is not None and pw is None else None}
    if args.json:
        emit(doc)
    elif made is None:
        print("已有工作人员账号，未做改动")
    elif pw is None:
        print(f"已建立 admin，一次性密码：{made}（首次登录须修改）")
    else:
        print("已建立 admin")
    return 0


def _add(args) -> int:
    from desktop.errors import UserFacingError

    actor = signed_in(args, changes=True)
    if not args.password_stdin:
        raise UserFacingError("请用 --password-stdin 从标准输入提供初始密码", code="needs_password")
    view = services(args).operators.create(args.username, args.display_name or args.username, args.role,
                                                 _stdin_password(), actor, must_change=not args.service_account)
    doc = {"username": view.username, "role": view.role, "must_change_password": view.must_change_password}
    emit(doc) if args.json else print(f"已添加 {view.username}（{view.role_zh}）")
    return 0


def _list(args) -> int:
    from desktop.errors import PermissionDenied

    actor = signed_in(args)
    if actor.role != "admin":
        raise PermissionDenied("只有系统管理员可以查看账号列表")
    views = services(args).operators.list()
    doc = [{"username": v.username, "display_name": v.display_name, "role": v.role, "active": v.active,
            "must_change_password": v.must_change_password} for v in views]
    if args.json:
        emit(doc)
    else:
        for v in views:
            print(f"{v.username}\t{v.display_name}\t{v.role_zh}\t{'启用' if v.active else '停用'}")
    return 0
