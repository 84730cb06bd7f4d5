"""Rows of the payment ledger's tables in and out of a payroll run (domain.md §3).

Reading: recorded instruction rows decoded into :class:`~desktop.domain.ledger.Instruction`
(dates and months parsed once per distinct text), the SQL lapse threshold per cohort, the raw-row
test for an entitlement that stays quietly suspended. Writing: time-ordered instruction keys, the
``detail`` JSON remembered per distinct detail, the deadline a resumption names, a recovery demand
reduced when months turn out due. The service (:mod:`desktop.services.payroll`) decides; this module
only turns rows into values and back.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

from db import ledger_repo as lrepo
from db.models import new_ids
from desktop.domain.ledger import STATUS_OF_KIND, Instruction
from desktop.domain.months import Month
from desktop.domain.rules import clock

if TYPE_CHECKING:
    from desktop.services.payroll import _Entry


_DATES: dict[str, date] = {}


def to_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    d = _DATES.get(value)
    if d is None:
        if len(_DATES) > 200_000:
            _DATES.clear()
        d = _DATES[value] = date.fromisoformat(str(value)[:10])
    return d


_MONTHS: dict[str, Month] = {}


def month_of(text: str) -> Month:
    """Month.parse, remembered (a run parses the same few hundred month strings many times)."""
    m = _MONTHS.get(text)
    if m is None:
        if len(_MONTHS) > 10_000:
            _MONTHS.clear()
        m = _MONTHS[text] = Month.parse(text)
    return m


def instruction_of_row(row) -> Instruction:
    """A raw event row as an Instruction (``detail`` stays JSON text until read)."""
    eid_, _ent, kind, pm, eff, detail, needs, approved = row
    months: tuple[Month, ...] = ()
    case_id = None
    if kind in ("back_pay", "recovery_cancel") or (kind == "resume" and detail and '"ledger"' not in detail):
        d = json.loads(detail) if detail else {}
        months = tuple(month_of(m) for m in d.get("months", d.get("back_pay_months", ())) or ())
        case_id, detail = d.get("case_id"), d
    return Instruction(eid_, kind, month_of(pm), month_of(eff), months, pending=bool(needs) and not approved,
                       case_id=case_id, detail=detail)


def id_stream():
    """Time-ordered keys for a run's instructions, made a thousand at a time (same order as
    one ``new_id`` per instruction)."""
    while True:
        yield from new_ids(1024)


_PLAIN = (str, int, bool, type(None))  # not float: -0.0 == 0.0 would share a key


def detail_encoder():
    """``detail`` as JSON (sorted keys, Chinese as is), remembered for details of plain values:
    a go-live month's suspensions share a few thousand distinct details among 100,000s."""
    encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
    seen: dict[tuple, str] = {}

    def dumps(detail: dict) -> str:
        key = []
        for k, v in detail.items():
            t = type(v)
            if t is list:  # months: a list of texts (anything else is encoded afresh)
                if not all(type(x) is str for x in v):
                    return encode(detail)
                v = tuple(v)
            elif t not in _PLAIN:
                return encode(detail)
            key.append((k, t, v))
        key = tuple(key)
        text = seen.get(key)
        if text is None:
            text = encode(detail)
            if len(seen) < 100_000:
                seen[key] = text
        return text

    return dumps


def lapse_threshold(rule, month_index: int) -> str:
    """The earliest effective last date (ISO) whose clock still covers month ``month_index``:
    an entitlement certified on or after it is due that month. The clock is monotone in the
    date for every rule kind, so a binary search over days finds it."""
    lo, hi = date(1900, 1, 1).toordinal(), date(2300, 1, 1).toordinal()
    while lo < hi:
        mid = (lo + hi) // 2
        d = date.fromordinal(mid)
        if clock(rule, d, d).suspend_month.index > month_index:
            hi = mid
        else:
            lo = mid + 1
    return date.fromordinal(lo).isoformat()


def quietly_suspended(rows: list[tuple], lapse: int, month: int) -> bool:
    """Still withheld, still lapsed, and every withheld month came after the lapse: the plan is
    empty (no month owed, none to recover, no status to change) — most of a run's history.
    ``rows``: raw instruction tuples (no death and no recovery demand: the caller checked)."""
    if lapse > month:
        return False
    first_withheld, status = None, "paid"
    for _id, _eid, kind, _pm, eff, _detail, needs, approved in rows:
        st = STATUS_OF_KIND.get(kind)
        if st is None or (needs and not approved):
            return False
        e = month_of(eff).index
        if st != "paid" and (first_withheld is None or e < first_withheld):
            first_withheld = e
        if e <= month:
            status = st
    return status == "withheld" and first_withheld is not None and lapse <= first_withheld


def fill_missed_deadlines(conn, entries: list[_Entry]) -> None:
    """A resumption names the deadline whose miss stopped payment: read from the stopping
    instruction's detail, fetched only for the resumptions of this run."""
    want = {}
    for e in entries:
        st = e.plan.status
        if st and st[0] == "resume":
            stopped = st[1].pop("stopped_by", None)
            if stopped and st[1].get("missed_deadline") is None:
                want.setdefault(stopped, []).append(st[1])
    if not want:
        return
    for eid_, detail in lrepo.event_details(conn, list(want)).items():
        missed = (json.loads(detail) if detail else {}).get("missed_deadline") or (
            json.loads(detail) if detail else {}).get("death_date")
        for d in want[eid_]:
            d["missed_deadline"] = missed


def reduce_case(conn, case_id: str, months, fen, month: str, audit: list, outbox: list) -> None:
    """A recovery demand reduced by months that turn out due (the instruction is the
    recovery_cancel event; the case, a work item, follows it)."""
    from db import outreach_repo as orepo

    case = lrepo.case_by_id(conn, case_id)
    if case is None:
        return
    demanded = json.loads(case["overpaid_months"] or "[]")
    left_amount = None if case["amount_fen"] is None or fen is None else max(case["amount_fen"] - fen, 0)
    plan_rows = orepo.instalments_of(conn, [case_id]).get(case_id, [])
    paid = sum(i["paid_fen"] for i in plan_rows if i["status"] != "cancelled")
    gone = {str(m) for m in months}
    # every month withdrawn so far (earlier runs' cancellations of this case, and this one's)
    withdrawn = gone | lrepo.cancelled_months_of_case(conn, case["entitlement_id"], case_id)
    note = (case["note"] or "") + f"\n{month} 更正：{'、'.join(sorted(gone))} 应发，不再追回"
    values = {"amount_fen": left_amount}
    if left_amount == 0 or (left_amount is None and set(demanded) <= withdrawn):
        values["status"] = "cancelled" if paid == 0 else "recovered"
    if left_amount is not None and paid > left_amount:
        note += f"；已追回 {paid / 100:.2f} 元，应退还 {(paid - left_amount) / 100:.2f} 元"
        values["status"] = "recovered"
    elif case["status"] == "planned" and values.get("status") is None:
        orepo.replace_plan(conn, case_id, [])  # unpaid instalments cancelled; paid ones stay as history
        values["status"] = "open"
        note += "；请重新确定追回方式"
    values["note"] = note.strip()
    lrepo.update_case(conn, case_id, **values)
    audit.append(("recovery.reduced", "recovery_case", case_id, {"month": month, "months": len(gone)}))
    outbox.append(("recovery_case", case_id, None))
