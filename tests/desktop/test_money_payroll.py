"""The payroll service's bookkeeping of money (issue 22), against a real SQLite file.

What the ledger decides must land exactly once and say the right amounts: a recovery demand
reduced when a corrected death date makes months due again (with instalments already paid: a
refund; with a plan: re-planned), a supervisor's approval becoming an instruction of the next run,
a preview that records nothing, the go-live confirmation that only a supervisor may give, and the
person's ledger window (through which month, as of which run day).
"""

from __future__ import annotations

import json
from datetime import date as d

import pytest
from sqlalchemy import text

from desktop.errors import NotFound, PermissionDenied, UserFacingError
from desktop.domain.months import Month
from desktop.services.payroll import PayrollService
from desktop.services.settings import SettingsService
from desktop.services.payroll_rows import lapse_threshold
from desktop.services.persons import PersonService
from desktop.domain.rules import RuleTable, clock
from desktop.platform.workstation import Actor

from scenario import ACTOR

SUP = Actor("主管", "ws-test", "supervisor")
CLERK = Actor("张敏", "ws-test", "clerk")


def run(db, month, **kw):
    return PayrollService(db, SettingsService(db)).run(Month.parse(month), ACTOR, **kw)


def certify(db, number, day, today=None):
    people = PersonService(db)
    pid = people.show(number, today or day).id
    return people.record_certification(pid, day, "counter", ACTOR, today=today or day)


def set_death(db, number, day):
    with db.engine.begin() as conn:
        conn.execute(text("update persons set death_date=:d where id_number=:n"),
                     {"d": day.isoformat() if day else None, "n": number})


def q(db, sql, **params):
    with db.engine.connect() as conn:
        return conn.execute(text(sql), params).fetchall()


def _dead_with_a_case(db, roster):
    """Paid February-May; a death on 10 February reported before June: recovery of March-May."""
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 12, 1), 1000)
    roster.load(today=d(2026, 1, 5))
    for m in ("2026-02", "2026-03", "2026-04", "2026-05"):
        run(db, m)
    set_death(db, n, d(2026, 2, 10))
    june = run(db, "2026-06")
    (rec,) = june.recover
    assert rec["overpaid_months"] == ["2026-03", "2026-04", "2026-05"] and rec["overpaid_amount"] == 3000.0
    return n, rec["case_id"]


# --- approvals ------------------------------------------------------------------------------


def _pending(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    certify(db, n, d(2027, 4, 10))
    run(db, "2027-05")
    (event_id,) = [r[0] for r in q(db, "select id from entitlement_events where kind='back_pay' and voided_at is null")]
    return n, event_id


def test_an_approval_becomes_an_instruction_of_the_next_run(db, roster):
    n, event_id = _pending(db, roster)
    pay = PayrollService(db, SettingsService(db))
    assert pay.approve_resumption("no-such-event", SUP) is False
    with pytest.raises(PermissionDenied):
        pay.approve_resumption(event_id, CLERK)
    assert pay.approve_resumption(event_id, SUP) is True
    assert pay.approve_resumption(event_id, SUP) is False  # voided now: nothing to approve
    rows = q(db, "select id, payroll_month, effective_month, needs_approval, approved_by, voided_at is not null, "
                 "void_reason, detail from entitlement_events where kind='back_pay' order by created_at")
    old, new = rows
    assert old[0] == event_id and old[5] == 1 and old[6] == "approved: instructed by the next run"
    assert new[1:6] == ("2027-06", "2027-06", 1, "主管", 0)
    assert json.loads(new[7])["months"] == json.loads(old[7])["months"]
    assert pay.approve_resumption(new[0], SUP) is False  # approved already
    assert q(db, "select count(*) from audit_log where action='payroll.resume_approved'")[0][0] == 1
    june = run(db, "2027-06")
    (res,) = june.resume
    assert res["needs_approval"] is False and res["resume_from"] == "2027-06"
    assert res["back_pay_months"][0] == "2026-04" and res["back_pay_months"][-1] == "2027-05"
    months = [m for c in june.corrections if c["kind"] == "back_pay" for m in c["months"]]
    assert sorted(months) == res["back_pay_months"] and len(months) == len(set(months)) == 14


def test_a_non_pending_instruction_is_not_approvable(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    (event_id,) = [r[0] for r in q(db, "select id from entitlement_events")]
    assert PayrollService(db, SettingsService(db)).approve_resumption(event_id, SUP) is False


def test_a_resumption_waiting_since_before_the_ledger_is_approved_in_place(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2024, 1, 15), 2000)
    roster.load(today=d(2024, 12, 1))
    run(db, "2025-02")
    certify(db, n, d(2026, 3, 5))
    (ent,) = [r[0] for r in q(db, "select id from entitlements")]
    detail = {"back_pay_months": [str(Month(2025, 2) + k) for k in range(13)], "resume_from": "2026-04"}
    with db.engine.begin() as conn:  # a resumption recorded before the ledger, waiting for approval
        conn.execute(text(
            "insert into entitlement_events (id, entitlement_id, kind, payroll_month, effective_month, detail, "
            "needs_approval, operator, workstation, created_at) values ('legacy1', :e, 'resume', '2026-04', "
            "'2026-04', :detail, 1, 'tester', 'ws-test', '2026-04-01 00:00:00.000000')"),
            {"e": ent, "detail": json.dumps(detail)})
        conn.execute(text("insert into payroll_runs (id, month, run_day, operator, workstation, created_at) "
                          "values ('run-legacy', '2026-04', '2026-04-01', 'tester', 'ws-test', "
                          "'2026-04-01 00:00:00.000000')"))
    assert PayrollService(db, SettingsService(db)).approve_resumption("legacy1", SUP) is True
    (row,) = q(db, "select approved_by, approved_at is not null, voided_at from entitlement_events where id='legacy1'")
    assert tuple(row) == ("主管", 1, None)


# --- a preview records nothing; the go-live guard ---------------------------------------------


def test_a_preview_records_nothing_and_runs_go_in_month_order(db, roster):
    roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    preview = run(db, "2026-04", record=False)
    assert len(preview.suspend) == 1 and preview.recorded is False
    assert q(db, "select count(*) from entitlement_events")[0][0] == 0
    assert q(db, "select count(*) from payroll_runs")[0][0] == 0
    assert PayrollService(db, SettingsService(db)).latest_run() is None
    recorded = run(db, "2026-04")
    assert recorded.recorded is True and recorded.as_json() == preview.as_json()
    assert PayrollService(db, SettingsService(db)).latest_run() == Month(2026, 4)
    run(db, "2026-04")  # the latest month again: allowed, a no-op
    with pytest.raises(UserFacingError) as exc:
        run(db, "2026-03")
    assert exc.value.code == "run_out_of_order"
    (row,) = q(db, "select month, run_day, summary from payroll_runs order by created_at limit 1")
    assert row[:2] == ("2026-04", "2026-04-01") and json.loads(row[2]) == {"events": 1, "recoveries": 0}


def test_go_live_guard_waits_for_a_supervisor(db, roster):
    n = roster.add(roster.person(), "injury_recipient", d(2011, 3, 1), None, 1500)
    roster.load(today=d(2026, 3, 1))
    first = run(db, "2026-04")
    assert first.suspend == [] and first.go_live_confirmed is False
    (g,) = first.go_live_guard
    assert g["id_number"] == n and g["suspend_from"] == "2012-01" and g["start_date"] == "2011-03-01"
    with pytest.raises(PermissionDenied):
        PayrollService(db, SettingsService(db)).run(Month(2026, 5), CLERK, confirm_go_live=True)
    may = PayrollService(db, SettingsService(db)).run(Month(2026, 5), SUP, confirm_go_live=True)
    assert may.go_live_confirmed is True and may.go_live_guard == []
    (s,) = may.suspend
    assert s["suspend_from"] == "2012-01" and s["paid_while_overdue"] == ["2026-04"]
    (row,) = q(db, "select go_live_confirmed_by from payroll_runs where month='2026-05'")
    assert row[0] == "主管"
    assert q(db, "select go_live_confirmed_by from payroll_runs where month='2026-04'")[0][0] is None


# --- the person's ledger: which months, as of which day ------------------------------------------


def test_the_person_ledger_window_and_run_day(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 800)
    roster.load(today=d(2026, 1, 31))
    run(db, "2026-03")  # suspended from March
    certify(db, n, d(2026, 3, 10))
    pay = PayrollService(db, SettingsService(db))
    (march,) = pay.ledger(n, Month(2026, 3), d(2026, 3, 20))["entitlements"]
    assert march["months"][-1] == {"month": "2026-03", "due": None, "instructed": "withheld", "amount": 800.0,
                                   "settled_by": None}  # as of the March run day, the 10th is not counted
    (april,) = pay.ledger(n, Month(2026, 4), d(2026, 4, 5))["entitlements"]
    assert [m["month"] for m in april["months"]][-2:] == ["2026-03", "2026-04"]
    assert april["months"][-2]["due"] is True and april["back_pay_outstanding"] == 800.0
    (dflt,) = pay.ledger(n, as_of=d(2026, 5, 20))["entitlements"]
    assert dflt["months"][-1]["month"] == "2026-05"
    run(db, "2026-04")
    run(db, "2026-07")
    (later,) = pay.ledger(n, as_of=d(2026, 5, 20))["entitlements"]
    assert later["months"][-1]["month"] == "2026-07"  # the latest run is later than today
    (strip,) = pay.ledgers_of(PersonService(db).show(n, d(2026, 7, 2)).id, Month(2026, 7), d(2026, 7, 2),
                              last_months=24)
    assert len(strip["months"]) == 24 and strip["months"][0]["month"] == "2024-08"
    young = roster.add(roster.person(), "enterprise_survivor", d(2026, 2, 3), d(2026, 2, 3), 800)
    roster.load(today=d(2026, 7, 2))
    (short,) = pay.ledgers_of(PersonService(db).show(young, d(2026, 7, 2)).id, Month(2026, 7), d(2026, 7, 2),
                              last_months=24)
    assert short["months"][0]["month"] == "2026-02"  # not before the benefit started
    with pytest.raises(NotFound):
        pay.ledger("152202195003019999")


def test_lapse_threshold_is_the_first_date_that_still_covers_the_month():
    rules = RuleTable.default()
    for cohort in ("enterprise_retiree", "enterprise_survivor", "resident_pension"):
        rule = rules[cohort]
        for month in (Month(2026, 3), Month(2028, 3), Month(2027, 1)):
            t = d.fromisoformat(lapse_threshold(rule, month.index))
            assert clock(rule, t, t).suspend_month > month
            from datetime import timedelta

            before = t - timedelta(days=1)
            assert clock(rule, before, before).suspend_month <= month
    assert lapse_threshold(rules["enterprise_retiree"], Month(2026, 4).index) == "2025-04-01"
    assert lapse_threshold(rules["enterprise_survivor"], Month(2026, 3).index) == "2026-02-01"
    assert lapse_threshold(rules["resident_pension"], Month(2026, 7).index) == "2026-01-01"


# --- forecasts: nothing recorded ------------------------------------------------------------------


def test_a_persons_forecast_is_the_run_it_foresees_and_records_nothing(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    other = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    certify(db, n, d(2026, 6, 10))
    pid = PersonService(db).show(n, d(2026, 6, 10)).id
    before = q(db, "select count(*) from entitlement_events")[0][0]
    fc = PayrollService(db, SettingsService(db)).forecast_person(pid, Month(2026, 7), d(2026, 6, 11))
    assert [r["id_number"] for r in fc.resume] == [n] and fc.suspend == []  # only this person
    (item,) = fc.resume
    assert item["back_pay_months"] == ["2026-04", "2026-05", "2026-06"] and item["back_pay_amount"] == 3000.0
    assert item["resume_from"] == "2026-07" and item["needs_approval"] is False
    assert fc.run_day == d(2026, 6, 11) and fc.month == Month(2026, 7)
    with db.engine.connect() as conn:
        whole = PayrollService(db, SettingsService(db)).compute(Month(2026, 7), conn)
    assert sorted(r["id_number"] for r in whole.resume) == [n] and whole.suspend == []
    assert whole.run_day == d(2026, 7, 1)
    assert q(db, "select count(*) from entitlement_events")[0][0] == before
    recorded = run(db, "2026-07")
    assert recorded.resume == whole.resume and recorded.corrections == whole.corrections
    assert other not in [r["id_number"] for r in recorded.resume]


def test_the_results_yuan_of_a_monthly_amount():
    from desktop.domain.payroll import yuan

    assert yuan(None, 3) is None
    assert yuan(123_456, 3) == 3703.68
    assert yuan(100, 0) == 0


def test_a_returned_forms_forecast_concerns_that_person_only(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    other = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    fresh = roster.add(roster.person(), "injury_recipient", d(2011, 3, 1), None, 1500)  # no certification on file
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    certify(db, n, d(2026, 6, 10))
    certify(db, other, d(2026, 6, 10))
    pid = PersonService(db).show(n, d(2026, 6, 10)).id
    fc = PayrollService(db, SettingsService(db)).forecast_person(pid, Month(2026, 7), d(2026, 6, 11))
    assert [r["id_number"] for r in fc.resume] == [n]
    # an entitlement with no certification on file: the forecast assumes the go-live is confirmed
    fpid = PersonService(db).show(fresh, d(2026, 6, 11)).id
    fc = PayrollService(db, SettingsService(db)).forecast_person(fpid, Month(2026, 7), d(2026, 6, 11))
    assert [s["id_number"] for s in fc.suspend] == [fresh] and fc.go_live_guard == []


def test_run_recorded_and_the_approved_instructions_columns(db, roster):
    from db import ledger_repo as lrepo

    n, event_id = _pending(db, roster)
    with db.engine.connect() as conn:
        assert lrepo.run_recorded(conn, "2027-05") and lrepo.run_recorded(conn, "2026-04")
        assert not lrepo.run_recorded(conn, "2027-06") and not lrepo.run_recorded(conn, "2026-05")
    (old,) = q(db, "select created_at from entitlement_events where id=:e", e=event_id)
    assert PayrollService(db, SettingsService(db)).approve_resumption(event_id, Actor("主管", "ws-supervisor", "supervisor"))
    (new,) = q(db, "select approved_at is not null, operator, workstation, created_at > :c from entitlement_events "
                   "where kind='back_pay' and voided_at is null", c=old[0])
    assert tuple(new) == (1, "主管", "ws-supervisor", 1)


# --- the shapes the payroll department and the screens read ----------------------------------------


def test_the_run_document_and_the_go_live_item(db, roster):
    n = roster.add(roster.person(), "injury_recipient", d(2011, 3, 1), None, 1500)
    roster.load(today=d(2026, 3, 1))
    doc = run(db, "2026-04").as_json()
    assert set(doc) == {"month", "run_day", "suspend", "resume", "terminate", "recover", "corrections",
                        "go_live_guard", "go_live_confirmed"}
    assert (doc["month"], doc["run_day"], doc["go_live_confirmed"]) == ("2026-04", "2026-04-01", False)
    (g,) = doc["go_live_guard"]
    pid = PersonService(db).show(n, d(2026, 4, 1)).id
    assert g == {"entitlement_id": g["entitlement_id"], "person_id": pid, "id_number": n, "name": g["name"],
                 "cohort": "injury_recipient", "suspend_from": "2012-01", "start_date": "2011-03-01",
                 "reason": "无认证记录（花名册未提供最近认证日期）"}
    assert g["name"].startswith("测试")
    with db.engine.connect() as conn:
        fc = PayrollService(db, SettingsService(db)).compute(Month(2026, 5), conn)
    assert [s["id_number"] for s in fc.suspend] == [n]  # a forecast assumes the guard is confirmed


def test_the_person_ledger_document(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2026, 1, 5), 1000)
    roster.load(today=d(2026, 1, 31))
    run(db, "2026-02")
    doc = PayrollService(db, SettingsService(db)).ledger(n, Month(2026, 4), d(2026, 5, 30))
    assert set(doc) == {"id_number", "entitlements"} and doc["id_number"] == n
    (ent,) = doc["entitlements"]
    assert set(ent) == {"cohort", "entitlement_id", "months", "back_pay_outstanding", "recovery_open",
                        "overpaid_unclaimed"}
    assert ent["cohort"] == "enterprise_retiree"
    # covered all along: shown from the first recorded run, through the month asked
    assert [m["month"] for m in ent["months"]] == ["2026-02", "2026-03", "2026-04"]
    assert ent["months"][0] == {"month": "2026-02", "due": True, "instructed": "paid", "amount": 1000.0,
                                "settled_by": None}
    with pytest.raises(NotFound) as exc:
        PayrollService(db, SettingsService(db)).ledger("１５２２０２１９５００３０１９９９９")
    assert exc.value.message_zh == "系统中没有该身份号码的待遇领取人员"
    assert exc.value.data == {"number": "152202********9999"}


# --- the run's own guards ------------------------------------------------------------------------


def test_a_clerk_may_preview_but_not_record_and_the_collector_comes_back(db, roster):
    import gc

    roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    assert len(PayrollService(db, SettingsService(db)).run(Month(2026, 4), CLERK, record=False).suspend) == 1
    with pytest.raises(PermissionDenied):
        PayrollService(db, SettingsService(db)).run(Month(2026, 4), CLERK)
    assert gc.isenabled()
    run(db, "2026-04")
    assert gc.isenabled()  # the run pauses the cyclic collector, and gives it back
    (row,) = q(db, "select operator, workstation, created_at is not null, go_live_confirmed_by from payroll_runs")
    assert tuple(row) == ("tester", "ws-test", 1, None)


def test_a_resumption_recorded_before_the_ledger_counts_its_back_pay_months(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2024, 1, 15), 2000)
    roster.load(today=d(2024, 12, 1))
    run(db, "2025-02")  # suspended from February 2025
    certify(db, n, d(2026, 3, 5))
    (ent,) = [r[0] for r in q(db, "select id from entitlements")]
    months = [str(Month(2025, 2) + k) for k in range(13)]  # February 2025 - February 2026
    with db.engine.begin() as conn:  # approved before the ledger: its detail names the months back-paid
        conn.execute(text(
            "insert into entitlement_events (id, entitlement_id, kind, payroll_month, effective_month, detail, "
            "needs_approval, approved_by, operator, workstation, created_at) values ('legacy2', :e, 'resume', "
            "'2026-04', '2026-04', :detail, 1, '主管', 'tester', 'ws-test', '2026-04-01 00:00:00.000000')"),
            {"e": ent, "detail": json.dumps({"back_pay_months": months, "resume_from": "2026-04"})})
        conn.execute(text("insert into payroll_runs (id, month, run_day, operator, workstation, created_at) "
                          "values ('run-legacy', '2026-04', '2026-04-01', 'tester', 'ws-test', "
                          "'2026-04-01 00:00:00.000000')"))
    may = run(db, "2026-05")
    assert may.resume == [] and may.suspend == []
    (corr,) = may.corrections
    assert corr["kind"] == "back_pay" and corr["months"] == ["2026-03"]  # the one month the old one missed


def test_the_parse_caches_parse_on_a_miss():
    from desktop.services import payroll_rows as payroll

    payroll._DATES.clear()
    payroll._MONTHS.clear()
    assert payroll.to_date("2031-07-09") == d(2031, 7, 9) and payroll.to_date("2031-07-09") == d(2031, 7, 9)
    assert payroll.to_date("2031-07-10 00:00:00") == d(2031, 7, 10)
    assert payroll.to_date(None) is None and payroll.to_date(d(2031, 1, 1)) == d(2031, 1, 1)
    assert payroll.month_of("2031-07") == Month(2031, 7) and payroll.month_of("2031-07") == Month(2031, 7)


def test_what_is_recorded_for_a_resumption_and_a_rerun_of_the_same_month(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000)
    roster.load(today=d(2026, 1, 31))
    run(db, "2026-03")
    certify(db, n, d(2026, 4, 1))  # on April's run day: April is back pay, payment resumes in May
    april = run(db, "2026-04")
    (row,) = q(db, "select payroll_month, effective_month from entitlement_events where kind='resume'")
    assert tuple(row) == ("2026-04", "2026-05")
    assert run(db, "2026-04").as_json() == april.as_json()  # read back from what was recorded
    assert run(db, "2026-05").resume == []


def test_a_rerun_reads_back_recovery_cancels_and_superseded_requests_say_why(db, roster):
    n, case_id = _dead_with_a_case(db, roster)
    set_death(db, n, d(2026, 4, 15))
    july = run(db, "2026-07")
    again = run(db, "2026-07")
    assert [c for c in again.corrections if c["kind"] == "recovery_cancel"] == [
        c for c in july.corrections if c["kind"] == "recovery_cancel"]
    (c,) = [c for c in again.corrections if c["kind"] == "recovery_cancel"]
    assert c["amount"] == 2000.0 and c["months"] == ["2026-03", "2026-04"]


def test_a_pending_request_superseded_by_a_larger_one_says_why(db, roster):
    n, event_id = _pending(db, roster)
    run(db, "2027-06")  # unapproved: the request grows by May
    (row,) = q(db, "select void_reason from entitlement_events where id=:e", e=event_id)
    assert row[0] == "superseded by a later run (pending back pay grew or is no longer owed)"


def test_every_item_of_the_run_document_in_full(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000, name="周建国")
    m = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 12, 1), 1000, name="孙已故")
    roster.load(today=d(2026, 1, 31))
    ids = {k: PersonService(db).show(v, d(2026, 2, 1)).id for k, v in (("n", n), ("m", m))}
    ents = {r[1]: r[0] for r in q(db, "select id, person_id from entitlements")}
    run(db, "2026-03")  # n suspended from March
    certify(db, n, d(2026, 3, 2), today=d(2026, 3, 2))
    for mo in ("2026-04", "2026-05"):
        run(db, mo)
    set_death(db, m, d(2026, 2, 10))
    june = run(db, "2026-06").as_json()
    who_m = {"entitlement_id": ents[ids["m"]], "person_id": ids["m"], "id_number": m, "name": "孙已故",
             "cohort": "enterprise_retiree"}
    assert june["terminate"] == [{**who_m, "death_date": "2026-02-10", "terminate_from": "2026-03",
                                  "effective_month": "2026-06", "certified_after_death": None}]
    (rec,) = june["recover"]
    assert rec == {**who_m, "death_date": "2026-02-10", "overpaid_months": ["2026-03", "2026-04", "2026-05"],
                   "overpaid_amount": 3000.0, "case_id": rec["case_id"]}
    assert june["corrections"] == [{"id_number": m, "cohort": "enterprise_retiree", "kind": "recovery",
                                    "months": ["2026-03", "2026-04", "2026-05"], "amount": 3000.0,
                                    "entitlement_id": ents[ids["m"]], "person_id": ids["m"], "name": "孙已故"}]
    set_death(db, m, d(2026, 4, 20))
    july = run(db, "2026-07").as_json()
    assert july["corrections"] == [{"id_number": m, "cohort": "enterprise_retiree", "kind": "recovery_cancel",
                                    "months": ["2026-03", "2026-04"], "amount": 2000.0,
                                    "entitlement_id": ents[ids["m"]], "person_id": ids["m"], "name": "孙已故",
                                    "case_id": rec["case_id"]}]
    assert run(db, "2026-07").as_json() == july  # the same read back from what was recorded


def test_a_resumption_without_back_pay_says_zero(db, roster, tmp_path):
    from desktop.services.imports import RESULT_COLUMNS, ImportService

    from scenario import write_csv

    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000, name="孙玉珍")
    roster.load(today=d(2026, 1, 31))
    run(db, "2026-03")
    rows = [[n, "孙玉珍", "2026-02-09", "手机认证", "通过"]]  # before the deadline, arriving on 2 March
    ImportService(db).import_results(write_csv(tmp_path / "r.csv", RESULT_COLUMNS, rows), ACTOR, today=d(2026, 3, 2))
    again = run(db, "2026-03").as_json()
    (res,) = again["resume"]
    pid = PersonService(db).show(n, d(2026, 3, 2)).id
    (ent,) = [r[0] for r in q(db, "select id from entitlements")]
    assert res == {"entitlement_id": ent, "person_id": pid, "id_number": n, "name": "孙玉珍",
                   "cohort": "enterprise_survivor", "suspended_from": "2026-03", "missed_deadline": "2026-02-10",
                   "certified_on": "2026-02-09", "resume_from": "2026-03", "back_pay_months": [],
                   "back_pay_amount": 0.0, "needs_approval": False}
