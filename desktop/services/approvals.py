"""待审核: what waits for a supervisor's approval (条例 第三十七条: high-risk business is reviewed at
a higher level). Today: resumptions after a suspension of more than 12 months, recorded by the
payroll run with ``needs_approval``; the supervisor approves with their own identity
(:meth:`PayrollService.approve_resumption`, which checks the role, audits and queues the change).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from db import approvals_repo as repo
from desktop.errors import UserFacingError
from desktop.domain.idnumber import mask
from desktop.domain.rules import COHORTS
from desktop.services.database import Database
from desktop.platform.workstation import Actor

if TYPE_CHECKING:
    from desktop.services.payroll import PayrollService

KIND_ZH = {"back_pay": "补发（超过12个月）", "resume": "恢复发放", "suspend": "暂停发放", "terminate": "终止发放", "reverse_termination": "撤销终止"}


@dataclass(frozen=True, slots=True)
class PendingApproval:
    event_id: str
    kind: str
    person_id: str
    name: str
    masked_id: str
    cohort: str
    cohort_zh: str
    payroll_month: str
    effective_month: str
    suspended_from: str | None
    certified_on: str | None
    months: tuple[str, ...]  # back-paid months
    back_pay_amount: float | None
    requested_by: str | None
    workstation: str | None
    waiting_since: str | None = None  # the payroll month that first asked for the approval

    @property
    def kind_zh(self) -> str:
        return KIND_ZH.get(self.kind, self.kind)

    @property
    def months_text(self) -> str:
        if not self.months:
            return "—"
        return f"{self.months[0]}～{self.months[-1]}（{len(self.months)}个月）"


def _item(row: dict) -> PendingApproval:
    try:
        detail = json.loads(row["detail"] or "{}")
    except ValueError:
        detail = {}
    cohort = row["cohort"]
    return PendingApproval(
        event_id=str(row["id"]), kind=row["kind"], person_id=str(row["person_id"]), name=row["name"],
        masked_id=mask(row["id_number"] or ""), cohort=cohort,
        cohort_zh=COHORTS[cohort].name_zh if cohort in COHORTS else cohort,
        payroll_month=row["payroll_month"], effective_month=row["effective_month"],
        suspended_from=detail.get("suspended_from") or (detail.get("months") or [None])[0],
        certified_on=detail.get("certified_on"),
        months=tuple(detail.get("months") or detail.get("back_pay_months") or ()),
        back_pay_amount=detail.get("amount", detail.get("back_pay_amount")),
        requested_by=row["operator"], workstation=row["workstation"],
        waiting_since=detail.get("waiting_since") or row["payroll_month"],
    )


class ApprovalService:
    def __init__(self, db: Database, payroll: PayrollService):
        self.db = db
        self.payroll = payroll

    def pending(self) -> list[PendingApproval]:
        """Live events waiting for a supervisor (needs_approval, not approved, not voided)."""
        with self.db.engine.connect() as conn:
            return [_item(r) for r in repo.pending(conn)]

    def approve(self, event_id: str, approver: Actor) -> bool:
        """The signed-in supervisor approves; False when someone else already had. The role check,
        audit event and outbox entry are done by PayrollService.approve_resumption."""
        with self.db.engine.connect() as conn:
            row = repo.event(conn, event_id)
        if row is None:
            raise UserFacingError("没有该待审核事项", code="no_such_event")
        if row["voided_at"] is not None and (row["void_reason"] or "").startswith("approved"):
            return False  # someone already approved it (it became the next run's instruction)
        if row["voided_at"] is not None:
            raise UserFacingError("该事项已作废（发放名单已重新生成），请刷新", code="voided")
        return self.payroll.approve_resumption(event_id, approver)
