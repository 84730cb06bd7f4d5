"""Helpers shared by the command modules: the database, and who is signed in.

Every command that reads personal data or changes anything runs as a signed-in operator and is
held to the same permission matrix as the window (desktop/domain/permissions.py): ``--operator NAME``
(the password is asked for) or, for scheduled jobs, the environment pair ``CERTDESK_OPERATOR`` /
``CERTDESK_PASSWORD``. Wrong passwords count towards the account's lockout like the window's.
Diagnostics (``--version``, ``selftest``, ``devices probe``, ``idcard check|decode``) need none.
"""

from __future__ import annotations

import getpass
import os
import sys
from datetime import date

from desktop.errors import PermissionDenied, UserFacingError
from desktop.platform.workstation import Actor, workstation_id

SIGN_IN_HELP = ("请先登录：--operator 用户名（随后输入密码），计划任务可设置环境变量 CERTDESK_OPERATOR 和 "
                "CERTDESK_PASSWORD；新数据库先运行 certdesk init")


class SignInRequired(UserFacingError):
    code = "sign_in_required"


def open_db(args):
    from desktop.services.database import Database

    db = getattr(args, "_db", None)
    if db is None:
        db = Database.open(getattr(args, "db", None), demo=getattr(args, "demo", False))
        args._db = db
    return db


def services(args):
    """The services of the command's database, built once per command: the command line's
    composition root (``desktop.services.hub.Services``, as ``ui/app.py`` is the window's). Command
    modules take their services from here and never build one themselves."""
    hub = getattr(args, "_services", None)
    if hub is None:
        from desktop.services.hub import Services

        hub = args._services = Services(open_db(args))
    return hub


def _password(name: str) -> str:
    pw = os.environ.get("CERTDESK_PASSWORD")
    if pw is not None:
        return pw
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"{name} 的密码：")
    raise SignInRequired(f"没有 {name} 的密码：交互使用时输入，计划任务设置 CERTDESK_PASSWORD")


def signed_in(args, *, changes: bool = False) -> Actor:
    """The operator this command runs as, after checking the password (once per command).

    ``changes``: the command changes data; then a business date other than today (``--as-of``)
    needs a supervisor, and is recorded in the audit log."""
    actor = getattr(args, "_actor", None)
    if actor is None:
        name = (getattr(args, "operator", None) or os.environ.get("CERTDESK_OPERATOR") or "").strip()
        if not name:
            raise SignInRequired(SIGN_IN_HELP)
        ws = workstation_id()
        view = services(args).operators.login(name, _password(name), ws)
        if view.must_change_password:
            raise SignInRequired("该账号须先修改初始密码：请在窗口中登录修改，或由管理员重设", code="must_change_password")
        actor = Actor(view.username, ws, view.role)
        args._actor = actor
    as_of = getattr(args, "as_of", None)
    if changes and as_of is not None and as_of != date.today() and not getattr(args, "_as_of_checked", False):
        _business_date(args, actor, as_of)
    return actor


def _business_date(args, actor: Actor, as_of: date) -> None:
    """Changing data as of another day is a supervisor's act, and is audited."""
    from db import journal
    from desktop.domain.permissions import SENIOR

    db = open_db(args)
    if actor.role not in SENIOR:
        with db.engine.begin() as conn:
            journal.audit(conn, actor.operator, actor.workstation, "permission.denied", None, None,
                          {"action": "cli.as_of", "as_of": as_of.isoformat(), "command": getattr(args, "command", None)})
        raise PermissionDenied("以其他日期（--as-of）办理业务需要主管权限", code="permission_denied")
    with db.engine.begin() as conn:
        journal.audit(conn, actor.operator, actor.workstation, "cli.as_of", None, None,
                      {"as_of": as_of.isoformat(), "today": date.today().isoformat(),
                       "command": getattr(args, "command", None)})
    args._as_of_checked = True


def cli_actor(args=None) -> Actor:
    """Kept for callers that change data: the signed-in operator (see :func:`signed_in`)."""
    if args is None:
        raise SignInRequired(SIGN_IN_HELP)
    return signed_in(args, changes=True)


def add_json(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document")
