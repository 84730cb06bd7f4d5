"""Working lists for the bureau: who the next payroll run will suspend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from db import repositories as repo
from desktop import idnumber
from desktop.months import Month
from desktop.rules import COHORTS
from desktop.services.database import Database
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
    def __init__(self, db: Database, payroll: PayrollService | None = None):
        self.db = db
        self.payroll = payroll or PayrollService(db)

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
