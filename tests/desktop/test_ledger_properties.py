"""Properties of the payment ledger over random sequences of facts and runs (hypothesis).

A small simulator keeps what the database would keep — instructions and recovery demands — and
feeds the pure :mod:`desktop.domain.ledger` the facts known on each run day: certifications arrive late
(some dated before a deadline that has already suspended payment), deaths are reported, corrected
and withdrawn, amounts change, runs skip months or repeat the latest one, and supervisors approve
long back pay between runs. After every run, for every month up to it:

* a month found due is paid — or waits in the one pending approval;
* a month found not due (after death) is not paid;
* no month is back-paid twice or under two recovery demands, and a demand stands only on months
  known not to be due (a corrected or withdrawn death cancels it);
* running the same month again instructs nothing;
* every back pay and recovery is priced at the amounts of the months it covers.

"Due" is computed here from the raw facts (an oracle independent of ``EntitlementLedger.due``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.domain.ledger import HIGH_RISK_MONTHS, Demand, EntitlementLedger, Facts, Instruction, plan
from desktop.domain.months import Month
from desktop.domain.rules import RuleTable, clock

RULES = RuleTable.default()
COHORTS = ["enterprise_retiree", "enterprise_survivor", "resident_pension"]


@dataclass
class Store:
    instructions: list[Instruction] = field(default_factory=list)
    demands: list[Demand] = field(default_factory=list)
    runs: list[Month] = field(default_factory=list)
    seq: int = 0

    def new_id(self) -> str:
        self.seq += 1
        return f"x{self.seq}"


@dataclass
class World:
    cohort: str
    start: date
    amounts: list  # (from month, fen, previous fen), sorted
    amount_now: int
    certs: list  # (cert date, arrives before run number k)
    death_reports: list  # (run number k from which it is known, death date or None = withdrawn)


def oracle_due(w: World, known_certs: list[date], death: date | None, m: Month) -> bool | None:
    start_m = Month.of(w.start)
    if m < start_m:
        return None
    if death is not None:
        if death < w.start or m > Month.of(death):
            return False
        known_certs = [c for c in known_certs if c <= death]
    last = max(known_certs) if known_certs else None
    c = clock(RULES[w.cohort], w.start, last)
    return True if m < c.suspend_month else None


def facts_at(w: World, store: Store, k: int, run_day: date) -> tuple[Facts, list[date], date | None]:
    death = None
    for since, d in w.death_reports:
        if since <= k:
            death = d
    if death is not None and death > run_day:
        death = None
    certs = [c for c, arrives in w.certs if arrives <= k and c <= run_day]
    valid = [c for c in certs if death is None or c <= death]
    after = [c for c in certs if death is not None and c > death]
    f = Facts("e1", "p1", "152202195003010011", "测试", w.cohort, w.start, w.amount_now, tuple(w.amounts),
              max(valid) if valid else None, death, max(after) if after else None,
              list(store.instructions), list(store.demands))
    return f, certs, death


def apply(store: Store, p, month: Month) -> None:
    if p.void_pending:
        store.instructions = [i for i in store.instructions if i.id != p.void_pending]
    if p.status:
        kind, detail = p.status
        eff = Month.parse(detail["resume_from"]) if kind == "resume" else month
        store.instructions.append(Instruction(store.new_id(), kind, month, eff, (), False, None, detail))
    if p.back_pay:
        months, fen, needs = p.back_pay
        detail = {"waiting_since": str(p.waiting_since or month)} if needs else {}
        store.instructions.append(Instruction(store.new_id(), "back_pay", month, month, months, needs, None, detail))
    for case_id, months, fen in p.cancels:
        store.instructions.append(Instruction(store.new_id(), "recovery_cancel", month, month, months, False, case_id))
    if p.recover:
        store.demands.append(Demand(store.new_id(), month, p.recover[0]))


def approve_pending(store: Store) -> None:
    """A supervisor approves: the pending request becomes an instruction of the next run."""
    nxt = store.runs[-1] + 1
    for i, ins in enumerate(store.instructions):
        if ins.kind == "back_pay" and ins.pending:
            store.instructions[i] = Instruction(ins.id + "a", "back_pay", nxt, nxt, ins.months, False)


@st.composite
def worlds(draw):
    cohort = draw(st.sampled_from(COHORTS))
    start = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 540)))
    n_runs = draw(st.integers(4, 14))
    steps = draw(st.lists(st.sampled_from([0, 1, 1, 1, 1, 2, 3]), min_size=n_runs, max_size=n_runs))
    first = Month(2025, 1) + draw(st.integers(0, 8))
    months, m = [], first
    for s in steps:
        m = m + s
        months.append(m)
    base = draw(st.integers(500, 5000)) * 100
    amounts, amount_now = [], base
    if draw(st.booleans()):
        frm = first + draw(st.integers(-6, 18))
        new = draw(st.integers(500, 5000)) * 100
        amounts, amount_now = [(frm, new, base)], new
    lo, hi = date(2023, 6, 1), months[-1].last_day()
    certs = []
    for _ in range(draw(st.integers(0, 5))):
        c = lo + timedelta(days=draw(st.integers(0, (hi - lo).days)))
        certs.append((c, draw(st.integers(0, n_runs))))  # arrives before run k (late facts)
    deaths = []
    if draw(st.booleans()):
        d = date(2024, 6, 1) + timedelta(days=draw(st.integers(0, (hi - date(2024, 6, 1)).days)))
        k = draw(st.integers(0, n_runs))
        deaths.append((k, d))
        choice = draw(st.sampled_from(["keep", "correct", "withdraw"]))
        if choice != "keep":
            k2 = draw(st.integers(k, n_runs))
            d2 = None if choice == "withdraw" else d + timedelta(days=draw(st.integers(-120, 120)))
            deaths.append((k2, d2))
    approvals = draw(st.sets(st.integers(0, n_runs - 1)))
    return World(cohort, start, amounts, amount_now, certs, deaths), months, approvals


def _amount(w: World, m: Month) -> int:
    if not w.amounts:
        return w.amount_now
    frm, new, prev = w.amounts[0]
    return new if m >= frm else prev


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_after_every_run_paid_matches_due_exactly_once(case):
    w, months, approvals = case
    store = Store()
    for k, month in enumerate(months):
        if store.runs and month < store.runs[-1]:
            continue  # never happens: runs go in month order
        run_day = month.first_day()
        f, certs, death = facts_at(w, store, k, run_day)
        rule = RULES[w.cohort]
        go_live = store.runs[0] if store.runs else month
        led = EntitlementLedger(f, rule, go_live=go_live, last_run=store.runs[-1] if store.runs else None)
        p = plan(led, month)
        apply(store, p, month)
        store.runs.append(month)

        # the corrections are priced month by month
        if p.back_pay and p.back_pay[1] is not None:
            assert p.back_pay[1] == sum(_amount(w, m) for m in p.back_pay[0])
        if p.recover and p.recover[1] is not None:
            assert p.recover[1] == sum(_amount(w, m) for m in p.recover[0])

        f2, _, _ = facts_at(w, store, k, run_day)
        led2 = EntitlementLedger(f2, rule, go_live=go_live, last_run=month)
        # re-running the latest month is a no-op
        again = plan(led2, month)
        assert not again, (month, again)

        pending = led2.pending
        back = [m for i in store.instructions if i.kind in ("back_pay",) and not i.pending for m in i.months]
        assert len(back) == len(set(back)), "a month back-paid twice"
        demanded = [m for m in led2.recovered]
        assert len(demanded) == len(set(demanded))
        for i in range(Month.of(w.start).index, month.index + 1):
            m = Month.from_index(i)
            due = oracle_due(w, [c for c in certs], death, m)
            assert led2.due(m) == due, (m, due)
            if due is True and not led2.paid(m):
                assert pending is not None and (m in pending.months or m >= month), (m, month)
                assert len(pending.months) > HIGH_RISK_MONTHS or m >= month
            if due is False:
                assert not led2.paid(m), (m, "paid after death")
            if m in led2.recovered:
                assert due is False, (m, "recovery demanded for a month not known to be undue")
        if k in approvals and pending is not None:
            approve_pending(store)


@settings(max_examples=150, deadline=None)
@given(worlds())
def test_outstanding_is_zero_after_the_next_run_without_new_facts(case):
    """Whatever happened before, one more run with no new facts leaves nothing outstanding
    (unless a long back pay waits for a supervisor, which the next run after approval settles)."""
    w, months, approvals = case
    store = Store()
    k = len(months)
    for month in months + [months[-1] + 1]:
        if store.runs and month < store.runs[-1]:
            continue
        f, _, _ = facts_at(w, store, k, month.first_day())
        led = EntitlementLedger(f, RULES[w.cohort], go_live=store.runs[0] if store.runs else month,
                                last_run=store.runs[-1] if store.runs else None)
        apply(store, plan(led, month), month)
        store.runs.append(month)
    month = store.runs[-1]
    if any(i.pending for i in store.instructions):
        approve_pending(store)
        month = month + 1
        f, _, _ = facts_at(w, store, k, month.first_day())
        led = EntitlementLedger(f, RULES[w.cohort], go_live=store.runs[0], last_run=store.runs[-1])
        apply(store, plan(led, month), month)
        store.runs.append(month)
    f, _, _ = facts_at(w, store, k, month.first_day())
    led = EntitlementLedger(f, RULES[w.cohort], go_live=store.runs[0], last_run=month)
    out = led.outstanding(month)
    assert out["back_pay_outstanding"] == 0 and out["overpaid_unclaimed"] == 0, out


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["rolling_months", "rolling_days", "calendar_windows"]),
       period=st.sampled_from([1, 2, 3, 6, 12]), offset=st.integers(0, 2),
       d=st.dates(date(2000, 1, 1), date(2030, 12, 31)), m=st.integers(2005 * 12, 2031 * 12))
def test_a_runs_sql_filter_threshold_splits_covered_from_lapsed(kind, period, offset, d, m):
    """The run reads only entitlements whose effective last date is before their cohort's
    threshold: exactly those whose clock has lapsed by the month."""
    from desktop.domain.rules import CycleRule
    from desktop.services.payroll_rows import lapse_threshold

    rule = CycleRule("enterprise_retiree", kind, period if kind != "rolling_days" else period * 30,
                     suspend_offset_months=offset)
    t = date.fromisoformat(lapse_threshold(rule, m))
    assert (clock(rule, d, d).suspend_month.index > m) == (d >= t)


@settings(max_examples=300, deadline=None)
@given(cohort=st.sampled_from(COHORTS), start=st.dates(date(2005, 1, 1), date(2026, 12, 31)),
       last=st.one_of(st.none(), st.dates(date(2005, 1, 1), date(2026, 12, 31))),
       m=st.integers(2024 * 12, 2027 * 12), go=st.integers(0, 30), guard=st.booleans())
def test_fresh_plan_is_plan_for_an_entitlement_with_nothing_recorded(cohort, start, last, m, go, guard):
    """The run's fast path for untouched entitlements gives exactly the general plan."""
    from desktop.domain.ledger import fresh_plan

    month = Month.from_index(m)
    go_live = month - go
    f = Facts("e1", "p1", "n", "x", cohort, start, 1000, (), last)
    rule = RULES[cohort]
    clk = clock(rule, start, last)
    led = EntitlementLedger(f, rule, go_live=go_live, last_run=month - 1, clk=clk)
    for no_cert in (False, True):
        expect = plan(led, month, guard_go_live=guard and not no_cert, no_cert=no_cert)
        got = fresh_plan(f, clk, month, go_live, guard_go_live=guard and not no_cert, no_cert=no_cert)
        assert (got.status, got.go_live_guarded, got.back_pay, got.recover, got.cancels) == \
               (expect.status, expect.go_live_guarded, expect.back_pay, expect.recover, expect.cancels)
