"""Tables of issue 8 (revision 0004): outreach calls, house-bound flags, payroll exports, recovery plans.

Registered on ``db.base.Base`` (re-exported by db.models) so ``Base.metadata`` stays complete (db/models.py imports this
module at its end). Persistence only.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import UUID, Base, new_id, utcnow


class OutreachMark(Base):
    """One contact attempt with a resident whose deadline is near (called / no answer / ...)."""

    __tablename__ = "outreach_marks"
    __table_args__ = (Index("ix_outreach_marks_person_created", "person_id", "created_at"),)

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    outcome: Mapped[str] = mapped_column(String(16))  # called | no_answer | will_come | form_sent | letter_sent
    channel: Mapped[str | None] = mapped_column(String(16))  # local | remote | home_visit
    deadline: Mapped[date | None] = mapped_column(Date)  # the deadline the contact was about
    marked_on: Mapped[date] = mapped_column(Date)  # business date of the contact
    note: Mapped[str | None] = mapped_column(String(200))
    operator: Mapped[str | None] = mapped_column(String(64))
    workstation: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OutreachFlag(Base):
    """Per-person outreach facts the roster lacks: house-bound (needs a home visit)."""

    __tablename__ = "outreach_flags"

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    housebound: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(200))
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class PayrollExport(Base):
    """What payroll spreadsheet was exported, when and by whom (issue 8)."""

    __tablename__ = "payroll_exports"
    __table_args__ = (Index("ix_payroll_exports_month", "payroll_month"),)

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    payroll_month: Mapped[str] = mapped_column(String(7))
    filename: Mapped[str] = mapped_column(String(260))
    sha256: Mapped[str] = mapped_column(String(64))
    counts: Mapped[str] = mapped_column(Text)  # JSON {"suspend": n, ...}
    pending_approvals: Mapped[int] = mapped_column(Integer, default=0)
    operator: Mapped[str | None] = mapped_column(String(64))
    workstation: Mapped[str | None] = mapped_column(String(64))
    exported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RecoveryInstalment(Base):
    """One planned repayment of a recovery case (lump sum = one row, instalments = n, offset = one)."""

    __tablename__ = "recovery_instalments"
    __table_args__ = (Index("ix_recovery_instalments_case", "case_id", "seq"),)

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("recovery_cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    due_month: Mapped[str] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column(Integer)
    paid_fen: Mapped[int] = mapped_column(Integer, default=0)
    paid_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned | paid | cancelled
    operator: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
