"""The one resumption rule (docs/domain.md §3): what the next payroll run resumes and back-pays
for ONE person, read from the payment ledger (:meth:`PayrollService.forecast_person`), never by
computing the whole roster.

Asked in three places, always through this module and always with the same data type
(:class:`ResumptionForecast`):

* the counter, before certifying ("what would certifying today resume?"): :meth:`Resumptions.if_certified`
  inserts the certification inside a transaction, asks the ledger, and rolls back;
* the counter, while certifying, and a returned assist form while it is received:
  :meth:`Resumptions.within` asks the ledger on the certification's own (not yet committed)
  transaction, so the answer and the record are one;
* anyone afterwards: :meth:`Resumptions.forecast`.

The next run is the month after ``today`` — or, when that month's run is already recorded, the one
after the latest recorded run.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from db import ledger_repo as lrepo
from db import repositories as repo
from db.models import new_id, utcnow
from desktop.domain.months import Month
from desktop.domain.rules import COHORTS
from desktop.services.database import Database
from desktop.services.payroll import PayrollService
from desktop.services.settings import SettingsService


def _ym(text: str) -> str:
    y, m = text.split("-")[:2]
    return f"{y}年{int(m)}月"


@dataclass(frozen=True, slots=True)
class ResumptionForecast:
    """What the next payroll run does for one suspended entitlement once it is covered again."""

    entitlement_id: str
    cohort: str
    cohort_zh: str
    suspended_from: str | None  # YYYY-MM
    resume_from: str | None  # YYYY-MM; None while a supervisor's approval is pending
    back_pay_months: tuple[str, ...]
    back_pay_amount: float | None
    needs_approval: bool  # back pay of more than 12 months: a supervisor approves it first

    def text_zh(self) -> str:
        months = self.back_pay_months
        span = (f"{_ym(months[0])}至{_ym(months[-1])}共{len(months)}个月" if len(months) > 1
                else _ym(months[0]) if months else "")
        amount = f"，约{self.back_pay_amount:,.2f}元" if self.back_pay_amount else ""
        start = f"自{_ym(self.resume_from)}起恢复发放" if self.resume_from else "经主管审核后恢复发放"
        back = f"，补发{span}{amount}" if span else ""
        tail = "（暂停超过12个月，需主管审核后恢复）" if self.needs_approval else ""
        return f"{self.cohort_zh}：{start}{back}{tail}"

    def as_json(self) -> dict:
        return {"cohort": self.cohort, "suspended_from": self.suspended_from, "resume_from": self.resume_from,
                "back_pay_months": list(self.back_pay_months), "back_pay_amount": self.back_pay_amount,
                "needs_approval": self.needs_approval}


class _OneConnection:
    """An engine stand-in whose every ``connect()`` is one given connection: the ledger then reads
    what the caller's open transaction has written."""

    def __init__(self, conn):
        self._conn = conn
        self.dialect = conn.dialect

    @contextmanager
    def connect(self):
        yield self._conn


class Resumptions:
    """Thread contract: like every service, each call opens its own connection (or uses the one
    given) and returns frozen data."""

    def __init__(self, db: Database, settings: SettingsService):
        self.db = db
        self.settings = settings

    def _month(self, conn, today: date) -> Month:
        month = Month.of(today) + 1
        last = lrepo.run_months(conn)[1]
        if last is not None and Month.parse(last) >= month:
            month = Month.parse(last) + 1  # next month's run is already made: the one after it resumes
        return month

    def within(self, conn, person_id: str, today: date,
               entitlements: set[str] | None = None) -> tuple[ResumptionForecast, ...]:
        """The forecast on ``conn`` (inside the caller's transaction: uncommitted rows count);
        ``entitlements``: only these (e.g. the ones still stopped before this certification)."""
        bound = Database(self.db.url, _OneConnection(conn))  # type: ignore[arg-type]
        result = PayrollService(bound, self.settings).forecast_person(person_id, self._month(conn, today), today)
        out = []
        for item in result.resume:
            if item["person_id"] != person_id or (entitlements is not None
                                                   and item["entitlement_id"] not in entitlements):
                continue
            out.append(ResumptionForecast(item["entitlement_id"], item["cohort"], COHORTS[item["cohort"]].name_zh,
                                          item["suspended_from"], item["resume_from"],
                                          tuple(item["back_pay_months"] or ()), item["back_pay_amount"],
                                          bool(item["needs_approval"])))
        return tuple(out)

    def forecast(self, person_id: str, today: date) -> tuple[ResumptionForecast, ...]:
        """What the next run resumes for this person, counting the certifications on file to today."""
        with self.db.engine.connect() as conn:
            return self.within(conn, person_id, today)

    def if_certified(self, person_id: str, cert_date: date, today: date | None = None,
                     *, entitlements: set[str] | None = None) -> tuple[ResumptionForecast, ...]:
        """What certifying this person on ``cert_date`` would resume (nothing is recorded: the
        certification is written inside a transaction that is rolled back). ``entitlements``:
        only these; an empty set (nobody's payment is stopped) answers at once."""
        if entitlements is not None and not entitlements:
            return ()
        with self.db.engine.connect() as conn:
            tx = conn.begin()
            try:
                repo.insert_certifications(conn, [{
                    "id": new_id(), "person_id": person_id, "cert_date": cert_date, "method": "counter",
                    "result": "passed", "evidence": "{}", "operator": "forecast", "approver": None,
                    "workstation": "forecast", "batch_id": None, "created_at": utcnow()}])
                return self.within(conn, person_id, today or cert_date, entitlements)
            finally:
                tx.rollback()
