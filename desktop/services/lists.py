"""Working lists for the bureau: who the next payroll run will suspend, and the outreach list as
a paged view (issue 20: desktop.services.paged_lists, read a page at a time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from db import repositories as repo
from desktop.domain import idnumber
from desktop.domain.months import Month
from desktop.domain.rules import COHORTS
from desktop.services.database import Database
from desktop.services.paged_lists import OutreachList, PagedList, due_map, open_outreach  # noqa: F401
from desktop.services.payroll import PayrollService


@dataclass(frozen=True, slots=True)
class DueRow:
    person_id: str
    name: str
    id_number: str
    cohort: str
    cohort_zh: str
    deadline: date
    suspend_from: str
    phone: str | None
    residence: str

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)


class ListService:
    def __init__(self, db: Database, payroll: PayrollService):
        self.db = db
        self.payroll = payroll

    def due_next_month(self, as_of: date | None = None) -> list[DueRow]:
        """Everyone the next month's payroll run will suspend unless they certify first:
        the forecast of that run, counting certifications up to ``as_of``."""
        as_of = as_of or date.today()
        month = Month.of(as_of) + 1
        with self.db.engine.connect() as conn:
            result = self.payroll.compute(month, conn, run_day=as_of)
            people = repo.persons_by_numbers(conn, sorted({i["id_number"] for i in result.suspend}))
        rows = []
        for item in result.suspend:
            p = people.get(item["id_number"], {})
            rows.append(
                DueRow(
                    item["person_id"], item["name"], item["id_number"], item["cohort"],
                    COHORTS[item["cohort"]].name_zh, date.fromisoformat(item["missed_deadline"]),
                    item["suspend_from"], p.get("phone"), p.get("residence", "local"),
                )
            )
        rows.sort(key=lambda r: (r.deadline, r.name))
        return rows

    def outreach(self, days: int = 30, as_of: date | None = None, *, include_overdue: bool = True,
                 channel: str | None = None, cancel=None) -> OutreachList:
        """The outreach list of ``days`` as a paged view (desktop.services.paged_lists: its first
        screen from the maintained clock, the whole list on demand); the caller closes it."""
        from desktop.errors import UserFacingError

        as_of = as_of or date.today()
        if days < 0:
            raise UserFacingError("天数不能为负")
        return open_outreach(self.db, days, as_of, include_overdue, channel, cancel)
