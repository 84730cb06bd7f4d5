"""``certdesk idcard check NUMBER --json`` (registered under the ``idcard`` command)."""

from __future__ import annotations

from desktop.cli import emit
from desktop.domain.idnumber import REASONS, validate


def add_check(idcard_sub) -> None:
    """Called by the ``idcard`` command module to add its ``check`` sub-command."""
    p = idcard_sub.add_parser("check", help="校验公民身份号码")
    p.add_argument("number")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_check)


def register(sub) -> None:
    if "idcard" not in sub.choices:  # the card-reader module adds `idcard`; stand alone otherwise
        add_check(sub.add_parser("idcard", help="身份证").add_subparsers(dest="idcard_command"))


def _check(args) -> int:
    r = validate(args.number)
    doc = {
        "valid": r.valid,
        "reason": r.reason,
        "reason_zh": REASONS.get(r.reason) if r.reason else None,
        "birth_date": r.birth_date.isoformat() if r.birth_date else None,
        "sex": r.sex,
        "region": r.region,
    }
    if args.json:
        emit(doc)
    else:
        print("有效" if r.valid else f"无效：{doc['reason_zh']}")
    return 0 if r.valid else 3  # refused by a rule (exit statuses: desktop.cli)
