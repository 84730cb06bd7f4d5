"""Corrections that arrive after a month was run (domain.md §3): recovery demands reduced by
corrections (refunds, instalment plans, unknown amounts), and issue 22's survivors: a month
re-run after its recovery was reduced, the run's own month back-paid and then contradicted, a
second death after a withdrawn one, a withdrawal beside a back pay awaiting approval, a
resumption with no certification on file, months paid while overdue after a gap in runs, plans
never shared across different clocks. Every scenario runs through the real services on a SQLite
file; the helpers are test_money_payroll's."""

from __future__ import annotations

import json
from datetime import date as d

from desktop.domain.months import Month
from desktop.services.hub import Services
from desktop.services.persons import PersonService

from scenario import ACTOR
from test_money_payroll import _dead_with_a_case, certify, q, run, set_death


# --- recovery demands reduced by corrections --------------------------------------------------


def test_recovery_case_row_and_its_instruction(db, roster):
    n, case_id = _dead_with_a_case(db, roster)
    (row,) = q(db, "select entitlement_id, person_id, opened_month, overpaid_months, amount_fen, method, status, "
                   "note from recovery_cases")
    assert row[2:] == ("2026-06", '["2026-03", "2026-04", "2026-05"]', 300_000, None, "open", None)
    (term,) = q(db, "select kind, payroll_month, effective_month, detail from entitlement_events")
    assert term[:3] == ("terminate", "2026-06", "2026-06")
    assert json.loads(term[3])["terminate_from"] == "2026-03" and json.loads(term[3])["death_date"] == "2026-02-10"
    (status,) = q(db, "select status, status_since from entitlements")
    assert tuple(status) == ("terminated", "2026-06")
    audit = dict(q(db, "select action, count(*) from audit_log where action in "
                       "('payroll.run', 'payroll.instructions', 'recovery.opened') group by action"))
    assert audit == {"payroll.run": 5, "payroll.instructions": 1, "recovery.opened": 1}
    assert q(db, "select count(*) from outbox where entity='recovery_case' and entity_id=:c", c=case_id)[0][0] == 1


def test_a_correction_that_makes_paid_months_due_refunds_what_was_collected(db, roster):
    n, case_id = _dead_with_a_case(db, roster)
    deaths = Services(db).deaths
    deaths.set_plan(case_id, "instalments", ACTOR, instalments=3, first_month="2026-07")
    deaths.record_payment(case_id, 1500, ACTOR, paid_on=d(2026, 7, 5))
    set_death(db, n, d(2026, 4, 15))  # March and April were due after all
    july = run(db, "2026-07")
    (corr,) = july.corrections
    assert corr["kind"] == "recovery_cancel" and corr["months"] == ["2026-03", "2026-04"] and corr["amount"] == 2000.0
    case = deaths.case(case_id)
    assert case.amount == 1000.0 and case.status == "recovered"
    assert "2026-07 更正：2026-03、2026-04 应发，不再追回" in case.note
    assert "已追回 1500.00 元，应退还 500.00 元" in case.note


def test_a_correction_that_leaves_part_of_a_planned_case_asks_for_a_new_plan(db, roster):
    n, case_id = _dead_with_a_case(db, roster)
    deaths = Services(db).deaths
    deaths.set_plan(case_id, "instalments", ACTOR, instalments=3, first_month="2026-07")
    set_death(db, n, d(2026, 3, 20))  # March was due
    run(db, "2026-07")
    case = deaths.case(case_id)
    assert case.amount == 2000.0 and case.status == "open"
    assert [i for i in case.plan if i.status != "cancelled"] == []  # the old plan no longer stands
    assert case.note.endswith("；请重新确定追回方式") and "2026-03 应发" in case.note
    assert run(db, "2026-08").corrections == []  # each month cancelled once


def test_a_withdrawn_death_cancels_an_unpaid_case_and_closes_a_paid_one_with_a_refund(db, roster):
    n, case_id = _dead_with_a_case(db, roster)
    set_death(db, n, None)
    july = run(db, "2026-07")
    (cancel,) = [c for c in july.corrections if c["kind"] == "recovery_cancel"]
    assert cancel["months"] == ["2026-03", "2026-04", "2026-05"] and cancel["amount"] == 3000.0
    (back,) = [c for c in july.corrections if c["kind"] == "back_pay"]
    assert back["months"] == ["2026-06"]  # terminated in June: owed now
    (res,) = july.resume
    assert res["resume_from"] == "2026-07" and res["missed_deadline"] == "2026-02-10"
    case = Services(db).deaths.case(case_id)
    assert case.status == "cancelled" and case.amount == 0
    assert "已追回" not in case.note


def test_a_withdrawn_death_after_collection_closes_the_case_with_a_refund(db, roster):
    n, case_id = _dead_with_a_case(db, roster)
    deaths = Services(db).deaths
    deaths.set_plan(case_id, "lump_sum", ACTOR, first_month="2026-07")
    deaths.record_payment(case_id, 3000, ACTOR, paid_on=d(2026, 7, 2))
    set_death(db, n, None)
    run(db, "2026-07")
    case = deaths.case(case_id)
    assert case.status == "recovered" and case.amount == 0
    assert "已追回 3000.00 元，应退还 3000.00 元" in case.note


# --- recovery demands: the remaining shapes of a reduction ----------------------------------------


def test_reducing_an_open_case_notes_the_months_and_asks_for_nothing_else(db, roster):
    n, case_id = _dead_with_a_case(db, roster)
    set_death(db, n, d(2026, 3, 20))
    run(db, "2026-07")
    case = Services(db).deaths.case(case_id)
    assert (case.status, case.amount) == ("open", 2000.0)
    assert case.note == "2026-07 更正：2026-03 应发，不再追回"


def test_a_planned_unpaid_case_is_cancelled_when_the_death_is_withdrawn(db, roster):
    n, case_id = _dead_with_a_case(db, roster)
    deaths = Services(db).deaths
    deaths.set_plan(case_id, "instalments", ACTOR, instalments=3, first_month="2026-07")
    set_death(db, n, None)
    run(db, "2026-07")
    case = deaths.case(case_id)
    assert (case.status, case.amount) == ("cancelled", 0)
    assert case.note == "2026-07 更正：2026-03、2026-04、2026-05 应发，不再追回"


def _dead_with_a_case_of_unknown_amount(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 12, 1))  # no amount on file
    roster.load(today=d(2026, 1, 5))
    for m in ("2026-02", "2026-03", "2026-04", "2026-05"):
        run(db, m)
    set_death(db, n, d(2026, 2, 10))
    (rec,) = run(db, "2026-06").recover
    assert rec["overpaid_amount"] is None and rec["overpaid_months"] == ["2026-03", "2026-04", "2026-05"]
    return n, rec["case_id"]


def test_a_case_of_unknown_amount_stays_open_while_months_are_still_demanded(db, roster):
    n, case_id = _dead_with_a_case_of_unknown_amount(db, roster)
    set_death(db, n, d(2026, 3, 20))
    july = run(db, "2026-07")
    assert [(c["kind"], c["months"], c["amount"]) for c in july.corrections] == [
        ("recovery_cancel", ["2026-03"], None)]
    case = Services(db).deaths.case(case_id)
    assert (case.status, case.amount) == ("open", None)  # April and May still demanded


def test_a_case_of_unknown_amount_is_cancelled_when_every_month_is_withdrawn_at_once(db, roster):
    n, case_id = _dead_with_a_case_of_unknown_amount(db, roster)
    set_death(db, n, None)
    run(db, "2026-07")
    case = Services(db).deaths.case(case_id)
    assert (case.status, case.amount) == ("cancelled", None)


def test_a_case_opened_without_an_amount_is_cancelled_after_the_amount_became_known(db, roster, tmp_path):
    from desktop.formats.roster_rows import AMOUNT_FROM, ROSTER_COLUMNS
    from desktop.services.imports import ImportService

    from scenario import write_csv

    n, case_id = _dead_with_a_case_of_unknown_amount(db, roster)
    name = PersonService(db).show(n, d(2026, 6, 2)).name
    row = [name, n, "企业离退休人员", "2010-01-01", "2025-12-01", "13900000000", "阿尔山市林海街道", "本地", "1000",
           "2026-01"]
    rep = ImportService(db).import_roster(write_csv(tmp_path / "amount.csv", [*ROSTER_COLUMNS, AMOUNT_FROM], [row]),
                                          ACTOR, today=d(2026, 6, 20))
    assert rep.rejected == [], rep.rejected
    set_death(db, n, None)
    july = run(db, "2026-07")
    (cancel,) = [c for c in july.corrections if c["kind"] == "recovery_cancel"]
    assert cancel["amount"] == 3000.0  # priced now
    case = Services(db).deaths.case(case_id)
    assert (case.status, case.amount) == ("cancelled", None)


# fixed: 'every month withdrawn' counts earlier runs' cancellations of the case too
def test_a_case_of_unknown_amount_is_cancelled_when_its_months_are_withdrawn_over_two_runs(db, roster):
    n, case_id = _dead_with_a_case_of_unknown_amount(db, roster)
    set_death(db, n, d(2026, 3, 20))
    run(db, "2026-07")
    set_death(db, n, None)
    aug = run(db, "2026-08")
    assert [(c["kind"], c["months"]) for c in aug.corrections if c["kind"] == "recovery_cancel"] == [
        ("recovery_cancel", ["2026-04", "2026-05"])]
    case = Services(db).deaths.case(case_id)
    assert (case.status, case.amount) == ("cancelled", None)


# fixed: the unpaid instalments are cancelled, the paid one stays as history (no re-insert)
def test_reducing_a_planned_case_with_a_paid_instalment_keeps_the_payment(db, roster):
    n, case_id = _dead_with_a_case(db, roster)
    deaths = Services(db).deaths
    deaths.set_plan(case_id, "instalments", ACTOR, instalments=3, first_month="2026-07")
    deaths.record_payment(case_id, 1000, ACTOR, paid_on=d(2026, 7, 5))  # the first instalment, in full
    set_death(db, n, d(2026, 3, 20))  # March was due
    july = run(db, "2026-07")
    assert [c["kind"] for c in july.corrections] == ["recovery_cancel"]
    case = deaths.case(case_id)
    assert (case.status, case.amount, case.paid, case.outstanding) == ("open", 2000.0, 1000.0, 1000.0)
    assert case.note.endswith("；请重新确定追回方式")


# --- a month re-run after its recovery demand was reduced (issue 22: cancelled_fen_of_cases) ------


def test_rerunning_the_month_that_opened_a_recovery_shows_the_demand_as_it_was_opened(db, roster):
    """June demanded 3,000 (March-May). Facts change and June is run again: June still says it
    demanded 3,000 and lists each withdrawal beside it; the case (a work item) holds what is left."""
    n, case_id = _dead_with_a_case(db, roster)
    set_death(db, n, d(2026, 4, 15))  # March and April were due after all
    again = run(db, "2026-06")
    (rec,) = again.recover
    assert (rec["case_id"], rec["overpaid_months"], rec["overpaid_amount"]) == (
        case_id, ["2026-03", "2026-04", "2026-05"], 3000.0)
    assert [(c["kind"], c["months"], c["amount"]) for c in again.corrections if c["kind"] != "back_pay"] == [
        ("recovery_cancel", ["2026-03", "2026-04"], 2000.0), ("recovery", ["2026-03", "2026-04", "2026-05"], 3000.0)]
    assert Services(db).deaths.case(case_id).amount == 1000.0
    set_death(db, n, None)  # the death withdrawn: May was due too — a second withdrawal, same case
    third = run(db, "2026-06")
    (rec,) = third.recover
    assert rec["overpaid_amount"] == 3000.0  # 0 left + 2,000 + 1,000 withdrawn
    assert [(c["months"], c["amount"]) for c in third.corrections if c["kind"] == "recovery_cancel"] == [
        (["2026-03", "2026-04"], 2000.0), (["2026-05"], 1000.0)]
    assert run(db, "2026-06").recover == third.recover  # and again: nothing new, the same answer


def test_rerunning_the_month_of_a_recovery_of_unknown_amount_keeps_it_unknown(db, roster):
    n, case_id = _dead_with_a_case_of_unknown_amount(db, roster)
    set_death(db, n, d(2026, 3, 20))  # March was due: withdrawn, its amount unknown too
    again = run(db, "2026-06")
    (rec,) = again.recover
    assert (rec["case_id"], rec["overpaid_amount"]) == (case_id, None)
    assert [(c["kind"], c["months"], c["amount"]) for c in again.corrections] == [
        ("recovery_cancel", ["2026-03"], None), ("recovery", ["2026-03", "2026-04", "2026-05"], None)]
    set_death(db, n, d(2026, 4, 20))  # April too: a second withdrawal of unknown amount
    (rec,) = run(db, "2026-06").recover
    assert rec["overpaid_amount"] is None


# --- the run's own month, settled by an earlier run of it, then contradicted (issue 22) -----------


def test_the_run_month_back_paid_then_recovered_then_withdrawn_is_paid_exactly_once(db, roster):
    """Certified on March's run day: March is back pay (payment resumes in April). A death on 10
    February then contradicts March's back pay (recover March); the death is withdrawn: the
    recovery is cancelled and March's first back pay stands — March is not paid a second time.
    (Found by mutation analysis: the third run used to instruct March's back pay again.)"""
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 1, 10), 1000)
    roster.load(today=d(2025, 1, 31))
    for m in ("2026-01", "2026-02", "2026-03"):
        run(db, m)
    certify(db, n, d(2026, 3, 1))
    (res,) = run(db, "2026-03").resume
    assert (res["resume_from"], res["back_pay_months"], res["back_pay_amount"]) == ("2026-04", ["2026-02", "2026-03"],
                                                                                   2000.0)
    set_death(db, n, d(2026, 2, 10))  # alive in February (due), dead before March
    second = run(db, "2026-03")
    (rec,) = second.recover
    assert (rec["overpaid_months"], rec["overpaid_amount"]) == (["2026-03"], 1000.0)
    assert second.terminate[0]["terminate_from"] == "2026-03"
    set_death(db, n, None)
    third = run(db, "2026-03")
    cancels = [(c["months"], c["amount"]) for c in third.corrections if c["kind"] == "recovery_cancel"]
    assert cancels == [(["2026-03"], 1000.0)]
    # the month's answer instructs March's back pay once: the first run's 2,000 for February-March
    assert [(c["months"], c["amount"]) for c in third.corrections if c["kind"] == "back_pay"] == [
        (["2026-02", "2026-03"], 2000.0)]
    # March: one back pay of 1,000 (the first), its recovery withdrawn — paid once, due once
    rows = q(db, "select kind, detail from entitlement_events where voided_at is null and kind in "
                 "('back_pay', 'recovery_cancel') order by created_at")
    assert [(k, json.loads(t)["months"]) for k, t in rows] == [("back_pay", ["2026-02", "2026-03"]),
                                                                ("recovery_cancel", ["2026-03"])]
    assert run(db, "2026-03").corrections == third.corrections  # and again: nothing new


def test_a_second_death_after_a_withdrawn_one_is_recovered_once(db, roster):
    """Case 1 (March-May) is cancelled when the death is withdrawn; a later death opens case 2
    (July). The month after, nothing is demanded again: the cancelled case does not hide the
    open one."""
    n, case1 = _dead_with_a_case(db, roster)
    set_death(db, n, None)
    july = run(db, "2026-07")
    assert [(c["kind"], c["months"]) for c in july.corrections] == [
        ("back_pay", ["2026-06"]), ("recovery_cancel", ["2026-03", "2026-04", "2026-05"])]
    set_death(db, n, d(2026, 6, 10))  # alive in June (paid, due); July paid while dead
    (rec,) = run(db, "2026-08").recover
    assert (rec["overpaid_months"], rec["overpaid_amount"]) == (["2026-07"], 1000.0)
    sep = run(db, "2026-09")
    assert sep.recover == [] and sep.corrections == []
    assert q(db, "select opened_month, overpaid_months, status from recovery_cases order by created_at") == [
        ("2026-06", '["2026-03", "2026-04", "2026-05"]', "cancelled"), ("2026-08", '["2026-07"]', "open")]


def test_a_recovery_withdrawn_beside_a_back_pay_awaiting_approval_is_withdrawn_once(db, roster):
    """A death withdrawn 16 months later: the back pay (16 months) waits for a supervisor and,
    in the same run, the recovery of February-March 2025 (500 of it collected: the case closes as
    recovered, with a refund) is cancelled. The next run cancels nothing again (the cancellation
    recorded after the waiting back pay still counts)."""
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2024, 12, 1), 1000)
    roster.load(today=d(2025, 1, 5))
    for m in ("2025-01", "2025-02", "2025-03"):
        run(db, m)
    set_death(db, n, d(2025, 1, 10))
    (rec,) = run(db, "2025-04").recover
    deaths = Services(db).deaths
    deaths.set_plan(rec["case_id"], "instalments", ACTOR, instalments=2, first_month="2025-05")
    deaths.record_payment(rec["case_id"], 500, ACTOR, paid_on=d(2025, 5, 5))  # part collected
    m = Month(2025, 5)
    while m <= Month(2026, 6):
        run(db, str(m))
        m = m + 1
    set_death(db, n, None)
    certify(db, n, d(2026, 7, 1))
    july = run(db, "2026-07")
    assert [(c["kind"], c["months"]) for c in july.corrections] == [("recovery_cancel", ["2025-02", "2025-03"])]
    (waiting,) = july.resume
    assert waiting["needs_approval"] is True and len(waiting["back_pay_months"]) == 16
    aug = run(db, "2026-08")
    assert [c for c in aug.corrections if c["kind"] == "recovery_cancel"] == []
    assert q(db, "select count(*) from entitlement_events where kind = 'recovery_cancel'")[0][0] == 1


def test_a_resumption_with_no_certification_on_file_says_so(db, roster):
    """A pension that started in March with no certification yet (its first cycle runs); a death
    reported and then withdrawn: payment resumes, May is back pay, certified_on is empty."""
    n = roster.add(roster.person(), "enterprise_retiree", d(2026, 3, 1), None, 1000)
    roster.load(today=d(2026, 3, 5))
    run(db, "2026-04")
    set_death(db, n, d(2026, 4, 10))
    (term,) = run(db, "2026-05").terminate
    assert term["terminate_from"] == "2026-05"
    set_death(db, n, None)
    (res,) = run(db, "2026-06").resume
    assert (res["certified_on"], res["resume_from"], res["back_pay_months"], res["back_pay_amount"]) == (
        None, "2026-06", ["2026-05"], 1000.0)
    assert res["suspended_from"] == "2026-05" and res["missed_deadline"] == "2026-04-10"


def test_months_paid_while_overdue_after_a_gap_in_runs_for_an_entitlement_with_history(db, roster):
    """Suspended in January 2026 and resumed by a certification on its run day; the next
    deadline passes while no run is made (February and March 2027 paid by the core system): the
    April 2027 suspension reports exactly those months as paid while overdue."""
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2024, 12, 20), 1000)
    roster.load(today=d(2025, 1, 5))
    assert [(s["suspend_from"], s["paid_while_overdue"]) for s in run(db, "2026-01").suspend] == [("2026-01", [])]
    certify(db, n, d(2026, 1, 1))
    assert [(r["resume_from"], r["back_pay_months"]) for r in run(db, "2026-01").resume] == [("2026-02", ["2026-01"])]
    (s,) = run(db, "2027-04").suspend
    assert (s["suspend_from"], s["missed_deadline"], s["paid_while_overdue"]) == (
        "2027-02", "2027-01-01", ["2027-02", "2027-03"])


def test_entitlements_with_different_clocks_get_their_own_suspension(db, roster):
    """Plans are shared between entitlements alike (issue 20) — never between different clocks."""
    a = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 1, 10), 1000)
    b = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 2, 20), 1000)
    roster.load(today=d(2025, 3, 1))
    got = {s["id_number"]: (s["suspend_from"], s["missed_deadline"]) for s in run(db, "2026-04").suspend}
    assert got == {a: ("2026-02", "2026-01-10"), b: ("2026-03", "2026-02-20")}
