"""Helpers shared by the command modules."""

from __future__ import annotations

import getpass
import os

from desktop.workstation import Actor, workstation_id


def open_db(args):
    from desktop.services.database import Database

    return Database.open(getattr(args, "db", None), demo=getattr(args, "demo", False))


def cli_actor() -> Actor:
    """Command-line work is recorded under the OS user (or CERTDESK_OPERATOR)."""
    name = os.environ.get("CERTDESK_OPERATOR")
    if not name:
        try:
            name = getpass.getuser()
        except Exception:  # no user database entry (containers)
            name = "cli"
    return Actor(f"cli:{name}", workstation_id(), "admin")


def add_json(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document")
