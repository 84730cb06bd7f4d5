"""The payment ledger's rules at their boundaries, without a database (issue 22).

``desktop.domain.ledger`` is pure: these tests build the facts and the recorded instructions by hand
and pin what domain.md §3 and docs/ledger.md require of ``due``, ``instructed``, ``paid``, the
amounts, and of the plan of a run: exactly 12 months of back pay instructed, 13 waiting for a
supervisor (and the one pending approval growing, superseded, or withdrawn), a certification in
the run's own month, a death inside a back-pay range, recoveries and their cancellation, the
go-live guard. Fast on purpose: a slip in the ledger is caught here in milliseconds.
"""

from __future__ import annotations

from datetime import date as d

import pytest

from desktop.domain.ledger import (
    HIGH_RISK_MONTHS,
    Demand,
    EntitlementLedger,
    Facts,
    Instruction,
    Plan,
    _det,
    plan,
    yuan,
)
from desktop.domain.months import Month
from desktop.domain.rules import RuleTable

RULES = RuleTable.default()
RET = RULES["enterprise_retiree"]
M = Month


def facts(**kw) -> Facts:
    base = dict(entitlement_id="e1", person_id="p1", id_number="152202195003010011", name="测试",
                cohort="enterprise_retiree", start=d(2010, 1, 1), amount_fen=100_000)
    base.update(kw)
    return Facts(**base)


def led(f: Facts, **kw) -> EntitlementLedger:
    return EntitlementLedger(f, RULES[f.cohort], **kw)


def suspend(month: Month, ident="s1", missed="2026-03-15", eff=None) -> Instruction:
    return Instruction(ident, "suspend", month, eff or month, (), False, None,
                       {"suspend_from": str(month), "missed_deadline": missed})


def resume(month: Month, eff: Month, ident="r1") -> Instruction:
    return Instruction(ident, "resume", month, eff, (), False, None, {"ledger": 1})


def back_pay(month: Month, months, ident="b1", pending=False, waiting=None) -> Instruction:
    detail = {"waiting_since": str(waiting)} if waiting else {}
    return Instruction(ident, "back_pay", month, month, tuple(months), pending, None, detail)


def span(first: Month, n: int) -> tuple[Month, ...]:
    return tuple(first + k for k in range(n))


# --- the columns -------------------------------------------------------------------------------


def test_due_before_the_start_while_covered_after_the_lapse_and_after_death():
    le = led(facts(start=d(2025, 8, 20), last_certified=d(2025, 9, 1), death=d(2026, 6, 15)))
    assert le.lapse == M(2026, 10)
    assert [le.due(m) for m in (M(2025, 7), M(2025, 8), M(2026, 6), M(2026, 7), M(2026, 10))] == [
        None, True, True, False, False]  # alive in the month of death: due; from the next: not
    le = led(facts(last_certified=d(2025, 3, 15)))
    assert (le.due(M(2026, 3)), le.due(M(2026, 4))) == (True, None)  # lapsed: unconfirmed


def test_death_on_the_start_day_and_before_it():
    on = led(facts(start=d(2026, 5, 20), death=d(2026, 5, 20)))
    assert on.dead_from == M(2026, 6) and on.due(M(2026, 5)) is True
    before = led(facts(start=d(2026, 5, 20), death=d(2026, 5, 19)))
    assert before.dead_from == M(2026, 5) and before.due(M(2026, 5)) is False
    long_before = led(facts(start=d(2026, 5, 20), death=d(2025, 1, 1)))
    assert long_before.dead_from == M(2026, 5)


def test_status_instructed_and_paid():
    ins = [suspend(M(2026, 4)), resume(M(2026, 7), M(2026, 8)),
           back_pay(M(2026, 7), [M(2026, 4), M(2026, 5)])]
    le = led(facts(last_certified=d(2026, 6, 10), instructions=ins), go_live=M(2026, 1), last_run=M(2026, 7))
    assert [le.status(m) for m in (M(2026, 3), M(2026, 4), M(2026, 7), M(2026, 8))] == [
        "paid", "withheld", "withheld", "paid"]
    assert le.instructed(M(2025, 12)) == "paid"  # before the first recorded run: the core system paid
    assert le.instructed(M(2026, 4)) == "withheld"
    assert le.instructed(M(2026, 7)) == "withheld"
    assert le.instructed(M(2026, 8)) is None  # no run has reached it
    assert [le.paid(m) for m in (M(2026, 3), M(2026, 4), M(2026, 5), M(2026, 6), M(2026, 8))] == [
        True, True, True, False, True]
    assert le.status_instruction(M(2026, 3)) is None
    assert le.status_instruction(M(2026, 5)).id == "s1" and le.status_instruction(M(2026, 8)).id == "r1"


def test_instructed_reaches_the_latest_status_instruction_without_a_recorded_run():
    le = led(facts(instructions=[suspend(M(2026, 4))]))
    assert le.instructed(M(2026, 4)) == "withheld" and le.instructed(M(2026, 5)) is None
    le = led(facts(instructions=[suspend(M(2026, 4))]), last_run=M(2026, 6))
    assert le.instructed(M(2026, 6)) == "withheld" and le.instructed(M(2026, 7)) is None
    assert led(facts()).instructed(M(2026, 4)) is None


def test_a_pending_instruction_sets_no_status_and_a_terminated_status_is_not_paid():
    pend = Instruction("x", "resume", M(2026, 5), M(2026, 5), (), True, None, {})
    le = led(facts(instructions=[suspend(M(2026, 4)), pend]))
    assert le.status(M(2026, 6)) == "withheld" and le.pending is pend
    term = Instruction("t", "terminate", M(2026, 5), M(2026, 5), (), False, None, {})
    rev = Instruction("v", "reverse_termination", M(2026, 7), M(2026, 7), (), False, None, {})
    le = led(facts(instructions=[term, rev]))
    assert [le.status(m) for m in (M(2026, 4), M(2026, 5), M(2026, 7))] == ["paid", "terminated", "withheld"]
    assert not le.paid(M(2026, 5)) and not le.paid(M(2026, 7))


def test_a_month_under_a_recovery_demand_is_not_paid_unless_the_demand_is_cancelled_or_void():
    for status, paid in (("open", False), ("planned", False), ("recovered", False), ("cancelled", True),
                         ("void", True)):
        le = led(facts(death=d(2026, 2, 10), demands=[Demand("c1", M(2026, 5), (M(2026, 3),), status)]))
        assert le.paid(M(2026, 3)) is paid, status
        assert le.paid(M(2026, 4)) is True
    cancel = Instruction("k", "recovery_cancel", M(2026, 6), M(2026, 6), (M(2026, 3),), False, "c1", {})
    le = led(facts(demands=[Demand("c1", M(2026, 5), (M(2026, 3), M(2026, 4)))], instructions=[cancel]))
    assert le.paid(M(2026, 3)) is True and le.paid(M(2026, 4)) is False
    other = Instruction("k", "recovery_cancel", M(2026, 6), M(2026, 6), (M(2026, 3),), False, "c2", {})
    le = led(facts(demands=[Demand("c1", M(2026, 5), (M(2026, 3),))], instructions=[other]))
    assert le.paid(M(2026, 3)) is False  # a cancellation of another case does not free this month


def test_amount_in_force_each_month():
    assert led(facts()).amount_fen(M(2026, 1)) == 100_000
    amounts = ((M(2026, 4), 120_000, 100_000), (M(2026, 9), 130_000, 120_000))
    le = led(facts(amount_fen=130_000, amounts=amounts))
    assert [le.amount_fen(m) for m in (M(2026, 3), M(2026, 4), M(2026, 8), M(2026, 9), M(2027, 1))] == [
        100_000, 120_000, 120_000, 130_000, 130_000]
    assert le.total_fen([M(2026, 3), M(2026, 4), M(2026, 9)]) == 350_000
    assert le.total_fen([]) == 0
    unknown = led(facts(amount_fen=None))
    assert unknown.total_fen([M(2026, 3)]) is None
    partly = led(facts(amount_fen=120_000, amounts=((M(2026, 4), 120_000, None),)))
    assert partly.amount_fen(M(2026, 3)) is None and partly.total_fen([M(2026, 3), M(2026, 4)]) is None
    assert partly.total_fen([M(2026, 4)]) == 120_000
    assert yuan(None) is None and yuan(12_345) == 123.45 and yuan(0) == 0


def test_settled_by_names_the_instruction_that_settled_each_month():
    cancel = Instruction("k", "recovery_cancel", M(2026, 8), M(2026, 8), (M(2026, 4),), False, "c1", {})
    ins = [suspend(M(2026, 2)), back_pay(M(2026, 6), [M(2026, 2)]), cancel,
           back_pay(M(2026, 8), [M(2026, 3)], ident="b2", pending=True)]
    demands = [Demand("c1", M(2026, 7), (M(2026, 4), M(2026, 5)))]
    le = led(facts(last_certified=d(2026, 1, 5), instructions=ins, demands=demands))
    assert le.settled_by(M(2026, 2)) == {"kind": "back_pay", "month": "2026-06"}
    assert le.settled_by(M(2026, 3)) == {"kind": "back_pay_pending", "month": "2026-08"}
    assert le.settled_by(M(2026, 4)) == {"kind": "recovery_cancel", "month": "2026-08", "case_id": "c1"}
    assert le.settled_by(M(2026, 5)) == {"kind": "recovery", "month": "2026-07", "case_id": "c1"}
    assert le.settled_by(M(2026, 6)) is None
    rows = le.months(M(2026, 1), M(2026, 3))
    assert [r["month"] for r in rows] == ["2026-01", "2026-02", "2026-03"]
    assert rows[1] == {"month": "2026-02", "due": True, "instructed": "withheld", "amount": 1000.0,
                       "settled_by": {"kind": "back_pay", "month": "2026-06"}}
    assert [r["month"] for r in led(facts(start=d(2026, 2, 5))).months(M(2026, 1), M(2026, 2))] == ["2026-02"]


def test_outstanding_counts_up_to_the_latest_run():
    le = led(facts(last_certified=d(2026, 5, 10), instructions=[suspend(M(2026, 4))]), last_run=M(2026, 6))
    assert le.outstanding(M(2026, 12)) == {"back_pay_outstanding": 3000.0, "recovery_open": 0.0,
                                           "overpaid_unclaimed": 0.0, "amount_unknown": False}
    assert le.outstanding(M(2026, 4))["back_pay_outstanding"] == 1000.0  # through April only
    assert led(facts(last_certified=d(2026, 5, 10), instructions=[suspend(M(2026, 4))])).outstanding(
        M(2026, 12))["back_pay_outstanding"] == 0  # no run recorded: nothing instructed yet
    dead = led(facts(death=d(2026, 2, 10), last_certified=d(2026, 1, 5)), go_live=M(2026, 1), last_run=M(2026, 5))
    o = dead.outstanding(M(2026, 5))
    assert (o["overpaid_unclaimed"], o["amount_unknown"]) == (3000.0, False)  # March-May paid, not due
    demanded = led(facts(death=d(2026, 2, 10), last_certified=d(2026, 1, 5),
                         demands=[Demand("c1", M(2026, 6), span(M(2026, 3), 3))]), go_live=M(2026, 1),
                   last_run=M(2026, 6))
    o = demanded.outstanding(M(2026, 6))
    assert (o["recovery_open"], o["overpaid_unclaimed"]) == (3000.0, 1000.0)  # June: paid, no demand yet
    unknown = led(facts(amount_fen=None, last_certified=d(2026, 5, 10), instructions=[suspend(M(2026, 4))]),
                  last_run=M(2026, 6))
    assert unknown.outstanding(M(2026, 6))["amount_unknown"] is True


def test_first_interesting_month():
    assert led(facts(last_certified=d(2025, 3, 15))).first_interesting() == M(2026, 4)
    assert led(facts(last_certified=d(2025, 3, 15), death=d(2025, 9, 2))).first_interesting() == M(2025, 10)
    assert led(facts(start=d(2026, 7, 1), death=d(2025, 1, 1))).first_interesting() == M(2026, 7)
    ins = [suspend(M(2026, 6)), back_pay(M(2026, 8), [M(2026, 2)])]
    assert led(facts(last_certified=d(2026, 7, 1), instructions=ins)).first_interesting() == M(2026, 2)
    dem = [Demand("c", M(2026, 9), (M(2026, 1),))]
    assert led(facts(last_certified=d(2026, 7, 1), demands=dem)).first_interesting() == M(2026, 1)
    late = suspend(M(2026, 6))
    late.detail["suspend_from"] = "2026-04"
    le = led(facts(last_certified=d(2026, 7, 1), instructions=[late]))
    assert le.first_interesting() == M(2026, 6) and le.first_interesting(for_view=True) == M(2026, 4)


def test_details_are_parsed_once_and_only_when_read():
    i = Instruction("x", "suspend", M(2026, 4), M(2026, 4), detail='{"missed_deadline": "2026-03-15"}')
    assert _det(i) == {"missed_deadline": "2026-03-15"} and i.detail == {"missed_deadline": "2026-03-15"}
    assert _det(Instruction("y", "suspend", M(2026, 4), M(2026, 4), detail="")) == {}
    assert _det(Instruction("z", "suspend", M(2026, 4), M(2026, 4), detail=None)) == {}
    assert facts().interesting is False
    assert facts(death=d(2026, 1, 1)).interesting and facts(instructions=[suspend(M(2026, 4))]).interesting
    assert facts(demands=[Demand("c", M(2026, 1), ())]).interesting


# --- a run: suspension ------------------------------------------------------------------------


def test_suspension_from_the_month_after_the_deadline_month():
    le = led(facts(last_certified=d(2025, 3, 15)))
    assert not plan(le, M(2026, 3))  # the deadline month itself is still covered
    p = plan(le, M(2026, 4))
    assert p.status == ("suspend", {"suspend_from": "2026-04", "effective_month": "2026-04",
                                    "missed_deadline": "2026-03-15", "last_certified": "2025-03-15",
                                    "paid_while_overdue": []})
    assert (p.back_pay, p.recover, p.cancels, p.void_pending, p.go_live_guarded) == (None, None, [], None, False)


def test_a_late_suspension_reports_the_months_paid_while_overdue():
    p = plan(led(facts(last_certified=d(2025, 3, 15))), M(2026, 6))
    assert p.status[1]["suspend_from"] == "2026-04" and p.status[1]["effective_month"] == "2026-06"
    assert p.status[1]["paid_while_overdue"] == ["2026-04", "2026-05"]
    assert p.back_pay is None and p.recover is None  # paid while overdue: never recovered for that alone


def test_go_live_guard_and_its_confirmation():
    le = led(facts(last_certified=None, start=d(2011, 3, 1)), go_live=M(2026, 4))
    p = plan(le, M(2026, 4), guard_go_live=True)
    assert p.go_live_guarded and p.status is None and bool(p)
    p = plan(le, M(2026, 4), no_cert=True)
    assert p.status[0] == "suspend" and p.status[1]["suspend_from"] == "2012-04"
    assert p.status[1]["paid_while_overdue"] == []  # the core system paid before the first recorded run
    p = plan(led(facts(last_certified=None, start=d(2011, 3, 1)), go_live=M(2026, 2)), M(2026, 4), no_cert=True)
    assert p.status[1]["paid_while_overdue"] == ["2026-02", "2026-03"]
    already = led(facts(last_certified=None, start=d(2011, 3, 1), instructions=[suspend(M(2026, 4))]),
                  go_live=M(2026, 4))
    assert not plan(already, M(2026, 5), guard_go_live=True)  # already withheld: nothing to guard


def test_an_empty_plan_is_false_and_every_part_makes_it_true():
    assert not Plan()
    assert Plan(status=("suspend", {})) and Plan(back_pay=((), 0, False)) and Plan(recover=((), 0))
    assert Plan(cancels=[("c", (), 0)]) and Plan(void_pending="x") and Plan(go_live_guarded=True)
    assert not plan(led(facts(last_certified=d(2026, 1, 5))), M(2026, 6))  # covered and paid


# --- a run: resumption and back pay at the 12-month threshold -------------------------------------


def _suspended(last_certified, **kw):
    return led(facts(last_certified=last_certified, instructions=[suspend(M(2026, 4))], **kw))


def test_exactly_12_months_are_instructed_with_the_resumption():
    assert HIGH_RISK_MONTHS == 12
    le = _suspended(d(2027, 3, 10))
    p = plan(le, M(2027, 4))
    months = span(M(2026, 4), 12)
    assert p.back_pay == (months, 12 * 100_000, False)
    assert p.status == ("resume", {
        "ledger": 1, "suspended_from": "2026-04", "missed_deadline": "2026-03-15", "certified_on": "2027-03-10",
        "resume_from": "2027-04", "back_pay_months": [str(m) for m in months], "back_pay_amount": 12000.0,
        "needs_approval": False})
    assert p.void_pending is None and p.waiting_since is None


def test_13_months_wait_for_a_supervisor_and_payment_stays_withheld():
    le = _suspended(d(2027, 4, 10))
    p = plan(le, M(2027, 5))
    assert p.back_pay == (span(M(2026, 4), 13), 13 * 100_000, True)
    assert p.status is None  # no resumption before the approval
    assert p.waiting_since == M(2027, 5) and p.void_pending is None


def test_the_pending_approval_is_not_repeated_grows_and_keeps_its_waiting_since():
    pend = back_pay(M(2027, 5), span(M(2026, 4), 13), pending=True, waiting=M(2027, 5))
    le = led(facts(last_certified=d(2027, 4, 10), instructions=[suspend(M(2026, 4)), pend]))
    assert not plan(le, M(2027, 5))  # the same 13 months already wait
    p = plan(le, M(2027, 6))
    assert p.back_pay == (span(M(2026, 4), 14), 14 * 100_000, True)
    assert p.void_pending == "b1" and p.waiting_since == M(2027, 5)
    no_since = back_pay(M(2027, 5), span(M(2026, 4), 13), pending=True)
    le = led(facts(last_certified=d(2027, 4, 10), instructions=[suspend(M(2026, 4)), no_since]))
    assert plan(le, M(2027, 6)).waiting_since == M(2027, 6)


def test_a_pending_approval_is_superseded_when_12_or_fewer_months_are_owed_or_none_at_all():
    pend = back_pay(M(2027, 5), span(M(2026, 4), 13), pending=True, waiting=M(2027, 5))
    # a death inside the range: only April 2026 - March 2027 stay due (12 months)
    le = led(facts(last_certified=d(2027, 2, 10), death=d(2027, 3, 31), instructions=[suspend(M(2026, 4)), pend]))
    p = plan(le, M(2027, 6))
    assert p.back_pay == (span(M(2026, 4), 12), 12 * 100_000, False) and p.void_pending == "b1"
    assert p.status[0] == "terminate" and p.status[1]["terminate_from"] == "2027-04"
    # died before the suspension: nothing was ever owed
    le = led(facts(last_certified=d(2025, 3, 15), death=d(2026, 2, 1), instructions=[suspend(M(2026, 4)), pend]))
    p = plan(le, M(2027, 6))
    assert p.back_pay is None and p.void_pending == "b1"


def test_certified_in_the_runs_own_month_resumes_from_the_next_month():
    le = _suspended(d(2026, 6, 1))
    p = plan(le, M(2026, 6))
    assert p.back_pay == (span(M(2026, 4), 3), 300_000, False)
    assert p.status[1]["resume_from"] == "2026-07" and p.status[1]["back_pay_months"] == ["2026-04", "2026-05",
                                                                                          "2026-06"]
    p = plan(_suspended(d(2026, 5, 31)), M(2026, 6))  # in the month before: resumes in the run's month
    assert p.back_pay == (span(M(2026, 4), 2), 200_000, False) and p.status[1]["resume_from"] == "2026-06"


def test_a_rerun_after_the_resumption_instructs_nothing():
    ins = [suspend(M(2026, 4)), resume(M(2026, 6), M(2026, 7)), back_pay(M(2026, 6), span(M(2026, 4), 3))]
    le = led(facts(last_certified=d(2026, 6, 1), instructions=ins))
    assert not plan(le, M(2026, 6))
    assert not plan(le, M(2026, 7))


def test_the_resumption_names_what_stopped_payment():
    term = Instruction("t1", "terminate", M(2026, 5), M(2026, 5), (), False, None, {"death_date": "2026-04-02"})
    le = led(facts(last_certified=d(2026, 3, 1), instructions=[term]))  # the death was withdrawn
    p = plan(le, M(2026, 7))
    assert p.status[1]["missed_deadline"] == "2026-04-02" and p.status[1]["suspended_from"] == "2026-05"
    assert p.back_pay[0] == (M(2026, 5), M(2026, 6))
    light = Instruction("s9", "suspend", M(2026, 4), M(2026, 4), (), False, None, None)  # detail not read
    p = plan(led(facts(last_certified=d(2026, 6, 10), instructions=[light])), M(2026, 7))
    assert p.status[1]["stopped_by"] == "s9" and p.status[1]["missed_deadline"] is None


# --- a run: death, recovery, cancellation -------------------------------------------------------


def test_death_terminates_and_recovers_the_months_paid_after_it():
    le = led(facts(last_certified=d(2026, 1, 5), death=d(2026, 8, 15), certified_after_death=d(2026, 9, 3)))
    p = plan(le, M(2026, 10))
    assert p.status == ("terminate", {"death_date": "2026-08-15", "terminate_from": "2026-09",
                                      "effective_month": "2026-10", "certified_after_death": "2026-09-03"})
    assert p.recover == ((M(2026, 9),), 100_000)
    assert plan(led(facts(last_certified=d(2026, 1, 5), death=d(2026, 8, 15))), M(2026, 9)).recover is None


def test_a_death_inside_a_back_pay_range_back_pays_up_to_the_death_month_only():
    le = led(facts(last_certified=d(2026, 6, 20), death=d(2026, 8, 15), instructions=[suspend(M(2026, 4))]))
    p = plan(le, M(2026, 10))
    assert p.back_pay == (span(M(2026, 4), 5), 500_000, False)
    assert p.status[0] == "terminate" and p.recover is None  # withheld months after the death: nothing to recover


def test_a_withdrawn_death_cancels_the_recovery_and_resumes_with_back_pay():
    term = Instruction("t1", "terminate", M(2026, 10), M(2026, 10), (), False, None, {"death_date": "2026-08-15"})
    dem = Demand("c1", M(2026, 10), (M(2026, 9),))
    le = led(facts(last_certified=d(2026, 1, 5), instructions=[term], demands=[dem]))
    p = plan(le, M(2026, 11))
    assert p.cancels == [("c1", (M(2026, 9),), 100_000)]
    assert p.back_pay == ((M(2026, 10),), 100_000, False)
    assert p.status[0] == "resume" and p.status[1]["resume_from"] == "2026-11"
    # the death moved later: the demand loses only the months that became due
    dem2 = Demand("c2", M(2026, 10), (M(2026, 9), M(2026, 10)))
    le = led(facts(last_certified=d(2026, 1, 5), death=d(2026, 9, 20), instructions=[term], demands=[dem2]))
    p = plan(le, M(2026, 11))
    assert p.cancels == [("c2", (M(2026, 9),), 100_000)] and p.recover is None


def test_after_a_withdrawn_death_a_lapsed_clock_suspends_and_says_so():
    term = Instruction("t1", "terminate", M(2026, 10), M(2026, 10), (), False, None, {"death_date": "2026-08-15"})
    p = plan(led(facts(last_certified=d(2025, 3, 15), instructions=[term])), M(2026, 11))
    assert p.status[0] == "suspend" and p.status[1]["after"] == "terminated"
    assert "after" not in plan(led(facts(last_certified=d(2025, 3, 15))), M(2026, 11)).status[1]


@pytest.mark.parametrize("amounts,expected", [
    ((), 3 * 100_000),
    (((M(2026, 10), 150_000, 100_000),), 100_000 + 2 * 150_000),
])
def test_recovery_is_priced_month_by_month(amounts, expected):
    le = led(facts(last_certified=d(2026, 1, 5), death=d(2026, 8, 15), amounts=amounts), go_live=M(2026, 1))
    p = plan(le, M(2026, 12))
    assert p.recover == (span(M(2026, 9), 3), expected)


def test_outstanding_with_unknown_amounts_counts_nothing_and_says_so():
    # amounts known only from April (the roster's change had no previous amount)
    amounts = ((M(2026, 4), 120_000, None),)
    le = led(facts(amount_fen=120_000, amounts=amounts, last_certified=d(2026, 5, 10),
                   instructions=[suspend(M(2026, 3))]), last_run=M(2026, 6))
    o = le.outstanding(M(2026, 6))
    assert o == {"back_pay_outstanding": 3600.0, "recovery_open": 0.0, "overpaid_unclaimed": 0.0,
                 "amount_unknown": True}  # March unknown, April-June 1,200 each
    none = led(facts(amount_fen=None, last_certified=d(2026, 5, 10), instructions=[suspend(M(2026, 4))]),
               last_run=M(2026, 6))
    assert none.outstanding(M(2026, 6))["back_pay_outstanding"] == 0.0
    dead = led(facts(amount_fen=120_000, amounts=amounts, death=d(2026, 2, 10), last_certified=d(2026, 1, 5)),
               go_live=M(2026, 1), last_run=M(2026, 5))
    o = dead.outstanding(M(2026, 5))
    assert (o["overpaid_unclaimed"], o["amount_unknown"]) == (2400.0, True)  # March unknown, April-May known
    unknown_dead = led(facts(amount_fen=None, death=d(2026, 2, 10), last_certified=d(2026, 1, 5)),
                       go_live=M(2026, 1), last_run=M(2026, 5))
    assert unknown_dead.outstanding(M(2026, 5))["overpaid_unclaimed"] == 0.0


def test_recovery_open_counts_open_and_planned_demands_at_known_amounts():
    for status, open_ in (("open", 2000.0), ("planned", 2000.0), ("recovered", 0.0), ("cancelled", 0.0)):
        le = led(facts(death=d(2026, 2, 10), demands=[Demand("c", M(2026, 5), (M(2026, 3), M(2026, 4)), status)]),
                 last_run=M(2026, 5))
        assert le.outstanding(M(2026, 5))["recovery_open"] == open_, status
    le = led(facts(amount_fen=None, death=d(2026, 2, 10), demands=[Demand("c", M(2026, 5), (M(2026, 3),))]),
             last_run=M(2026, 5))
    assert le.outstanding(M(2026, 5))["recovery_open"] == 0.0
