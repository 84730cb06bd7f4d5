"""A payroll run's answer (domain.md §3): the month's instructions as the document the
payroll office receives — suspend, resume with back pay, terminate, recover, corrections.

The same assembly serves a recorded run (records read back from ``entitlement_events``) and a
preview or forecast (records made from the plans, never written): :func:`plan_records` gives plans
the shape of recorded instructions, :func:`assemble` builds the answer from either.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from desktop.domain.ledger import Plan, plan, yuan
from desktop.domain.months import Month
from desktop.domain.payroll import PayrollResult

if TYPE_CHECKING:
    from desktop.services.payroll import _Entry


def back_pay_detail(e: _Entry, month: Month, p: Plan | None = None) -> dict:
    p = p or e.plan
    months, fen, needs = p.back_pay
    detail = {"months": [str(m) for m in months], "amount": yuan(fen)}
    if needs:  # what the supervisor sees while it waits
        stopped = e.ledger.status_instruction(month)
        last = e.facts.last_certified
        detail.update(waiting_since=str(p.waiting_since or month),
                      suspended_from=str(stopped.effective) if stopped is not None else str(months[0]),
                      certified_on=last.isoformat() if last else None)
    return detail


def guard_item(e: _Entry) -> dict:
    f = e.facts
    return {"entitlement_id": f.entitlement_id, "person_id": f.person_id, "id_number": f.id_number, "name": f.name,
            "cohort": f.cohort, "suspend_from": str(e.ledger.lapse), "start_date": f.start.isoformat(),
            "reason": "无认证记录（花名册未提供最近认证日期）"}


def plan_records(month: Month, entries: list[_Entry], *, confirm: bool,
                  case_ids: dict | None = None) -> tuple[list, list, dict]:
    """The plans as the records assemble reads (the same shapes as recorded instructions)."""
    records, recs, deaths = [], [], {}
    for e in entries:
        f, p = e.facts, e.plan
        who = (f.entitlement_id, f.person_id, f.id_number, f.name, f.cohort)
        if p.go_live_guarded and confirm:
            p = plan(e.ledger, month, no_cert=True)
        if p.status:
            records.append((*who, p.status[0], p.status[1], False))
        if p.back_pay:
            records.append((*who, "back_pay", back_pay_detail(e, month, p), p.back_pay[2]))
        for case_id, months, fen in p.cancels:
            records.append((*who, "recovery_cancel",
                            {"case_id": case_id, "months": [str(m) for m in months], "amount": yuan(fen)}, False))
        if p.recover:
            months, fen = p.recover
            recs.append((*who, (case_ids or {}).get(f.entitlement_id), [str(m) for m in months], fen))
            deaths[f.person_id] = f.death
    return records, recs, deaths


def result_from_plans(month: Month, run_day: date, entries: list[_Entry], *, confirm: bool) -> PayrollResult:
    records, recs, deaths = plan_records(month, entries, confirm=confirm)
    return assemble(month, run_day, records, recs, deaths)


SUSPEND_KEYS = ("suspend_from", "effective_month", "missed_deadline", "last_certified", "paid_while_overdue")


def suspend_item(base: dict, detail: dict) -> dict:
    """A suspension in the answer: who (``base``) and what its instruction's detail says."""
    return {**base, **{k: detail.get(k) for k in SUSPEND_KEYS}}


def assemble(month: Month, run_day: date, records, recs: list[tuple], deaths: dict,
             suspensions=()) -> PayrollResult:
    """The run's answer from its instructions: records are (entitlement_id, person_id, id_number,
    name, cohort, kind, detail, pending); recs are recovery demands opened by the run;
    ``suspensions``: answer items of suspensions instructed after every record (the set-wise
    ones, :mod:`desktop.services.payroll_fresh`), in instruction order."""
    result = PayrollResult(month, run_day)
    resumes: dict[str, dict] = {}
    back: dict[str, list] = {}
    for eid, pid, number, name, cohort, kind, detail, pending in records:
        base = {"entitlement_id": eid, "person_id": pid, "id_number": number, "name": name, "cohort": cohort}
        if kind == "suspend":
            result.suspend.append(suspend_item(base, detail))
        elif kind == "terminate":
            result.terminate.append({**base, **{k: detail.get(k) for k in (
                "death_date", "terminate_from", "effective_month", "certified_after_death")}})
        elif kind == "resume":
            item = {**base, **{k: detail.get(k) for k in (
                "suspended_from", "missed_deadline", "certified_on", "resume_from")},
                    "back_pay_months": [], "back_pay_amount": None if detail.get("back_pay_months") else 0.0,
                    "needs_approval": False}
            resumes[eid] = item
            result.resume.append(item)
        elif kind == "back_pay":
            if pending:
                result.resume.append({**base, "suspended_from": detail.get("suspended_from"),
                                      "missed_deadline": None, "certified_on": detail.get("certified_on"),
                                      "resume_from": None,
                                      "back_pay_months": list(detail.get("months", [])),
                                      "back_pay_amount": detail.get("amount"), "needs_approval": True,
                                      "waiting_since": detail.get("waiting_since")})
                continue
            back.setdefault(eid, []).append(detail)
            result.corrections.append({"id_number": number, "cohort": cohort, "kind": "back_pay",
                                       "months": list(detail.get("months", [])), "amount": detail.get("amount"),
                                       "entitlement_id": eid, "person_id": pid, "name": name})
        elif kind == "recovery_cancel":
            result.corrections.append({"id_number": number, "cohort": cohort, "kind": "recovery_cancel",
                                       "months": list(detail.get("months", [])), "amount": detail.get("amount"),
                                       "entitlement_id": eid, "person_id": pid, "name": name, "case_id": detail.get("case_id")})
    result.suspend.extend(suspensions)
    for eid, details in back.items():
        item = resumes.get(eid)
        if item is None:
            continue
        months = sorted({m for d in details for m in d.get("months", [])})
        amounts = [d.get("amount") for d in details]
        item["back_pay_months"] = months
        item["back_pay_amount"] = None if any(a is None for a in amounts) else round(sum(amounts), 2)
    for eid, pid, number, name, cohort, case_id, months, fen in recs:
        death = deaths.get(pid)
        result.recover.append({"entitlement_id": eid, "person_id": pid, "id_number": number, "name": name,
                               "cohort": cohort, "death_date": death.isoformat() if death else None,
                               "overpaid_months": months, "overpaid_amount": yuan(fen), "case_id": case_id})
        result.corrections.append({"id_number": number, "cohort": cohort, "kind": "recovery", "months": months,
                                   "amount": yuan(fen), "entitlement_id": eid, "person_id": pid, "name": name})
    return result
