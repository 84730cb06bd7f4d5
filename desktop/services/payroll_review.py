"""发放月名单: the payroll instructions of one month, reviewed, approved and exported.

The instructions come from :class:`desktop.services.payroll.PayrollService` (idempotent runs).
This adds what the payroll department's hand-over needs: a review of each kind, the approvals
of flagged resumptions (suspended more than 12 months, 条例 第三十七条), the spreadsheet with one
sheet per kind and FULL ID numbers (the core payroll system matches on them), and a record of
every export — when, by whom, which file (SHA-256) and how many rows of each kind.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from db import journal
from db import outreach_repo as orepo
from db import ledger_repo as lrepo
from db.models import new_id, utcnow
from desktop.domain import idnumber
from desktop.formats.exports import CAPTIONS, SHEETS, _cell
from desktop.domain.months import Month
from desktop.domain.payroll import PayrollResult
from desktop.domain.rules import COHORTS
from desktop.services.access import require
from desktop.services.database import Database
from desktop.services.payroll import PayrollService
from desktop.platform.workstation import Actor

KIND_ZH = {kind: title for kind, title, _ in SHEETS}


@dataclass(frozen=True, slots=True)
class Approval:
    event_id: str
    entitlement_id: str
    person_id: str
    name: str
    id_number: str
    cohort_zh: str
    suspended_from: str | None
    certified_on: str | None
    back_pay_months: tuple[str, ...]
    back_pay_amount: float | None
    approved_by: str | None
    approved_at: datetime | None
    waiting_since: str | None = None  # the run that first asked for this approval

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)


@dataclass(frozen=True)
class MonthReview:
    month: str
    run_day: date
    recorded: bool  # the run for this month has been recorded
    items: dict[str, list[dict]] = field(default_factory=dict)  # kind → items (id numbers in full)
    approvals: tuple[Approval, ...] = ()
    # rows with no certification on file this run would suspend: they wait for a supervisor
    go_live_guard: tuple[dict, ...] = ()
    go_live_confirmed: bool = False

    @property
    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.items.items()}

    @property
    def pending(self) -> int:
        return sum(1 for a in self.approvals if not a.approved_by)

    def totals_yuan(self) -> dict[str, float]:
        """Instructed money of the month (from the corrections, each once), and the back pay
        still waiting for a supervisor (not instructed yet)."""
        corr = self.items.get("corrections", [])
        back = sum(c.get("amount") or 0 for c in corr if c["kind"] == "back_pay")
        over = sum(c.get("amount") or 0 for c in corr if c["kind"] == "recovery")
        cancelled = sum(c.get("amount") or 0 for c in corr if c["kind"] == "recovery_cancel")
        waiting = sum(i.get("back_pay_amount") or 0 for i in self.items.get("resume", []) if i.get("needs_approval"))
        return {"back_pay": round(back, 2), "overpaid": round(over, 2), "recovery_cancelled": round(cancelled, 2),
                "awaiting_approval": round(waiting, 2)}


@dataclass(frozen=True, slots=True)
class ExportRecord:
    id: str
    month: str
    filename: str
    sha256: str
    counts: dict
    pending_approvals: int
    operator: str | None
    workstation: str | None
    exported_at: datetime


class PayrollReviewService:
    def __init__(self, db: Database, payroll: PayrollService):
        self.db = db
        self.payroll = payroll

    # --- review ------------------------------------------------------------------------------

    def review(self, month: Month | str, actor: Actor | None = None) -> MonthReview:
        """The month's instructions as the payroll run gives them (nothing is recorded)."""
        month = Month.parse(month) if isinstance(month, str) else month
        result = self.payroll.run(month, actor or Actor("review", "-"), record=False)
        return self._review(month, result)

    def record(self, month: Month | str, actor: Actor, *, confirm_go_live: bool = False) -> MonthReview:
        """Run and record the month (idempotent: running again changes nothing unless data did);
        ``confirm_go_live``: a supervisor lets the run suspend rows with no certification on file."""
        month = Month.parse(month) if isinstance(month, str) else month
        require(self.db, actor, "payroll.run")
        result = self.payroll.run(month, actor, record=True, confirm_go_live=confirm_go_live)
        return self._review(month, result)

    def _review(self, month: Month, result: PayrollResult) -> MonthReview:
        with self.db.engine.connect() as conn:
            # events only: a death reported at the counter opens its recovery case for the next
            # run's month ahead of that run, which must not make the month look recorded
            recorded = lrepo.run_recorded(conn, str(month))
            approved = orepo.approvals_of_month(conn, str(month), str(month + 1))
            flagged = orepo.flagged_resumptions(conn, str(month), str(month + 1))
        items = {kind: [dict(i) for i in getattr(result, kind)] for kind, _, _ in SHEETS}
        for item in items["resume"]:
            a = approved.get(item["entitlement_id"])
            item["approved_by"] = a[0] if a else None
        approvals = []
        for f in flagged:
            d = json.loads(f["detail"] or "{}")
            months = tuple(d.get("months") or d.get("back_pay_months") or ())
            approvals.append(Approval(
                f["id"], f["entitlement_id"], f["person_id"], f["name"], f["id_number"],
                COHORTS[f["cohort"]].name_zh if f["cohort"] in COHORTS else f["cohort"],
                d.get("suspended_from") or (months[0] if months else None),
                d.get("certified_on"), months, d.get("amount", d.get("back_pay_amount")),
                f["approved_by"], f["approved_at"], d.get("waiting_since") or f.get("payroll_month"),
            ))
        return MonthReview(str(month), result.run_day, recorded, items, tuple(approvals),
                           tuple(result.go_live_guard), result.go_live_confirmed)

    def approve(self, event_id: str, approver: Actor) -> bool:
        """A supervisor approves one flagged back pay (PermissionDenied for a clerk)."""
        require(self.db, approver, "payroll.approve_resumption")
        return self.payroll.approve_resumption(event_id, approver)

    # --- export --------------------------------------------------------------------------------

    def export(self, review: MonthReview, path: Path, actor: Actor, *, progress=None, cancel=None) -> ExportRecord:
        """One sheet per kind, full ID numbers, and a record of the export."""
        from desktop.formats.xlsx import write_sheets

        require(self.db, actor, "payroll.export")
        state = "" if review.recorded else "（预览：本月名单尚未生成）"
        sheets = []
        for kind, title, columns in SHEETS:
            cols = list(columns) + ([("审核人", "approved_by")] if kind == "resume" else [])
            items = review.items.get(kind, [])

            def rows(items=items, cols=cols):
                for item in items:
                    yield [_cell(key, item.get(key)) for _, key in cols]

            note = f"；{CAPTIONS[kind]}" if kind in CAPTIONS else ""
            caption = f"{review.month} 发放月 {title}名单（制表日 {review.run_day.isoformat()}）{state}{note}"
            sheets.append((title, caption, [c[0] for c in cols], rows(), len(items)))
        write_sheets(path, sheets, progress=progress, cancel=cancel, widths={1: 22})
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        now = utcnow()
        row = {"id": new_id(), "payroll_month": review.month, "filename": Path(path).name[:260], "sha256": digest,
               "counts": json.dumps(review.counts), "pending_approvals": review.pending,
               "operator": actor.operator, "workstation": actor.workstation, "exported_at": now}
        with self.db.engine.begin() as conn:
            orepo.insert_export(conn, row)
            journal.audit(conn, actor.operator, actor.workstation, "payroll.exported", "payroll_export", row["id"],
                          {"month": review.month, "counts": review.counts, "sha256": digest,
                           "pending_approvals": review.pending, "recorded": review.recorded})
            journal.enqueue(conn, [("payroll_export", row["id"], journal.row_payload(row))])
        return self._record(row)

    def exports(self, month: Month | str | None = None) -> list[ExportRecord]:
        with self.db.engine.connect() as conn:
            return [self._record(r) for r in orepo.export_records(conn, str(month) if month else None)]

    @staticmethod
    def _record(r: dict) -> ExportRecord:
        return ExportRecord(r["id"], r["payroll_month"], r["filename"], r["sha256"], json.loads(r["counts"]),
                            r["pending_approvals"], r["operator"], r["workstation"], r["exported_at"])

