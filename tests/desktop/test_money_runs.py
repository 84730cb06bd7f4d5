"""Payroll runs at the boundaries of domain.md §3 (issue 22), against a real SQLite file.

Exactly 12 and 13 months of back pay (the supervisor's threshold); certifications on, before and
after the run day; a payroll day of 31 in February; the first certification after a miss; a death
inside a back-pay range; amounts that change inside back-pay and recovery ranges; a failed result
that must never count as proof of life.
"""

from __future__ import annotations

from datetime import date as d

from sqlalchemy import text

from desktop.domain.months import Month
from desktop.services.imports import RESULT_COLUMNS, ImportService
from desktop.services.payroll import PayrollService
from desktop.services.persons import PersonService
from desktop.services.settings import SettingsService
from desktop.platform.workstation import Actor

from scenario import ACTOR, write_csv

SUP = Actor("主管", "ws-test", "supervisor")


def run(db, month, **kw):
    return PayrollService(db, SettingsService(db)).run(Month.parse(month), ACTOR, **kw)


def preview(db, month, run_day=None):
    with db.engine.connect() as conn:
        return PayrollService(db, SettingsService(db)).compute(Month.parse(month), conn, run_day)


def certify(db, number, day, result="passed", method="counter", today=None):
    people = PersonService(db)
    pid = people.show(number, day).id
    return people.record_certification(pid, day, method, ACTOR, result=result, today=today or day)


def report_death(db, number, day):
    with db.engine.begin() as conn:
        conn.execute(text("update persons set death_date=:d where id_number=:n"), {"d": day.isoformat(), "n": number})


def months(first: str, n: int) -> list[str]:
    return [str(Month.parse(first) + k) for k in range(n)]


def ledger_row(db, number, through, month):
    doc = PayrollService(db, SettingsService(db)).ledger(number, Month.parse(through), Month.parse(through).last_day())
    (ent,) = doc["entitlements"]
    (row,) = [m for m in ent["months"] if m["month"] == month]
    return row, ent


# --- the 12-month threshold of a supervisor's approval ----------------------------------------


def test_exactly_12_months_of_back_pay_is_instructed_without_approval(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    (s,) = run(db, "2026-04").suspend
    assert s["suspend_from"] == "2026-04"
    certify(db, n, d(2027, 3, 10))  # the first certification after the miss
    apr = run(db, "2027-04")
    (item,) = apr.resume
    assert item["back_pay_months"] == months("2026-04", 12) and item["needs_approval"] is False
    assert item["back_pay_amount"] == 12000.0 and item["resume_from"] == "2027-04"
    assert item["certified_on"] == "2027-03-10" and item["suspended_from"] == "2026-04"
    (corr,) = apr.corrections
    assert corr["kind"] == "back_pay" and corr["months"] == months("2026-04", 12) and corr["amount"] == 12000.0
    assert run(db, "2027-05").resume == [] and run(db, "2027-05").corrections == []


def test_13_months_of_back_pay_waits_for_a_supervisor(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    certify(db, n, d(2027, 4, 10))  # after April's run day: April 2027 was withheld too
    may = run(db, "2027-05")
    (item,) = may.resume
    assert item["back_pay_months"] == months("2026-04", 13) and item["needs_approval"] is True
    assert item["back_pay_amount"] == 13000.0 and item["resume_from"] is None
    assert item["waiting_since"] == "2027-05"
    assert item["suspended_from"] == "2026-04" and item["certified_on"] == "2027-04-10"
    assert may.corrections == []  # nothing instructed until approved
    with db.engine.connect() as conn:
        (event_id,) = conn.execute(text("select id from entitlement_events where kind='back_pay' "
                                        "and voided_at is null and approved_by is null")).scalars()
    assert PayrollService(db, SettingsService(db)).approve_resumption(event_id, SUP)
    june = run(db, "2027-06")
    (res,) = june.resume
    assert res["resume_from"] == "2027-06" and res["needs_approval"] is False
    assert res["back_pay_months"] == months("2026-04", 14)  # May 2027, withheld while waiting, too
    assert res["back_pay_amount"] == 14000.0


def test_12_months_with_the_run_month_itself_is_13_and_needs_approval(db, roster):
    # certified on the run day itself: the run's month is back pay too (resumes from the next month)
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    certify(db, n, d(2027, 3, 1))
    (item,) = run(db, "2027-03").resume
    assert item["back_pay_months"] == months("2026-04", 12) and item["needs_approval"] is False
    assert item["resume_from"] == "2027-04"


def test_11_months_plus_the_run_month_is_12_and_needs_no_approval(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    certify(db, n, d(2027, 4, 1))
    (item,) = run(db, "2027-04").resume
    assert len(item["back_pay_months"]) == 13 and item["needs_approval"] is True


# --- the run day: certifications on, before and after it ---------------------------------------


def test_certification_on_before_and_after_a_payroll_day_of_15(db, roster):
    SettingsService(db).set("payroll_day", 15)
    on = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000)
    before = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000)
    after = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000)
    roster.load(today=d(2026, 1, 31))
    certify(db, on, d(2026, 3, 15))
    certify(db, before, d(2026, 3, 14))
    certify(db, after, d(2026, 3, 16))
    march = run(db, "2026-03")
    assert march.run_day == d(2026, 3, 15)
    assert [s["id_number"] for s in march.suspend] == [after]  # the 16th is not counted by the 15th
    assert sorted(r["id_number"] for r in march.resume) == []
    april = run(db, "2026-04")
    (res,) = april.resume
    assert res["id_number"] == after and res["back_pay_months"] == ["2026-03"] and res["resume_from"] == "2026-04"


def test_payroll_day_31_in_february_is_its_last_day(db, roster):
    SettingsService(db).set("payroll_day", 31)
    assert PayrollService(db, SettingsService(db)).run_day(Month(2026, 2)) == d(2026, 2, 28)
    assert PayrollService(db, SettingsService(db)).run_day(Month(2028, 2)) == d(2028, 2, 29)
    assert PayrollService(db, SettingsService(db)).run_day(Month(2100, 2)) == d(2100, 2, 28)
    assert PayrollService(db, SettingsService(db)).run_day(Month(2026, 4)) == d(2026, 4, 30)
    last = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000)
    late = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000)
    roster.load(today=d(2026, 1, 31))
    certify(db, last, d(2026, 2, 28))  # after the deadline (10 Feb), on February's run day
    certify(db, late, d(2026, 3, 1))
    feb = run(db, "2026-02")
    assert feb.run_day == d(2026, 2, 28) and feb.suspend == []  # February is still covered
    march = run(db, "2026-03")
    assert march.suspend == [] and march.resume == []  # the 1 March one counts by 31 March


def test_default_run_day_is_the_first(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000)
    roster.load(today=d(2026, 1, 31))
    assert PayrollService(db, SettingsService(db)).run_day(Month(2026, 3)) == d(2026, 3, 1)
    certify(db, n, d(2026, 3, 2))
    (s,) = run(db, "2026-03").suspend
    assert s["id_number"] == n and s["missed_deadline"] == "2026-02-10" and s["last_certified"] == "2026-01-10"


def test_forecast_counts_only_certifications_up_to_its_run_day(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000)
    roster.load(today=d(2026, 1, 31))
    certify(db, n, d(2026, 3, 5))
    assert [s["id_number"] for s in preview(db, "2026-03").suspend] == [n]
    assert [s["id_number"] for s in preview(db, "2026-03", d(2026, 3, 4)).suspend] == [n]
    assert preview(db, "2026-03", d(2026, 3, 5)).suspend == []


# --- deaths inside back-pay ranges ------------------------------------------------------------


def test_death_inside_a_back_pay_range_stops_the_back_pay_at_the_death_month(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")  # suspended from April
    certify(db, n, d(2026, 6, 20), today=d(2026, 9, 20))  # a late result, dated before the death
    report_death(db, n, d(2026, 8, 15))
    octo = run(db, "2026-10")
    (term,) = octo.terminate
    assert term["terminate_from"] == "2026-09" and term["death_date"] == "2026-08-15"
    assert term["effective_month"] == "2026-10" and term["certified_after_death"] is None
    assert octo.resume == [] and octo.recover == []  # nothing after the death was ever paid
    (corr,) = octo.corrections
    assert corr["kind"] == "back_pay" and corr["months"] == months("2026-04", 5) and corr["amount"] == 5000.0
    row, ent = ledger_row(db, n, "2026-10", "2026-09")
    assert row["due"] is False and ent["back_pay_outstanding"] == 0 and ent["overpaid_unclaimed"] == 0
    assert run(db, "2026-11").corrections == []


def test_death_in_the_last_month_of_13_brings_it_down_to_12_without_approval(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    certify(db, n, d(2027, 2, 10), today=d(2027, 5, 2))
    report_death(db, n, d(2027, 3, 31))  # March 2027 due, April 2027 on not: April 2026 - March 2027
    may = run(db, "2027-05")
    (corr,) = may.corrections
    assert corr["kind"] == "back_pay" and corr["months"] == months("2026-04", 12)
    assert [t["terminate_from"] for t in may.terminate] == ["2027-04"]
    assert may.resume == []


def test_certification_after_the_death_does_not_extend_the_back_pay(db, roster, tmp_path):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000, name="钱桂英")
    roster.load(today=d(2026, 1, 31))
    run(db, "2026-03")  # suspended from March
    certify(db, n, d(2026, 4, 5))
    report_death(db, n, d(2026, 4, 20))
    rows = [[n, "钱桂英", "2026-05-03", "手机认证", "通过"]]  # after the death: refused
    rep = ImportService(db).import_results(write_csv(tmp_path / "r.csv", RESULT_COLUMNS, rows), ACTOR,
                                           today=d(2026, 5, 20))
    assert rep.imported == 0 and [r["line"] for r in rep.rejected] == [2]
    june = run(db, "2026-06")
    (corr,) = june.corrections
    assert corr["months"] == ["2026-03", "2026-04"] and corr["amount"] == 2000.0
    assert [t["terminate_from"] for t in june.terminate] == ["2026-05"]


def test_certified_on_the_day_of_death_counts(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000)
    roster.load(today=d(2026, 1, 31))
    run(db, "2026-03")
    certify(db, n, d(2026, 4, 20))
    report_death(db, n, d(2026, 4, 20))
    (corr,) = run(db, "2026-06").corrections
    assert corr["months"] == ["2026-03", "2026-04"]


# --- amounts that change inside a range ---------------------------------------------------------


def _amount_change(db, roster, tmp_path, number, cohort, start, last, amount, from_month, today):
    rows = [["王桂兰", number, "企业离退休人员" if cohort == "enterprise_retiree" else "企业职工遗属",
             start.isoformat(), last.isoformat(), "13900000000", "阿尔山市林海街道", "本地", str(amount), from_month]]
    from desktop.formats.roster_rows import AMOUNT_FROM, ROSTER_COLUMNS

    path = write_csv(tmp_path / f"amount-{from_month}.csv", [*ROSTER_COLUMNS, AMOUNT_FROM], rows)
    rep = ImportService(db).import_roster(path, ACTOR, today=today)
    assert rep.rejected == [], rep.rejected


def test_amount_change_inside_a_back_pay_range_prices_each_month(db, roster, tmp_path):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="王桂兰")
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    _amount_change(db, roster, tmp_path, n, "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1200, "2026-07",
                   today=d(2026, 8, 2))
    certify(db, n, d(2026, 9, 10))
    (item,) = run(db, "2026-10").resume
    assert item["back_pay_months"] == months("2026-04", 6)
    assert item["back_pay_amount"] == 3 * 1000 + 3 * 1200
    row, _ = ledger_row(db, n, "2026-10", "2026-06")
    assert row["amount"] == 1000.0
    row, _ = ledger_row(db, n, "2026-10", "2026-07")
    assert row["amount"] == 1200.0


def test_amount_change_inside_a_recovery_range_prices_each_month(db, roster, tmp_path):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 12, 1), 1000, name="王桂兰")
    roster.load(today=d(2026, 1, 5))
    for m in ("2026-02", "2026-03", "2026-04", "2026-05"):
        run(db, m)
    _amount_change(db, roster, tmp_path, n, "enterprise_retiree", d(2010, 1, 1), d(2025, 12, 1), 1500, "2026-04",
                   today=d(2026, 5, 2))
    report_death(db, n, d(2026, 2, 10))
    june = run(db, "2026-06")
    (rec,) = june.recover
    assert rec["overpaid_months"] == months("2026-03", 3)
    assert rec["overpaid_amount"] == 1000 + 1500 + 1500
    assert rec["death_date"] == "2026-02-10"
    (corr,) = [c for c in june.corrections if c["kind"] == "recovery"]
    assert corr["amount"] == 4000.0 and corr["months"] == months("2026-03", 3)


# --- a failed result never counts ---------------------------------------------------------------


def test_a_failed_result_after_the_last_passed_one_neither_prevents_nor_ends_a_suspension(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000)
    roster.load(today=d(2026, 1, 31))
    certify(db, n, d(2026, 2, 5), result="failed")
    (s,) = run(db, "2026-03").suspend
    assert s["last_certified"] == "2026-01-10" and s["missed_deadline"] == "2026-02-10"
    certify(db, n, d(2026, 3, 20), result="failed")
    assert run(db, "2026-04").resume == []
    view = PersonService(db).show(n, d(2026, 4, 2))
    assert view.entitlements[0].last_certified == d(2026, 1, 10)
    row, ent = ledger_row(db, n, "2026-04", "2026-03")
    assert row["due"] is None and row["instructed"] == "withheld" and ent["back_pay_outstanding"] == 0
    certify(db, n, d(2026, 4, 10))
    (res,) = run(db, "2026-05").resume
    assert res["certified_on"] == "2026-04-10" and res["back_pay_months"] == ["2026-03", "2026-04"]


def test_a_failed_result_of_a_dead_person_is_not_the_last_proof(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000)
    roster.load(today=d(2026, 1, 31))
    run(db, "2026-03")  # suspended from March
    certify(db, n, d(2026, 4, 5), result="failed")
    report_death(db, n, d(2026, 5, 20))
    june = run(db, "2026-06")
    assert june.corrections == []  # the failed attempt proves nothing: no back pay
    (t,) = june.terminate
    assert t["terminate_from"] == "2026-06"


def test_a_late_certification_back_pays_the_months_it_covers_though_the_person_lapsed_again(db, roster, tmp_path):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 800, name="周建国")
    roster.load(today=d(2026, 1, 31))
    (s,) = run(db, "2026-03").suspend
    assert s["suspend_from"] == "2026-03"
    # a 手机认证 result dated 5 February (before the 10 February deadline) arrives in April: it covers
    # March only (deadline 5 March → lapsed again from April)
    rows = [[n, "周建国", "2026-02-05", "手机认证", "通过"]]
    ImportService(db).import_results(write_csv(tmp_path / "r.csv", RESULT_COLUMNS, rows), ACTOR, today=d(2026, 4, 20))
    may = run(db, "2026-05")
    assert may.suspend == [] and may.resume == []  # still withheld: April and May are unconfirmed
    (corr,) = may.corrections
    assert corr["kind"] == "back_pay" and corr["months"] == ["2026-03"] and corr["amount"] == 800.0
    assert run(db, "2026-06").corrections == []  # March once


def test_the_latest_passed_certification_at_the_run_day_boundary_on_every_path(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 800)
    roster.load(today=d(2026, 1, 31))
    certify(db, n, d(2026, 2, 5))
    pay = PayrollService(db, SettingsService(db))
    # the person's own ledger reads through the plain SQLAlchemy statement
    (feb5,) = pay.ledger(n, Month(2026, 3), d(2026, 2, 5))["entitlements"]
    (feb4,) = pay.ledger(n, Month(2026, 3), d(2026, 2, 4))["entitlements"]
    last = {m["month"]: m["due"] for m in feb5["months"]}
    assert last["2026-03"] is True  # 5 February counts on 5 February: covered until 5 March
    assert {m["month"]: m["due"] for m in feb4["months"]}["2026-03"] is None


def test_a_withdrawn_death_of_a_suspended_person_suspends_again_instead_of_terminating(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")  # suspended from April
    report_death(db, n, d(2026, 4, 10))
    (t,) = run(db, "2026-05").terminate
    assert t["terminate_from"] == "2026-05"
    with db.engine.begin() as conn:  # the death was recorded in error and is withdrawn
        conn.execute(text("update persons set death_date=null where id_number=:n"), {"n": n})
    june = run(db, "2026-06")
    (s,) = june.suspend
    assert s["id_number"] == n and s["suspend_from"] == "2026-04" and s["effective_month"] == "2026-06"
    assert june.resume == [] and june.corrections == [] and june.recover == []
    assert run(db, "2026-07").suspend == []  # once
