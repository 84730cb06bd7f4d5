"""Verifying the tamper-evident audit log.

Each workstation's events form a chain: every event stores the hash of the one before it (on the
same workstation) and its own hash over its content. Editing, deleting or inserting an event —
even with the append-only triggers dropped, directly in the file — breaks the chain at that
point. Chains of other workstations merged by the sync are verified the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from db import journal
from desktop.services.database import Database


@dataclass(frozen=True, slots=True)
class AuditCheck:
    ok: bool
    events: int
    workstations: int
    first_broken: dict | None  # {"seq", "id", "workstation", "action", "problem"}

    def as_json(self) -> dict:
        return {"ok": self.ok, "events": self.events, "workstations": self.workstations,
                "first_broken": self.first_broken}


def verify_chain(db: Database) -> AuditCheck:
    last: dict[str | None, str | None] = {}
    count = 0
    broken = None
    with db.engine.connect() as conn:
        for row in journal.iter_audit(conn):
            count += 1
            if broken is not None:
                continue
            ws = row["workstation"]
            expected_prev = last.get(ws)
            problem = None
            if row["prev_hash"] != expected_prev:
                problem = "chain_gap"  # an event before this one was removed, inserted or reordered
            elif row["hash"] != journal.event_hash(row["prev_hash"], dict(row)):
                problem = "content_changed"
            if problem:
                broken = {"seq": row["seq"], "id": row["id"], "workstation": ws, "action": row["action"],
                          "problem": problem}
            last[ws] = row["hash"]
    return AuditCheck(broken is None, count, len(last), broken)
