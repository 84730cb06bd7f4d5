"""The services' permission check: :func:`desktop.domain.permissions.authorize` plus an audit record of
every refused attempt, written in its own transaction (the refused work never starts)."""

from __future__ import annotations

from db import journal
from desktop.domain.permissions import authorize
from desktop.services.database import Database
from desktop.platform.workstation import Actor


def require(db: Database, actor: Actor, action: str) -> None:
    def record(a: Actor, act: str) -> None:
        with db.engine.begin() as conn:
            journal.audit(conn, a.operator, a.workstation, "permission.denied", None, None,
                          {"action": act, "role": a.role})

    authorize(actor, action, record=record)
