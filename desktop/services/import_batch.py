"""One import of one file: its report, its transaction, its batch record and the cases it opens
for a supervisor — what the roster import (:mod:`desktop.services.roster_import`), the results
import (:mod:`desktop.services.results_import`) and the death lists
(:mod:`desktop.services.death_import`) share (issue 2 §5).

Every row of the file ends in exactly one outcome: imported, updated, unchanged or rejected with
a reason in Chinese naming what is wrong. A rejected row never blocks the good ones; nothing is
silently dropped. The whole file is applied in one transaction (:func:`unit_of_work`; with
``dry_run``, rolled back), together with its audit events and outbox entries.

Audit granularity: a bulk import is one business action, audited as one event (file, operator,
workstation, counts) plus one ``import_batches`` row (:func:`finish_batch`); records it creates
carry the batch (or ``updated_by``/``workstation``). Changes to existing records (which fields,
old and new values) and death reports are audited per record. Outbox entries name the entity
only: the sync pushes the row as it is.

Some rows are imported with a warning on their line (``report.warnings``). Red flags open a case
for a supervisor (``sync_conflicts``, one per fact: :func:`case`, :func:`open_cases`).
"""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from db import import_repo, journal
from db.engine import bulk_write
from db.sync import CONFLICT_NS
from desktop.formats.roster_rows import same_name
from desktop.platform.workstation import Actor
from desktop.services.database import Database


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict] = field(default_factory=list)
    dry_run: bool = False
    kind: str = "roster"
    # rows imported all the same, with something to check: {"line", "reason"}
    warnings: list[dict] = field(default_factory=list)
    # roster: entitlements of this file whose person has no accepted certification at all (the
    # clock starts from the benefit's start date: the first payroll run would suspend them)
    no_last_certified: int = 0
    # death lists: people deregistered for another reason than death (迁出, 出国 …), nothing
    # written for them but a case for a supervisor: {"line", "reason"}
    review: list[dict] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append({"line": line, "reason": reason})

    def warn(self, line: int, reason: str) -> None:
        self.warnings.append({"line": line, "reason": reason})

    @property
    def total(self) -> int:
        return self.imported + self.updated + self.unchanged + len(self.rejected) + len(self.review)

    def as_json(self) -> dict:
        self.rejected.sort(key=lambda r: r["line"])
        self.warnings.sort(key=lambda r: r["line"])
        out = {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "warnings": self.warnings,
        }
        if self.kind == "roster":
            out["no_last_certified"] = self.no_last_certified
        if self.kind == "deaths":
            self.review.sort(key=lambda r: r["line"])
            out["review"] = self.review
        return out

    def notes_zh(self) -> list[str]:
        """Whole-file remarks for a person reading the result (the command line, the UI)."""
        notes = []
        if self.kind == "roster" and self.no_last_certified:
            notes.append(f"{self.no_last_certified} 条待遇没有最近认证日期：首次发放计算将按待遇开始日期起算，"
                         "暂停前需主管确认")
        if self.review:
            notes.append(f"{len(self.review)} 人的注销原因不是死亡，未登记死亡，已转主管核查")
        return notes


def case(kind: str, key: str, person_id: str, detail: dict, actor: Actor, now) -> dict:
    """A ``sync_conflicts`` case for a supervisor; its id is derived from what it is about, so
    importing the same file again (here or on another workstation) opens no second case."""
    return {"id": str(uuid.uuid5(CONFLICT_NS, f"{kind}:{key}")), "kind": kind, "entity": "person",
            "entity_id": person_id, "person_id": person_id,
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True), "workstation": actor.workstation,
            "status": "open", "resolved_by": None, "resolved_at": None, "created_at": now, "updated_at": now}


def person_of_row(persons: dict[str, dict], number: str, name: str, line: int, report: ImportReport) -> dict | None:
    """The person a results or death-list row names (``persons``: by ID number), or None with the
    row rejected: nobody with that number, or another name (a typo is checked by
    ``desktop.formats.roster_rows.same_name``, which forgives spacing and the middle dot)."""
    person = persons.get(number)
    if person is None:
        report.reject(line, "系统中没有该身份号码的待遇领取人员")
        return None
    if not same_name(person["name"], name):
        report.reject(line, "姓名与身份号码不符")
        return None
    return person


def open_cases(conn, cases: list[dict], audit: list, outbox: list) -> None:
    for cid in import_repo.open_cases_once(conn, cases):
        opened = next(c for c in cases if c["id"] == cid)
        audit.append(("case.opened", "sync_conflict", cid, {"kind": opened["kind"], "person_id": opened["person_id"]}))
        outbox.append(("sync_conflict", cid, None))


@contextmanager
def unit_of_work(db: Database, dry_run: bool):
    """One transaction for a whole file: committed, or rolled back for a dry run or an error."""
    with db.engine.connect() as conn, bulk_write(conn):
        tx = conn.begin()
        try:
            yield conn
        except BaseException:
            tx.rollback()
            raise
        if dry_run:
            tx.rollback()
        else:
            tx.commit()


def finish_batch(conn, batch_id, kind, path, report, actor, now) -> None:
    """The file's ``import_batches`` row and its one audit event (file, operator, counts)."""
    summary = {**report.as_json(), "rejected": len(report.rejected), "warnings": len(report.warnings)}
    import_repo.insert_batch(conn, {"id": batch_id, "kind": kind, "filename": Path(path).name,
                                    "summary": json.dumps(summary), "operator": actor.operator,
                                    "workstation": actor.workstation, "created_at": now})
    journal.audit(conn, actor.operator, actor.workstation, f"{kind}.import", "import_batch", batch_id,
                  {"file": Path(path).name, **summary})
