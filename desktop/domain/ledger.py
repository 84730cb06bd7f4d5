"""The payment ledger (domain.md §3, "late and corrected facts"): per entitlement and month, was
the month *due*, what was *instructed*, at which *amount*, and which later instruction settled a
difference. Pure: no database, no clock; ``desktop.services.payroll`` gathers the facts and the
recorded instructions and stores what :func:`plan` returns.

Definitions (docs/ledger.md has the worked sequences):

``due(m)``         ``True``  — alive, entitled and covered by a certification: ``m`` is before the
                              month the latest accepted certification lets the clock lapse
                              (a certification on day d proves every earlier month, which is why
                              a late certification back-pays the withheld months);
                   ``False`` — not entitled: from the month after death (or before the start);
                   ``None``  — unconfirmed: the certification lapsed and nothing proves the month
                              either way yet. Payment is withheld from the next run on, but months
                              paid while overdue are never recovered for that reason alone.
``instructed(m)``  the payment status the recorded instructions put month ``m`` in: ``paid``,
                   ``withheld`` or ``terminated``; months before the first recorded run were paid
                   by the core system; a month no run has reached yet is ``None``.
``paid(m)``        instructed paid, or back-paid later — and not under an active recovery demand.

A run for month M makes ``paid`` agree with ``due`` for every month ≤ M: this month's status
instruction (suspend / resume / terminate), back pay for earlier due months not paid, recovery for
earlier paid months that are not due, and recovery cancelled for months under a demand that turn
out due. Every correction names its months, so no month is back-paid or recovered twice, and a
run that finds everything in line instructs nothing (re-running is a no-op).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from desktop.domain.months import Month, month_text, month_texts
from desktop.domain.rules import Clock, CycleRule, clock

HIGH_RISK_MONTHS = 12  # back pay of more than this many months needs a supervisor (条例 第三十七条)

STATUS_OF_KIND = {"suspend": "withheld", "resume": "paid", "terminate": "terminated",
                  "reverse_termination": "withheld"}
INSTRUCTED_ZH = {"paid": "已发", "withheld": "暂停", "terminated": "终止", None: "未运行"}


@dataclass(slots=True)
class Instruction:
    """One recorded, non-voided entitlement event, parsed."""

    id: str
    kind: str  # suspend | resume | terminate | reverse_termination | back_pay | recovery_cancel
    payroll_month: Month
    effective: Month
    months: tuple[Month, ...] = ()  # back_pay / recovery_cancel (and legacy resume back pay)
    pending: bool = False  # needs a supervisor's approval that has not been given
    case_id: str | None = None  # recovery_cancel
    detail: dict | str | None = field(default_factory=dict)  # JSON text until first read (_det)


def _det(i: Instruction) -> dict:
    """The instruction's detail, parsed on first use (most are never read in a run)."""
    if i.detail is None:
        return {}  # not loaded (a light read of a suspend or terminate)
    if not isinstance(i.detail, dict):
        i.detail = json.loads(i.detail) if i.detail else {}
    return i.detail


@dataclass(slots=True)
class Demand:
    """A recovery case: months demanded back. ``status`` cancelled → demands nothing."""

    id: str
    opened_month: Month
    months: tuple[Month, ...]
    status: str = "open"


@dataclass(slots=True)
class Facts:
    entitlement_id: str
    person_id: str
    id_number: str
    name: str
    cohort: str
    start: date
    amount_fen: int | None  # the current monthly amount
    amounts: tuple[tuple[Month, int | None, int | None], ...] = ()  # (from, amount, previous), by from
    last_certified: date | None = None  # latest accepted certification ≤ run day and ≤ death
    death: date | None = None  # reported on or before the run day
    certified_after_death: date | None = None  # not proof of life: a case for a supervisor
    instructions: list[Instruction] = field(default_factory=list)  # in recorded order
    demands: list[Demand] = field(default_factory=list)

    @property
    def interesting(self) -> bool:
        return bool(self.instructions or self.demands or self.death)


def yuan(fen: int | None) -> float | None:
    return None if fen is None else round(fen / 100, 2)


class EntitlementLedger:
    """The ledger of one entitlement, from its facts and recorded instructions."""

    def __init__(self, facts: Facts, rule: CycleRule, *, go_live: Month | None = None,
                 last_run: Month | None = None, clk: Clock | None = None):
        f = self.facts = facts
        self.start_month = Month.of(f.start)
        self.clock = clk or clock(rule, f.start, f.last_certified)
        self.lapse = self.clock.suspend_month  # first month the certification does not cover
        if f.death is None:
            self.dead_from = None
        else:
            self.dead_from = max(Month.of(f.death) + 1, self.start_month) if f.death >= f.start else self.start_month
        self.go_live = go_live
        self.last_run = last_run
        self._status_steps = [(i.effective, STATUS_OF_KIND[i.kind], i) for i in f.instructions
                              if i.kind in STATUS_OF_KIND and not i.pending]
        self.back_paid: dict[Month, Instruction] = {}
        self.pending: Instruction | None = None
        self.cancelled: dict[Month, Instruction] = {}
        cancels: dict[str, set[Month]] = {}
        for i in f.instructions:
            if i.kind in ("back_pay", "resume") and i.pending:
                self.pending = i  # (a resume waiting for approval was recorded before the ledger)
                continue
            if i.kind in ("back_pay", "resume") and i.months:
                for m in i.months:
                    self.back_paid.setdefault(m, i)
            elif i.kind == "recovery_cancel" and i.case_id:
                cancels.setdefault(i.case_id, set()).update(i.months)
                for m in i.months:
                    self.cancelled[m] = i
        self.recovered: dict[Month, Demand] = {}
        for d in f.demands:
            if d.status in ("cancelled", "void"):  # void: opened ahead of a run, withdrawn before it
                continue
            gone = cancels.get(d.id, set())
            for m in d.months:
                if m not in gone:
                    self.recovered.setdefault(m, d)

        # month indices (ints) for the run's inner loop
        self._start = self.start_month.index
        self._lapse = self.lapse.index
        self._dead = self.dead_from.index if self.dead_from is not None else None
        self._steps = [(eff.index, st) for eff, st, _ in self._status_steps]
        self._back = {m.index for m in self.back_paid}
        self._rec = {m.index: d for m, d in self.recovered.items()}

    def _due_i(self, i: int) -> bool | None:
        if i < self._start:
            return None
        if self._dead is not None and i >= self._dead:
            return False
        return True if i < self._lapse else None

    def _status_i(self, i: int) -> str:
        out = "paid"
        for eff, st in self._steps:
            if eff <= i:
                out = st
        return out

    def _paid_i(self, i: int) -> bool:
        if i in self._rec:
            return False
        return i in self._back or self._status_i(i) == "paid"

    def _candidates(self, first: int, stop: int) -> list[int]:
        """Months in [first, stop) where paid and due can disagree; the rest are due and paid,
        or unconfirmed (nothing to correct)."""
        out: set[int] = set()
        withheld = [eff for eff, st in self._steps if st != "paid"]
        if withheld:
            hi = min(self._lapse, stop, self._dead if self._dead is not None else stop)
            out.update(range(max(first, self._start, min(withheld)), hi))
        if self._dead is not None:
            out.update(range(max(first, self._dead), stop))
        out.update(i for i in self._rec if first <= i < stop)
        return sorted(out)

    # --- the three columns ------------------------------------------------------------------

    def due(self, m: Month) -> bool | None:
        if m < self.start_month:
            return None
        if self.dead_from is not None and m >= self.dead_from:
            return False
        if m < self.lapse:
            return True
        return None

    def status(self, m: Month) -> str:
        """The payment status the instructions put month ``m`` in (paid before any instruction)."""
        out = "paid"
        for eff, st, _ in self._status_steps:
            if eff <= m:
                out = st
        return out

    def status_instruction(self, m: Month) -> Instruction | None:
        """The instruction that set month ``m``'s status."""
        found = None
        for eff, _, ins in self._status_steps:
            if eff <= m:
                found = ins
        return found

    def instructed(self, m: Month) -> str | None:
        if self.go_live is not None and m < self.go_live:
            return "paid"  # by the core system, before the first recorded run
        reached = max([x for x in (self.last_run, *(i.payroll_month for i in self.facts.instructions
                                                     if i.kind in STATUS_OF_KIND)) if x], default=None)
        if reached is None or m > reached:
            return None
        return self.status(m)

    def paid(self, m: Month) -> bool:
        if m in self.recovered:
            return False
        return self.status(m) == "paid" or m in self.back_paid

    def amount_fen(self, m: Month) -> int | None:
        f = self.facts
        if not f.amounts:
            return f.amount_fen
        if m < f.amounts[0][0]:
            return f.amounts[0][2]
        out = f.amounts[0][1]
        for frm, fen, _prev in f.amounts:
            if frm <= m:
                out = fen
        return out

    def total_fen(self, months) -> int | None:
        total = 0
        for m in months:
            a = self.amount_fen(m)
            if a is None:
                return None
            total += a
        return total

    # --- reading it -----------------------------------------------------------------------------

    def first_interesting(self, *, for_view: bool = False) -> Month:
        """Before this month every month is due and paid (nothing to correct); ``for_view`` also
        reaches back to the months a suspension reported as paid while overdue."""
        lo = self._lapse
        if self._dead is not None and self._dead < lo:
            lo = self._dead
        for i in self.facts.instructions:
            e = i.effective.index
            if e < lo:
                lo = e
            if i.months and i.months[0].index < lo:
                lo = i.months[0].index
            if for_view and i.kind == "suspend" and _det(i).get("suspend_from"):
                lo = min(lo, Month.parse(_det(i)["suspend_from"]).index)
        for d in self.facts.demands:
            if d.months:
                lo = min(lo, min(m.index for m in d.months))
        return Month.from_index(max(lo, self._start))

    def settled_by(self, m: Month) -> dict | None:
        if m in self.recovered:
            d = self.recovered[m]
            return {"kind": "recovery", "month": str(d.opened_month), "case_id": d.id}
        if m in self.cancelled:
            i = self.cancelled[m]
            return {"kind": "recovery_cancel", "month": str(i.payroll_month), "case_id": i.case_id}
        if m in self.back_paid:
            i = self.back_paid[m]
            return {"kind": "back_pay", "month": str(i.payroll_month)}
        if self.pending is not None and m in self.pending.months:
            return {"kind": "back_pay_pending", "month": str(self.pending.payroll_month)}
        return None

    def months(self, first: Month, through: Month) -> list[dict]:
        out = []
        for i in range(max(first, self.start_month).index, through.index + 1):
            m = Month.from_index(i)
            out.append({"month": str(m), "due": self.due(m), "instructed": self.instructed(m),
                        "amount": yuan(self.amount_fen(m)), "settled_by": self.settled_by(m)})
        return out

    def outstanding(self, through: Month) -> dict:
        """Yuan: due months withheld with no back pay instructed; open recovery demands; months
        paid though not due with no demand yet. Counted up to the latest run (and ``through``)."""
        reached = min(through, self.last_run) if self.last_run is not None else None
        back, over = 0, 0
        unknown = False
        if reached is not None:
            for i in range(self.first_interesting().index, reached.index + 1):
                m = Month.from_index(i)
                if self.instructed(m) is None:
                    continue
                d = self.due(m)
                a = self.amount_fen(m)
                if d is True and not self.paid(m) and m not in self.recovered:
                    back += a or 0
                    unknown |= a is None
                elif d is False and self.paid(m):
                    over += a or 0
                    unknown |= a is None
        open_fen = 0
        for m, dem in self.recovered.items():
            if dem.status in ("open", "planned"):
                open_fen += self.amount_fen(m) or 0
        return {"back_pay_outstanding": yuan(back), "recovery_open": yuan(open_fen),
                "overpaid_unclaimed": yuan(over), "amount_unknown": unknown}


# --- a run -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Plan:
    """What a run for month M must add for one entitlement."""

    status: tuple[str, dict] | None = None  # (kind, detail) of this month's status instruction
    back_pay: tuple[tuple[Month, ...], int | None, bool] | None = None  # months, fen, needs approval
    void_pending: str | None = None  # a pending back pay superseded by a larger one
    waiting_since: Month | None = None
    recover: tuple[tuple[Month, ...], int | None] | None = None
    cancels: list[tuple[str, tuple[Month, ...], int | None]] = field(default_factory=list)  # case, months, fen
    go_live_guarded: bool = False

    def __bool__(self) -> bool:
        return bool(self.status or self.back_pay or self.recover or self.cancels or self.void_pending
                    or self.go_live_guarded)


def plan(led: EntitlementLedger, month: Month, *, guard_go_live: bool = False, no_cert: bool = False) -> Plan:
    """The instructions that bring ``paid`` in line with ``due`` for every month ≤ ``month``.

    ``guard_go_live``: the entitlement has no certification on file at all (the roster gave no
    last certification date): a suspension waits for a supervisor's confirmation of the run;
    ``no_cert``: the same fact once confirmed."""
    out = Plan()
    f = led.facts
    first = led.first_interesting()
    if first > month:
        return out
    owed: list[Month] = []
    recover: list[Month] = []
    cancel: dict[str, list[Month]] = {}
    for i in led._candidates(first.index, month.index):
        d = led._due_i(i)
        if i in led._rec and d is not False:
            # the demand has lost its ground (the death date moved or was withdrawn)
            cancel.setdefault(led._rec[i].id, []).append(Month.from_index(i))
        elif d is True and not led._paid_i(i):
            owed.append(Month.from_index(i))
        elif d is False and led._paid_i(i):
            recover.append(Month.from_index(i))
    # this month itself is the status instruction's — unless an earlier run of it already settled
    # it by a correction (back pay of the certification's own month) that facts now contradict
    mi = month.index
    if mi in led._back and mi not in led._rec and led._due_i(mi) is False:
        recover.append(month)
    elif mi in led._rec and led._due_i(mi) is not False:
        cancel.setdefault(led._rec[mi].id, []).append(month)

    current = led.status(month)
    target = {True: "paid", False: "terminated", None: "withheld"}[led.due(month)]
    if month < led.start_month:
        target = current
    resume_from = month
    if target == "paid" and current != "paid":
        if led.status(month + 1) == "paid":
            target = current  # already resumed from next month by an earlier run of this month
        elif f.last_certified is not None and Month.of(f.last_certified) >= month:
            # certified in the run's own month: payment resumes from the month after the
            # certification and this month is back pay ("从次月恢复发放并补发暂停发放月份") —
            # unless an earlier run of this month already back-paid it (a recovery of it that
            # facts now contradict is cancelled above: that payment stands)
            resume_from = month + 1
            if mi not in led._back:
                owed.append(month)

    needs_approval = len(owed) > HIGH_RISK_MONTHS
    if owed:
        pend = led.pending
        if needs_approval:
            if pend is None or tuple(owed) != pend.months:
                out.back_pay = (tuple(owed), led.total_fen(owed), True)
                out.void_pending = pend.id if pend is not None else None
                ws = _det(pend).get("waiting_since") if pend is not None else None
                out.waiting_since = Month.parse(ws) if ws else month
        else:
            out.back_pay = (tuple(owed), led.total_fen(owed), False)
            if pend is not None:
                out.void_pending = pend.id
    elif led.pending is not None:
        out.void_pending = led.pending.id  # nothing owed any more (e.g. died meanwhile)

    if target != current:
        if target == "paid":
            if not needs_approval:
                out.status = ("resume", _resume_detail(led, month, owed, resume_from))
        elif target == "terminated":
            out.status = ("terminate", {
                "death_date": f.death.isoformat() if f.death else None,
                "terminate_from": str(led.dead_from), "effective_month": str(month),
                "certified_after_death": f.certified_after_death.isoformat() if f.certified_after_death else None,
            })
        elif guard_go_live and current == "paid":
            out.go_live_guarded = True
        else:
            # with no certification on file the lapse is only the start date's: the months the core
            # system paid before the first recorded run are not reported as paid while overdue
            since = max(led.lapse, led.go_live) if no_cert and led.go_live is not None else led.lapse
            if not led._steps and not led._rec:  # nothing recorded: every month so far was paid
                paid_while = month_texts(since.index, month.index)
            else:
                paid_while = [month_text(i) for i in range(since.index, month.index) if led._paid_i(i)]
            out.status = ("suspend", {
                "suspend_from": str(led.lapse), "effective_month": str(month),
                "missed_deadline": led.clock.deadline.isoformat(), "last_certified": led.clock.last.isoformat(),
                "paid_while_overdue": paid_while,
                **({"after": "terminated"} if current == "terminated" else {}),
            })
    if recover:
        out.recover = (tuple(recover), led.total_fen(recover))
    for case_id, months in cancel.items():
        out.cancels.append((case_id, tuple(months), led.total_fen(months)))
    return out


def fresh_plan(f: Facts, clk: Clock, month: Month, go_live: Month | None, *, guard_go_live: bool = False,
               no_cert: bool = False) -> Plan:
    """:func:`plan` for an entitlement with nothing recorded, no recovery demand and no death —
    most of a go-live month: every month so far was paid and due until the clock lapsed, so the
    only possible instruction is this month's suspension. Same answer as ``plan`` (tested)."""
    out = Plan()
    lapse = clk.suspend_month
    start = Month.of(f.start)
    if lapse > month or month < start:
        return out
    if guard_go_live:
        out.go_live_guarded = True
        return out
    since = max(lapse, go_live) if no_cert and go_live is not None else lapse
    out.status = ("suspend", {
        "suspend_from": str(lapse), "effective_month": str(month),
        "missed_deadline": clk.deadline.isoformat(), "last_certified": clk.last.isoformat(),
        "paid_while_overdue": month_texts(since.index, month.index),
    })
    return out


def _resume_detail(led: EntitlementLedger, month: Month, owed: list[Month], resume_from: Month) -> dict:
    stopped = led.status_instruction(month)
    since = stopped.effective if stopped is not None else (owed[0] if owed else month)
    missed = None
    if stopped is not None and stopped.detail is not None:
        d = _det(stopped)
        missed = d.get("missed_deadline") or d.get("death_date")
    out = {
        "ledger": 1,
        "suspended_from": str(since), "missed_deadline": missed,
        "certified_on": led.facts.last_certified.isoformat() if led.facts.last_certified else None,
        "resume_from": str(resume_from),
        "back_pay_months": [str(m) for m in owed],
        "back_pay_amount": yuan(led.total_fen(owed)),
        "needs_approval": False,
    }
    if stopped is not None and stopped.detail is None:
        out["stopped_by"] = stopped.id  # detail not loaded: the caller fills missed_deadline
    return out
