"""Payroll instructions (domain.md §3) against a real SQLite database."""

from __future__ import annotations

import json
from datetime import date as d

import pytest
from sqlalchemy import text

from desktop.domain.months import Month
from desktop.services.imports import ImportService
from desktop.services.payroll import PayrollService
from desktop.services.settings import SettingsService
from desktop.services.persons import PersonService
from desktop.platform.workstation import Actor

from scenario import ACTOR, write_csv

SUP = Actor("主管", "ws-test", "supervisor")


def run(db, month, **kw):
    return PayrollService(db, SettingsService(db)).run(Month.parse(month), ACTOR, **kw)


def ids(items):
    return sorted(i["id_number"] for i in items)


def certify(db, number, day, method="counter"):
    people = PersonService(db)
    pid = people.show(number, day).id
    return people.record_certification(pid, day, method, ACTOR, today=day)


def test_survivor_suspended_from_march_by_the_march_run(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1200)
    roster.load(today=d(2026, 1, 31))
    assert run(db, "2026-02").suspend == []  # deadline 10 Feb not yet passed on 1 Feb
    march = run(db, "2026-03")
    assert ids(march.suspend) == [n]
    item = march.suspend[0]
    assert item["suspend_from"] == "2026-03" and item["effective_month"] == "2026-03"
    assert item["missed_deadline"] == "2026-02-10" and item["paid_while_overdue"] == []


def test_certified_on_the_deadline_is_in_time(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10))
    roster.load(today=d(2026, 1, 31))
    certify(db, n, d(2026, 2, 10))
    assert run(db, "2026-03").suspend == []


def test_late_certification_before_the_run_day_prevents_suspension(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15))
    roster.load(today=d(2025, 12, 1))
    certify(db, n, d(2026, 3, 20))  # after the deadline but before the April run
    assert run(db, "2026-04").suspend == []


def test_retiree_suspension_reports_skipped_months(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 3000)
    roster.load(today=d(2025, 12, 1))
    # nobody ran April and May: June's run suspends from June, and says April and May were paid while overdue
    june = run(db, "2026-06")
    assert ids(june.suspend) == [n]
    assert june.suspend[0]["suspend_from"] == "2026-04"
    assert june.suspend[0]["effective_month"] == "2026-06"
    assert june.suspend[0]["paid_while_overdue"] == ["2026-04", "2026-05"]


def test_running_twice_gives_the_same_answer_and_records_once(db, roster):
    roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 3000)
    roster.add(roster.person(), "injury_recipient", d(2010, 1, 1), d(2025, 12, 20), 2000)
    roster.load(today=d(2025, 12, 31))
    first = run(db, "2026-07").as_json()
    second = run(db, "2026-07").as_json()
    assert first == second
    assert len(first["suspend"]) == 2
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from entitlement_events")).scalar() == 2
    # the next month does not suspend them again
    assert run(db, "2026-08").suspend == []


def test_suspended_person_certified_is_resumed_with_back_pay(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 2500)
    roster.load(today=d(2025, 12, 1))
    assert ids(run(db, "2026-04").suspend) == [n]
    run(db, "2026-05")
    run(db, "2026-06")
    certify(db, n, d(2026, 6, 10))
    view = PersonService(db).show(n, d(2026, 6, 11))
    assert view.entitlements[0].resume_pending and view.entitlements[0].payment_suspended_since == "2026-04"
    july = run(db, "2026-07")
    assert july.suspend == []
    (item,) = july.resume
    assert item["suspended_from"] == "2026-04"
    assert item["certified_on"] == "2026-06-10"
    assert item["resume_from"] == "2026-07"
    assert item["back_pay_months"] == ["2026-04", "2026-05", "2026-06"]
    assert item["back_pay_amount"] == 7500.0
    assert item["needs_approval"] is False
    assert run(db, "2026-08").resume == []  # resumed once
    view = PersonService(db).show(n, d(2026, 8, 2))
    assert view.entitlements[0].status == "valid" and view.entitlements[0].deadline == d(2027, 6, 10)


def test_certified_on_the_run_day_resumes_next_month(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000)
    roster.load(today=d(2026, 1, 31))
    run(db, "2026-03")
    certify(db, n, d(2026, 4, 1))
    (item,) = run(db, "2026-04").resume
    assert item["resume_from"] == "2026-05"
    assert item["back_pay_months"] == ["2026-03", "2026-04"]


def test_resumption_after_more_than_12_months_needs_approval(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2024, 1, 15), 2000)
    roster.load(today=d(2024, 12, 1))
    assert ids(run(db, "2025-02").suspend) == [n]
    certify(db, n, d(2026, 3, 5))
    april = run(db, "2026-04")
    (item,) = april.resume
    assert len(item["back_pay_months"]) == 14 and item["needs_approval"] is True
    assert item["resume_from"] is None and april.corrections == []  # nothing instructed yet
    # unapproved: the entitlement stays suspended; the next run grows the one pending approval
    may = run(db, "2026-05")
    assert ids(may.resume) == [n] and may.resume[0]["back_pay_months"][-1] == "2026-04"
    assert len(may.resume[0]["back_pay_months"]) == 15 and may.resume[0]["waiting_since"] == "2026-04"
    with db.engine.connect() as conn:
        pending = conn.execute(text("select id, payroll_month from entitlement_events where kind='back_pay' "
                                    "and voided_at is null and approved_by is null")).fetchall()
    assert [p[1] for p in pending] == ["2026-05"]  # one pending approval, not two
    event_id = pending[0][0]
    with pytest.raises(Exception):
        PayrollService(db, SettingsService(db)).approve_resumption(event_id, ACTOR.__class__("clerk1", "ws", "clerk"))
    assert PayrollService(db, SettingsService(db)).approve_resumption(event_id, SUP)
    assert not PayrollService(db, SettingsService(db)).approve_resumption(event_id, SUP)  # approving twice does nothing
    june = run(db, "2026-06")
    (item,) = june.resume
    assert item["resume_from"] == "2026-06"
    # the 15 approved months and May (withheld while waiting), each exactly once
    assert item["back_pay_months"] == [str(Month(2025, 2) + k) for k in range(16)]
    assert item["back_pay_amount"] == 16 * 2000
    assert sum(len(c["months"]) for c in june.corrections if c["kind"] == "back_pay") == 16
    assert run(db, "2026-07").resume == [] and run(db, "2026-07").corrections == []


def test_one_certification_covers_every_entitlement_with_their_own_clocks(db, roster):
    n = roster.person()
    roster.add(n, "resident_pension", d(2015, 1, 1), d(2025, 11, 2), 300)
    roster.add(n, "enterprise_survivor", d(2018, 6, 1), d(2026, 5, 2), 900)
    roster.load(today=d(2026, 6, 1))
    certify(db, n, d(2026, 6, 20))
    view = PersonService(db).show(n, d(2026, 6, 21))
    by = {e.cohort: e for e in view.entitlements}
    assert by["resident_pension"].last_certified == d(2026, 6, 20)
    assert by["resident_pension"].deadline == d(2026, 12, 31)
    assert by["enterprise_survivor"].deadline == d(2026, 7, 20)
    assert run(db, "2026-07").suspend == []


def test_death_terminates_and_opens_a_recovery(db, roster, tmp_path):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 10, 1), 3100, name="王桂兰")
    roster.load(today=d(2025, 12, 1))
    report = write_csv(tmp_path / "deaths.csv", ["公民身份号码", "姓名", "死亡日期", "来源"],
                       [[n, "王桂兰", "2026-01-15", "民政殡葬"]])
    rep = ImportService(db).import_results(report, ACTOR, today=d(2026, 4, 20))
    assert rep.imported == 1 and rep.rejected == []
    may = run(db, "2026-05")
    (term,) = may.terminate
    assert term["terminate_from"] == "2026-02" and term["death_date"] == "2026-01-15"
    (rec,) = may.recover
    assert rec["overpaid_months"] == ["2026-02", "2026-03", "2026-04"]
    assert rec["overpaid_amount"] == 9300.0
    assert run(db, "2026-05").as_json() == may.as_json()
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from recovery_cases")).scalar() == 1
        assert conn.execute(text("select status from entitlements")).scalar() == "terminated"
    assert run(db, "2026-06").terminate == []
    assert PersonService(db).show(n, d(2026, 6, 1)).entitlements[0].status == "terminated"


def test_death_of_a_suspended_person_overpays_only_paid_months(db, roster, tmp_path):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 1000, name="李淑珍")
    roster.load(today=d(2026, 1, 31))
    run(db, "2026-03")  # suspended from March
    write_csv(tmp_path / "d.csv", ["公民身份号码", "姓名", "死亡日期", "来源"], [[n, "李淑珍", "2026-01-20", "医院"]])
    ImportService(db).import_results(tmp_path / "d.csv", ACTOR, today=d(2026, 5, 1))
    may = run(db, "2026-05")
    assert ids(may.terminate) == [n]
    assert may.recover[0]["overpaid_months"] == ["2026-02"]  # March on was never paid


def test_certification_after_reported_death_is_refused_and_opens_a_case(db, roster, tmp_path):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 10, 1), name="赵德胜")
    roster.load(today=d(2025, 12, 1))
    write_csv(tmp_path / "d.csv", ["公民身份号码", "姓名", "死亡日期", "来源"], [[n, "赵德胜", "2026-02-03", "公安"]])
    ImportService(db).import_results(tmp_path / "d.csv", ACTOR, today=d(2026, 3, 1))
    with pytest.raises(Exception) as exc:
        certify(db, n, d(2026, 3, 10))
    assert getattr(exc.value, "code", None) == "certified_after_death"
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from certifications where method='counter'")).scalar() == 0
        case = conn.execute(text("select kind, status, detail from sync_conflicts")).one()
    assert case[0] == "certified_after_death" and case[1] == "open"
    assert json.loads(case[2])["cert_date"] == "2026-03-10" and n not in case[2]
    apr = run(db, "2026-04")
    assert ids(apr.terminate) == [n] and apr.resume == []
    # a certification on or before the death still counts
    certify(db, n, d(2026, 2, 1))


def test_rerun_after_late_import_adds_a_correcting_instruction(db, roster, tmp_path):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), name="孙玉珍")
    roster.load(today=d(2026, 1, 31))
    assert ids(run(db, "2026-03").suspend) == [n]
    # a mobile-app result dated before the run day arrives late
    write_csv(tmp_path / "r.csv", ["公民身份号码", "姓名", "认证日期", "认证方式", "认证结果"],
              [[n, "孙玉珍", "2026-02-09", "手机认证", "通过"]])
    ImportService(db).import_results(tmp_path / "r.csv", ACTOR, today=d(2026, 3, 2))
    again = run(db, "2026-03")
    # the suspension stays in the history (the payroll department may have applied it); a
    # resumption from March follows it, so March is paid
    assert ids(again.suspend) == [n] and ids(again.resume) == [n]
    assert again.resume[0]["resume_from"] == "2026-03" and again.resume[0]["back_pay_months"] == []
    with db.engine.connect() as conn:
        rows = conn.execute(text("select kind, voided_at is not null from entitlement_events")).fetchall()
    assert sorted(rows) == [("resume", 0), ("suspend", 0)]
    assert run(db, "2026-03").as_json() == again.as_json()  # and again: nothing new


def test_failed_mobile_result_does_not_count(db, roster, tmp_path):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), name="周建国")
    roster.load(today=d(2026, 1, 31))
    write_csv(tmp_path / "r.csv", ["公民身份号码", "姓名", "认证日期", "认证方式", "认证结果"],
              [[n, "周建国", "2026-02-05", "手机认证", "未通过"]])
    assert ImportService(db).import_results(tmp_path / "r.csv", ACTOR, today=d(2026, 2, 6)).imported == 1
    assert ids(run(db, "2026-03").suspend) == [n]


def test_half_year_cohort_missing_h1_is_suspended_in_july_only(db, roster):
    n = roster.add(roster.person(), "resident_pension", d(2015, 1, 1), d(2025, 12, 31), 200)
    roster.load(today=d(2026, 1, 5))
    assert run(db, "2026-06").suspend == []
    assert ids(run(db, "2026-07").suspend) == [n]


def test_every_event_is_audited_and_queued_for_sync(db, roster):
    roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 3000)
    roster.load(today=d(2025, 12, 1))
    run(db, "2026-04")
    with db.engine.connect() as conn:
        detail = conn.execute(text("select detail from audit_log where action='payroll.instructions'")).scalar()
        assert json.loads(detail) == {"month": "2026-04", "kinds": {"suspend": 1}, "voided": 0}
        assert conn.execute(text("select count(*) from audit_log where action='payroll.run'")).scalar() == 1
        # the events, and the entitlement's new status, are queued for the central database
        from db.journal import queued

        kinds = [e for e, _ in queued(conn)]
        assert kinds.count("entitlement_event") == 1 and kinds.count("payroll_run") == 1
        assert "entitlement" in kinds
        with pytest.raises(Exception):
            conn.execute(text("delete from audit_log"))
