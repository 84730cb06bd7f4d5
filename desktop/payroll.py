"""Payroll instructions for one month (domain.md §3), as a pure computation over facts.

The database side (``desktop.services.payroll``) gathers one :class:`EntitlementFacts` per
entitlement — its state *before* month M (from events of earlier months), the person's
certifications counted on M's run day, and a reported death — and records the events this
returns. Keeping this pure makes the worked examples of the spec plain unit tests and lets a
million entitlements run in a tight loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from desktop.months import Month, month_range
from desktop.rules import Clock, RuleTable, clock

HIGH_RISK_MONTHS = 12  # suspensions longer than this need a supervisor to resume (条例 第三十七条)


@dataclass(slots=True)
class EntitlementFacts:
    entitlement_id: str
    person_id: str
    id_number: str
    name: str
    cohort: str
    start_date: date
    monthly_fen: int | None
    state: str = "active"  # active | suspended | terminated — before month M
    suspended_since: Month | None = None  # month payment stopped (open suspension)
    missed_deadline: date | None = None  # the deadline whose miss caused it
    last_certified: date | None = None  # latest passed certification ≤ run day
    first_certified_after_missed: date | None = None  # earliest passed cert > missed_deadline, ≤ run day
    death_date: date | None = None  # reported on or before the run day
    certified_after_death: date | None = None


@dataclass
class PayrollResult:
    month: Month
    run_day: date
    suspend: list[dict] = field(default_factory=list)
    resume: list[dict] = field(default_factory=list)
    terminate: list[dict] = field(default_factory=list)
    recover: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "month": str(self.month),
            "run_day": self.run_day.isoformat(),
            "suspend": self.suspend,
            "resume": self.resume,
            "terminate": self.terminate,
            "recover": self.recover,
        }


def yuan(fen_per_month: int | None, months: int) -> float | None:
    if fen_per_month is None:
        return None
    return round(fen_per_month * months / 100, 2)


def _base(f: EntitlementFacts) -> dict:
    return {
        "entitlement_id": f.entitlement_id,
        "person_id": f.person_id,
        "id_number": f.id_number,
        "name": f.name,
        "cohort": f.cohort,
    }


def compute(month: Month, run_day: date, facts, rules: RuleTable) -> PayrollResult:
    """Every instruction for ``month``; ``facts`` is any iterable of EntitlementFacts."""
    result = PayrollResult(month, run_day)
    rule_of = {r.cohort: r for r in rules.rules()}
    month_index = month.index
    # A clock depends only on the cohort's rule and the effective last date, and a million
    # entitlements share a few thousand of those: compute each once.
    clocks: dict[tuple[str, date], Clock] = {}
    for f in facts:
        if f.state == "terminated":
            continue
        terminate_from = Month.of(f.death_date) + 1 if f.death_date else None

        if f.state == "suspended":
            d = f.first_certified_after_missed
            if d is not None and (f.death_date is None or d <= f.death_date):
                resume_from = max(Month.of(d) + 1, month)
                stop = resume_from if terminate_from is None else min(resume_from, terminate_from)
                months = month_range(f.suspended_since, stop) if f.suspended_since else []
                item = _base(f)
                item.update(
                    suspended_from=str(f.suspended_since),
                    missed_deadline=f.missed_deadline.isoformat() if f.missed_deadline else None,
                    certified_on=d.isoformat(),
                    resume_from=str(resume_from) if terminate_from is None else None,
                    back_pay_months=[str(m) for m in months],
                    back_pay_amount=yuan(f.monthly_fen, len(months)),
                    needs_approval=len(months) > HIGH_RISK_MONTHS,
                )
                result.resume.append(item)
            if terminate_from is not None:
                paid_stop = min(f.suspended_since or month, month)
                _terminate(result, f, terminate_from, paid_stop)
            continue

        # active
        if terminate_from is not None:
            _terminate(result, f, terminate_from, month)
            continue
        last = f.last_certified
        if last is None or last < f.start_date:
            last = f.start_date
        c = clocks.get((f.cohort, last))
        if c is None:
            c = clocks[(f.cohort, last)] = clock(rule_of[f.cohort], last, last)
        if c.suspend_month.index <= month_index:
            item = _base(f)
            item.update(
                suspend_from=str(c.suspend_month),
                effective_month=str(month),
                missed_deadline=c.deadline.isoformat(),
                last_certified=c.last.isoformat(),
                paid_while_overdue=[str(m) for m in month_range(c.suspend_month, month)],
            )
            result.suspend.append(item)
    return result


def _terminate(result: PayrollResult, f: EntitlementFacts, terminate_from: Month, paid_stop: Month) -> None:
    start = max(terminate_from, Month.of(f.start_date))
    overpaid = month_range(start, paid_stop)
    item = _base(f)
    item.update(
        death_date=f.death_date.isoformat(),
        terminate_from=str(terminate_from),
        effective_month=str(result.month),
        certified_after_death=f.certified_after_death.isoformat() if f.certified_after_death else None,
    )
    result.terminate.append(item)
    if overpaid:
        rec = _base(f)
        rec.update(
            death_date=f.death_date.isoformat(),
            overpaid_months=[str(m) for m in overpaid],
            overpaid_amount=yuan(f.monthly_fen, len(overpaid)),
        )
        result.recover.append(rec)
