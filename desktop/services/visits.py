"""Home visits (上门认证, docs/domain.md §6): phone booking, scheduling to a staff member, field mode,
certification on the visit and closing it as done / not at home / cancelled.

Every change writes the visit, its audit event and its outbox entry in one transaction. In field
mode the laptop's local SQLite holds just its visits' people (``prepare_field_laptop``); the
certification flow is the ordinary ``PersonService.record_certification(method="home_visit")``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from db import journal
from db import sync as dbsync
from db import visits_repo as repo
from db.engine import make_engine
from db.migrate import upgrade
from db.models import new_id, utcnow
from desktop.domain import idnumber
from desktop.errors import NotFound, SyncError, UserFacingError
from desktop.domain.labels import REASONS_ZH  # noqa: F401 - re-exported; defined there for the pages
from desktop.services import sync_policy
from desktop.services.database import Database
from desktop.platform.workstation import Actor

if TYPE_CHECKING:
    from desktop.services.persons import PersonService

STATUS_ZH = {"booked": "已预约", "scheduled": "已排班", "done": "已完成", "not_at_home": "未遇到本人", "cancelled": "已取消"}
CLOSE_OUTCOMES = ("done", "not_at_home", "cancelled")


@dataclass(frozen=True, slots=True)
class VisitView:
    id: str
    person_id: str
    person_name: str
    masked_id: str
    address: str
    phone: str | None
    reason: str | None
    preferred_dates: tuple[date, ...]
    status: str
    staff: str | None
    scheduled_date: date | None
    note: str | None
    certification_id: str | None

    @property
    def status_zh(self) -> str:
        return STATUS_ZH.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status in repo.OPEN

    def as_json(self) -> dict:
        return {
            "id": self.id, "person_id": self.person_id, "name": self.person_name, "id_masked": self.masked_id,
            "address": self.address, "phone": self.phone, "reason": self.reason,
            "preferred_dates": [d.isoformat() for d in self.preferred_dates], "status": self.status,
            "status_zh": self.status_zh, "staff": self.staff,
            "scheduled_date": self.scheduled_date.isoformat() if self.scheduled_date else None,
            "note": self.note, "certification_id": self.certification_id,
        }


def _d(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _view(row: dict) -> VisitView:
    prefs = tuple(_d(x) for x in json.loads(row["preferred_dates"] or "[]"))
    return VisitView(
        row["id"], row["person_id"], row["person_name"], idnumber.mask(row["person_id_number"]), row["address"],
        row["phone"], row["reason"], prefs, row["status"], row["staff"], _d(row["scheduled_date"]), row["note"],
        row["certification_id"],
    )


class VisitService:
    def __init__(self, db: Database, persons: PersonService):
        self.db = db
        self.persons = persons  # a home visit's certification is recorded like the counter's

    # --- reading ---------------------------------------------------------------------------

    def get(self, visit_id: str) -> VisitView:
        with self.db.engine.connect() as conn:
            row = repo.visit_with_person(conn, visit_id)
        if row is None:
            raise NotFound("没有找到该上门认证预约")
        return _view(row)

    def list(self, *, status: str | None = None, open_only: bool = False, staff: str | None = None,
             start: date | None = None, end: date | None = None) -> list[VisitView]:
        statuses = repo.OPEN if open_only else ((status,) if status else None)
        with self.db.engine.connect() as conn:
            return [_view(r) for r in repo.list_visits(conn, status=statuses, staff=staff, start=start, end=end)]

    def schedule_of(self, staff: str, start: date, end: date) -> list[VisitView]:
        """A staff member's visits between two dates (inclusive), by date."""
        return self.list(staff=staff, start=start, end=end)

    # --- writing ---------------------------------------------------------------------------

    def _write(self, conn, row: dict, actor: Actor, action: str, detail: dict) -> None:
        journal.audit(conn, actor.operator, actor.workstation, action, "home_visit", row["id"], detail)
        journal.enqueue(conn, [("home_visit", row["id"], journal.row_payload(row))])

    def book(self, person_id: str, address: str, actor: Actor, *, phone: str | None = None,
             reason: str | None = "行动不便", preferred_dates: list[date] | tuple[date, ...] = ()) -> VisitView:
        """A phone booking (电话预约)."""
        address = (address or "").strip()
        if not address:
            raise UserFacingError("请填写上门地址", code="no_address")
        from db import repositories

        now = utcnow()
        with self.db.engine.begin() as conn:
            if repositories.person_by_id(conn, person_id) is None:
                raise NotFound("没有找到该人员")
            row = {
                "id": new_id(), "person_id": person_id, "address": address[:200], "phone": (phone or None),
                "reason": reason, "preferred_dates": json.dumps([d.isoformat() for d in preferred_dates]),
                "status": "booked", "staff": None, "scheduled_date": None, "note": None, "certification_id": None,
                "booked_by": actor.operator, "closed_by": None, "closed_at": None, "workstation": actor.workstation,
                "created_at": now, "updated_at": now,
            }
            repo.insert_visit(conn, row)
            self._write(conn, row, actor, "visit.book", {"reason": reason, "dates": len(preferred_dates)})
        return self.get(row["id"])

    def _change(self, visit_id: str, actor: Actor, action: str, detail: dict, check, **values) -> VisitView:
        with self.db.engine.begin() as conn:
            row = repo.visit_by_id(conn, visit_id)
            if row is None:
                raise NotFound("没有找到该上门认证预约")
            check(row)
            values["updated_at"] = utcnow()
            repo.update_visit(conn, visit_id, **values)
            row.update(values)
            self._write(conn, row, actor, action, detail)
        return self.get(visit_id)

    def schedule(self, visit_id: str, staff: str, on: date, actor: Actor) -> VisitView:
        """Assign the visit to a staff member on a date (re-scheduling is allowed while open)."""
        if not staff:
            raise UserFacingError("请选择上门的工作人员", code="no_staff")

        def check(row):
            if row["status"] not in repo.OPEN:
                raise UserFacingError(f"该预约{STATUS_ZH[row['status']]}，不能再排班", code="visit_closed")

        return self._change(visit_id, actor, "visit.schedule", {"staff": staff, "date": on.isoformat()}, check,
                            staff=staff, scheduled_date=on, status="scheduled")

    def close(self, visit_id: str, outcome: str, actor: Actor, *, note: str | None = None,
              certification_id: str | None = None) -> VisitView:
        """Close as done (完成), not_at_home (未遇到本人) or cancelled (取消)."""
        if outcome not in CLOSE_OUTCOMES:
            raise UserFacingError(f"未知的结果：{outcome}", code="bad_outcome")

        def check(row):
            if row["status"] not in repo.OPEN:
                raise UserFacingError(f"该预约已{STATUS_ZH[row['status']]}", code="visit_closed")

        return self._change(
            visit_id, actor, f"visit.{outcome}", {"certification_id": certification_id}, check,
            status=outcome, note=note, certification_id=certification_id, closed_by=actor.operator,
            closed_at=utcnow(),
        )

    def certify(self, visit_id: str, actor: Actor, *, cert_date: date | None = None, evidence: dict | None = None,
                note: str | None = None, today: date | None = None) -> VisitView:
        """Record the home-visit certification (the same flow as at the counter) and close the
        visit as done."""
        visit = self.get(visit_id)
        if not visit.is_open:
            raise UserFacingError(f"该预约已{visit.status_zh}", code="visit_closed")
        ev = {"visit_id": visit.id, "address": visit.address, **(evidence or {})}
        cert = self.persons.record_certification(
            visit.person_id, cert_date or today or date.today(), "home_visit", actor, evidence=ev, today=today
        )
        return self.close(visit_id, "done", actor, note=note, certification_id=cert.id)

    # --- field mode ------------------------------------------------------------------------

    def prepare_field_laptop(self, staff: str, date_range: tuple[date, date], central_url: str,
                             *, workstation: str | None = None) -> dict:
        """Copy what this laptop needs for ``staff``'s visits in ``date_range`` from the central
        database into this (local) database, before leaving. Pushes anything waiting first.

        Returns counts per table plus ``visits``.
        """
        start, end = date_range
        from desktop.services.central import identity

        if self.db.is_sqlite and identity(self.db) is not None:
            return self._prepare_enrolled(staff, start, end, central_url)
        from desktop.platform import runmode

        if not runmode.simulation_allowed():
            raise SyncError("本机尚未在中心登记：请管理员运行 certdesk central enrol", code="not_enrolled")
        if workstation is None:
            from desktop.platform.workstation import workstation_id

            workstation = workstation_id()
        central = make_engine(central_url)
        try:
            try:
                upgrade(central)
                sync_policy.push(self.db.engine, central, workstation)
                with central.connect() as cc:
                    visits = repo.list_visits(cc, status=("scheduled",), staff=staff, start=start, end=end)
                counts = dbsync.copy_subset(central, self.db.engine, sorted({v["person_id"] for v in visits}),
                                            [v["id"] for v in visits])
            except Exception as exc:
                from sqlalchemy.exc import DBAPIError

                if isinstance(exc, DBAPIError):
                    raise SyncError("无法连接中心数据库，不能准备外出设备", code="offline") from exc
                raise
        finally:
            central.dispose()
        return {"visits": len(visits), **counts}

    def _prepare_enrolled(self, staff: str, start: date, end: date, central_url: str) -> dict:
        """An enrolled laptop: a full sync as its own role (clone check, push, keys), then the copy."""
        from sqlalchemy.exc import DBAPIError

        from desktop.services.sync import SyncService

        service = SyncService(self.db, central_url)
        try:
            service.sync_once()
            central = service.central()
            try:
                with central.connect() as cc:
                    visits = repo.list_visits(cc, status=("scheduled",), staff=staff, start=start, end=end)
                counts = dbsync.copy_subset(central, self.db.engine, sorted({v["person_id"] for v in visits}),
                                            [v["id"] for v in visits])
            except DBAPIError as exc:
                raise SyncError("无法连接中心数据库，不能准备外出设备", code="offline") from exc
        finally:
            service.close()
        return {"visits": len(visits), **counts}
