"""SQLAlchemy 2 models. Persistence only: no business rules, no imports from desktop/ or ui/.

Keys are UUID strings so records created on several workstations merge without collisions.
Amounts are integers in fen (分) to stay exact. Payroll months are ``YYYY-MM`` strings.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import NAMING, UUID, Base, utcnow  # noqa: F401  (re-exported: every model module used them from here)
from db.ids import new_id, new_ids  # noqa: F401  (re-exported: the models' key default)


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    id_number: Mapped[str] = mapped_column(String(18), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    residence: Mapped[str] = mapped_column(String(8), default="local")  # local | remote
    death_date: Mapped[date | None] = mapped_column(Date)
    death_source: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    workstation: Mapped[str | None] = mapped_column(String(64))


class Entitlement(Base):
    __tablename__ = "entitlements"
    __table_args__ = (UniqueConstraint("person_id", "cohort", name="uq_entitlements_person_cohort"),)

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    # looked up through uq_entitlements_person_cohort (person_id leads it); no separate index
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    cohort: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    monthly_amount_fen: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|suspended|terminated
    status_since: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class CycleRule(Base):
    """The clock's rule table (docs/domain.md §2): data, editable per bureau."""

    __tablename__ = "cycle_rules"

    cohort: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # rolling_months | rolling_days | calendar_windows
    period: Mapped[int] = mapped_column(Integer)
    warn_days: Mapped[int] = mapped_column(Integer, default=30)
    suspend_offset_months: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Certification(Base):
    __tablename__ = "certifications"
    __table_args__ = (Index("ix_certifications_person_date", "person_id", "cert_date"),)

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    cert_date: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(24))
    result: Mapped[str] = mapped_column(String(8), default="passed")  # passed | failed
    evidence: Mapped[str | None] = mapped_column(Text)  # JSON
    operator: Mapped[str | None] = mapped_column(String(64))
    approver: Mapped[str | None] = mapped_column(String(64))
    workstation: Mapped[str | None] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(UUID)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class EntitlementEvent(Base):
    """Suspension, resumption, termination, reversal: events, never edits of history."""

    __tablename__ = "entitlement_events"
    __table_args__ = (
        Index("ix_entitlement_events_ent_month", "entitlement_id", "payroll_month"),
        Index("ix_entitlement_events_month", "payroll_month"),
    )

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    entitlement_id: Mapped[str] = mapped_column(ForeignKey("entitlements.id"))
    kind: Mapped[str] = mapped_column(String(24))  # suspend | resume | terminate | reverse_termination
    payroll_month: Mapped[str] = mapped_column(String(7))
    effective_month: Mapped[str] = mapped_column(String(7))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    void_reason: Mapped[str | None] = mapped_column(String(200))
    operator: Mapped[str | None] = mapped_column(String(64))
    workstation: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RecoveryCase(Base):
    __tablename__ = "recovery_cases"

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    entitlement_id: Mapped[str] = mapped_column(ForeignKey("entitlements.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    opened_month: Mapped[str] = mapped_column(String(7))
    overpaid_months: Mapped[str] = mapped_column(Text)  # JSON list of YYYY-MM
    amount_fen: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str | None] = mapped_column(String(16))  # lump_sum | instalments | offset
    status: Mapped[str] = mapped_column(String(16), default="open")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PayrollRun(Base):
    """One recorded payroll run (revision 0008). Runs go in month order: a run for a month before
    the latest one here is refused; the first one is the roster's go-live month of the ledger."""

    __tablename__ = "payroll_runs"

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    month: Mapped[str] = mapped_column(String(7), index=True)
    run_day: Mapped[date] = mapped_column(Date)
    summary: Mapped[str | None] = mapped_column(Text)  # JSON counts
    go_live_confirmed_by: Mapped[str | None] = mapped_column(String(64))
    operator: Mapped[str | None] = mapped_column(String(64))
    workstation: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class EntitlementAmount(Base):
    """A change of the monthly amount (revision 0008): ``amount_fen`` is in force from
    ``from_month``; ``previous_fen`` was in force before it. No row: the entitlement's
    ``monthly_amount_fen`` held in every month. Back pay and recovery use these amounts."""

    __tablename__ = "entitlement_amounts"

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    entitlement_id: Mapped[str] = mapped_column(ForeignKey("entitlements.id"), index=True)
    from_month: Mapped[str] = mapped_column(String(7))
    amount_fen: Mapped[int | None] = mapped_column(Integer)
    previous_fen: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[str | None] = mapped_column(UUID)
    operator: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))  # roster | results | deaths
    filename: Mapped[str | None] = mapped_column(String(260))
    summary: Mapped[str | None] = mapped_column(Text)  # JSON counts
    operator: Mapped[str | None] = mapped_column(String(64))
    workstation: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AssistForm(Base):
    """A remote-assist form (协助认证表) issued to a person and, later, received back."""

    __tablename__ = "assist_forms"

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="outstanding")  # outstanding|received|cancelled
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by: Mapped[str | None] = mapped_column(String(64))
    printed_count: Mapped[int] = mapped_column(Integer, default=1)
    batch_id: Mapped[str | None] = mapped_column(UUID)
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    body_name: Mapped[str | None] = mapped_column(String(200))
    body_date: Mapped[date | None] = mapped_column(Date)
    certifier: Mapped[str | None] = mapped_column(String(64))
    scan_path: Mapped[str | None] = mapped_column(String(260))
    certification_id: Mapped[str | None] = mapped_column(UUID)
    workstation: Mapped[str | None] = mapped_column(String(64))


class Operator(Base):
    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # clerk | supervisor | admin
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class AuditEvent(Base):
    """Append-only (triggers refuse UPDATE/DELETE). ``hash`` chains each event to the previous one."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(UUID, unique=True, default=new_id)
    ts: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    operator: Mapped[str | None] = mapped_column(String(64))
    workstation: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    entity: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(UUID)
    detail: Mapped[str | None] = mapped_column(Text)  # JSON, never a full ID number or an image
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64))  # HMAC-SHA256 of ``hash`` with the device's key


class OutboxEntry(Base):
    """Changes waiting to be pushed to the central database, written in the same transaction."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(UUID, unique=True, default=new_id)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(UUID)
    op: Mapped[str] = mapped_column(String(8))  # upsert | delete
    payload: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    pushed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # Set by db.sync when the central database refused the entry (revision 0003); such entries
    # wait for a supervisor instead of blocking the queue.
    push_error: Mapped[str | None] = mapped_column(Text)
    # op = "bulk" (revision 0007): ``payload`` is a JSON array of ``item_count`` ids of ``entity``
    # (``entity_id`` holds the first); the sync expands it in place (db.journal.enqueue_bulk).
    item_count: Mapped[int | None] = mapped_column(Integer)


# --- sync and home visits (revision 0003; docs/sync.md) ------------------------------------------


class SyncChange(Base):
    """Central change log: one row per insert/update of a synced table, written by triggers on
    PostgreSQL under an advisory lock so ``seq`` grows in commit order. Empty on workstations."""

    __tablename__ = "sync_changes"
    __table_args__ = (Index("ix_sync_changes_entity", "entity", "entity_id"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))  # table name
    entity_id: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(64))  # workstation id, or "central"
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SyncState(Base):
    """Workstation-local sync bookkeeping: pull cursor, audit push watermark, last results."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class SyncConflict(Base):
    """A case for a supervisor raised by sync (e.g. certified after a centrally reported death)."""

    __tablename__ = "sync_conflicts"

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))  # certified_after_death | rejected
    entity: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(UUID, index=True)
    detail: Mapped[str | None] = mapped_column(Text)  # JSON, never an ID number
    workstation: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class HomeVisit(Base):
    """A home visit (上门认证, docs/domain.md §6): booked by phone, scheduled to a staff member, closed."""

    __tablename__ = "home_visits"
    __table_args__ = (Index("ix_home_visits_staff_date", "staff", "scheduled_date"),)

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(100))
    preferred_dates: Mapped[str | None] = mapped_column(Text)  # JSON list of YYYY-MM-DD
    status: Mapped[str] = mapped_column(String(16), default="booked")  # booked|scheduled|done|not_at_home|cancelled
    staff: Mapped[str | None] = mapped_column(String(64))
    scheduled_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    certification_id: Mapped[str | None] = mapped_column(UUID)
    booked_by: Mapped[str | None] = mapped_column(String(64))
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    workstation: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class FaceImage(Base):
    """A face image or chip photo, encrypted at rest (desktop.platform.vault); never logged.

    ``kind``: captured (live frame kept as certification evidence) | reference (enrolled at the
    counter, with consent) | chip_photo (decoded from the ID card). ``purge_after`` applies the
    retention setting; a purge keeps the row (what existed, when) and drops the image.
    """

    __tablename__ = "face_images"

    id: Mapped[str] = mapped_column(UUID, primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    certification_id: Mapped[str | None] = mapped_column(UUID)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    media_type: Mapped[str] = mapped_column(String(32), default="image/png")
    consent: Mapped[str | None] = mapped_column(Text)  # JSON: who consented, when, how (references)
    purge_after: Mapped[date | None] = mapped_column(Date, index=True)
    purged_at: Mapped[datetime | None] = mapped_column(DateTime)
    operator: Mapped[str | None] = mapped_column(String(64))
    workstation: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


# issue 8 tables (revision 0004) register on Base.metadata
import db.outreach_models  # noqa: E402,F401
# issue 15 tables (revision 0009)
import db.central_models  # noqa: E402,F401
# issue 21 import profiles (revision 0010)
import db.profiles_repo  # noqa: E402,F401
# issue 20 maintained aggregates (revision 0011)
import db.aggregates  # noqa: E402,F401
