"""Helpers of the bureau pages (outreach, payroll month, recoveries, dashboards)."""

from __future__ import annotations

import getpass

from desktop.platform.workstation import Actor


def actor_of(backend) -> Actor:
    """Who acts: the logged-in operator when the shell provides one, else this OS user as a clerk
    (the services refuse supervisor-only actions to a clerk)."""
    actor = getattr(backend, "actor", None)
    if isinstance(actor, Actor):
        return actor
    try:
        from desktop.platform.workstation import workstation_id

        ws = workstation_id()
    except OSError:
        ws = "unknown"
    return Actor(getpass.getuser(), ws, "clerk")


def error_text(exc: BaseException) -> str:
    return getattr(exc, "message_zh", None) or str(exc) or exc.__class__.__name__


def yuan(v) -> str:
    return "—" if v is None else f"{v:,.2f}"
