"""Payroll month review/export/approvals; death → termination and overpayment → recovery plan;
death recorded in error → supervisor reversal → back pay in the next run."""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import load_workbook

from issue8_scenario import ADMIN, CLERK, SUPERVISOR, TODAY
from desktop.errors import PermissionDenied
from desktop.domain.months import Month


@pytest.fixture
def month_case(roster, services):
    r = roster
    n_long = r.add("赵长停", "enterprise_retiree", date(2010, 1, 1), date(2024, 6, 1), amount=3000)
    n_soon = r.add("钱将停", "enterprise_retiree", date(2025, 8, 1), date(2025, 11, 15), amount=2500)
    n_dead = r.add("孙已故", "enterprise_retiree", date(2025, 8, 1), date(2026, 6, 1), amount=3000)
    r.load()
    ids = {"long": r.pid(n_long), "soon": r.pid(n_soon), "dead": r.pid(n_dead)}
    numbers = {"long": n_long, "soon": n_soon, "dead": n_dead}
    pay = services.payroll_review
    pay.record("2025-07", ADMIN)  # 赵 suspended from 2025-07
    pay.record("2026-11", ADMIN)
    services.persons.record_certification(ids["long"], date(2026, 11, 20), "counter", CLERK, today=TODAY)
    services.deaths.report_death(ids["dead"], date(2026, 8, 15), ADMIN, as_of=TODAY)
    return ids, numbers


def test_month_review_kinds_and_flagged_approval(services, month_case):
    ids, numbers = month_case
    pay = services.payroll_review
    review = pay.record("2026-12", ADMIN)
    assert review.recorded and review.counts == {"suspend": 1, "resume": 1, "terminate": 1, "recover": 1, "corrections": 1}
    (s,) = review.items["suspend"]
    assert s["name"] == "钱将停" and s["missed_deadline"] == "2026-11-15" and s["suspend_from"] == "2026-12"
    (res,) = review.items["resume"]
    assert res["back_pay_months"][0] == "2025-07" and res["back_pay_months"][-1] == "2026-11"
    assert len(res["back_pay_months"]) == 17 and res["back_pay_amount"] == 51000.0 and res["needs_approval"]
    (rec,) = review.items["recover"]
    assert rec["overpaid_months"] == ["2026-09", "2026-10", "2026-11"] and rec["overpaid_amount"] == 9000.0
    assert review.pending == 1 and review.approvals[0].name == "赵长停"
    # the long back pay waits for a supervisor: not instructed, not counted as paid
    assert review.totals_yuan() == {"back_pay": 0, "overpaid": 9000.0, "recovery_cancelled": 0,
                                    "awaiting_approval": 51000.0}

    # recording December again is idempotent: one recovery case, one pending approval
    again = pay.record("2026-12", ADMIN)
    assert len(services.deaths.cases()) == 1 and again.pending == 1 and again.items == review.items
    with pytest.raises(PermissionDenied):
        pay.approve(review.approvals[0].event_id, CLERK)
    assert pay.approve(review.approvals[0].event_id, SUPERVISOR)
    assert pay.review("2026-12").pending == 0
    # the approved back pay is instructed by the next run, with December (withheld while waiting)
    jan = pay.review("2027-01")
    assert jan.pending == 0 and jan.approvals[0].approved_by == "李主管"
    (res,) = [i for i in jan.items["resume"] if i["name"] == "赵长停"]
    assert res["approved_by"] == "李主管" and res["resume_from"] == "2027-01"
    assert len(res["back_pay_months"]) == 18 and res["back_pay_months"][-1] == "2026-12"
    assert res["back_pay_amount"] == 54000.0


def test_export_xlsx_full_ids_and_export_record(services, month_case, tmp_path):
    ids, numbers = month_case
    pay = services.payroll_review
    review = pay.record("2026-12", ADMIN)
    with pytest.raises(PermissionDenied):
        pay.export(review, tmp_path / "clerk.xlsx", CLERK)
    path = tmp_path / "2026-12发放指令.xlsx"
    rec = pay.export(review, path, ADMIN)
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == ["暂停发放", "恢复发放", "终止发放", "多领追回", "补发与追回汇总"]
    rows = list(wb["暂停发放"].iter_rows(values_only=True))
    assert rows[0][0].startswith("2026-12 发放月 暂停发放名单")
    assert rows[1][:3] == ("姓名", "公民身份号码", "认证对象")
    assert rows[2][:3] == ("钱将停", numbers["soon"], "企业离退休人员")  # full number for payroll
    resume = list(wb["恢复发放"].iter_rows(values_only=True))
    assert resume[1][-1] == "审核人" and resume[2][0] == "赵长停" and resume[2][7] == 51000 and resume[2][8] == "是"
    assert len(resume[2]) < 10 or resume[2][9] is None  # not yet approved at export time
    recover = list(wb["多领追回"].iter_rows(values_only=True))
    assert recover[2][:2] == ("孙已故", numbers["dead"]) and recover[2][4] == "2026-09、2026-10、2026-11"
    assert recover[2][5] == 9000
    import hashlib

    assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rec.counts == {"suspend": 1, "resume": 1, "terminate": 1, "recover": 1, "corrections": 1} and rec.pending_approvals == 1
    history = pay.exports("2026-12")
    assert [(h.filename, h.operator) for h in history] == [("2026-12发放指令.xlsx", "管理员")]


def test_death_overpayment_and_recovery_plan(services, month_case):
    ids, _ = month_case
    deaths = services.deaths
    (case,) = deaths.cases()
    assert case.name == "孙已故" and case.overpaid_months == ("2026-09", "2026-10", "2026-11")
    assert case.amount == 9000.0 and case.status == "open" and case.opened_month == "2026-12"
    assert services.persons.show_by_id(ids["dead"], TODAY).entitlements[0].status == "terminated"
    with pytest.raises(PermissionDenied):
        deaths.set_plan(case.id, "instalments", CLERK, instalments=3)
    plan = deaths.set_plan(case.id, "instalments", ADMIN, instalments=4, first_month="2027-01")
    assert [(i.due_month, i.amount) for i in plan.plan] == [("2027-01", 2250.0), ("2027-02", 2250.0),
                                                            ("2027-03", 2250.0), ("2027-04", 2250.0)]
    after = deaths.record_payment(case.id, 3000, ADMIN, paid_on=date(2027, 1, 5))
    assert after.paid == 3000.0 and after.outstanding == 6000.0 and after.status == "planned"
    # switching to a lump sum keeps what was paid and plans the rest
    lump = deaths.set_plan(case.id, "lump_sum", ADMIN, first_month="2027-02")
    live = [i for i in lump.plan if i.status != "cancelled"]
    assert sum(i.amount - i.paid for i in live) == pytest.approx(6000.0)
    done = deaths.record_payment(case.id, 6000, ADMIN, paid_on=date(2027, 2, 1))
    assert done.status == "recovered" and done.outstanding == 0.0


def test_offset_plan(services, month_case):
    (case,) = services.deaths.cases()
    v = services.deaths.set_plan(case.id, "offset", ADMIN, offset_against="丧葬补助金", first_month="2026-12")
    assert v.method_zh == "从后续待遇中抵扣" and len(v.plan) == 1 and v.plan[0].amount == 9000.0
    assert "丧葬补助金" in v.note


def test_death_in_error_reversed_with_back_pay(services, month_case, db):
    ids, _ = month_case
    pay, deaths = services.payroll_review, services.deaths
    pay.record("2026-12", ADMIN)  # records the termination (from 2026-12 payment stops)
    # the "dead" resident walks in on 10 December: the counter refuses a certification dated after
    # the recorded death and opens a case; the supervisor reverses the death, then the clerk certifies
    with pytest.raises(Exception) as exc:
        services.persons.record_certification(ids["dead"], date(2026, 12, 10), "counter", CLERK,
                                              today=date(2026, 12, 10))
    assert exc.value.code == "certified_after_death"
    with pytest.raises(PermissionDenied):
        deaths.reverse_death(ids["dead"], CLERK, "本人到窗口认证", as_of=date(2026, 12, 10))
    (rev,) = deaths.reverse_death(ids["dead"], SUPERVISOR, "民政数据错误，本人到窗口认证", as_of=date(2026, 12, 10))
    assert rev.suspended_since == "2026-12" and rev.expected_back_pay_months == ("2026-12",)
    assert rev.expected_back_pay == 3000.0
    services.persons.record_certification(ids["dead"], date(2026, 12, 10), "counter", CLERK, today=date(2026, 12, 10))
    (case,) = deaths.cases()
    assert case.status == "cancelled" and "民政数据错误" in case.note
    view = services.persons.show_by_id(ids["dead"], date(2026, 12, 10))
    assert view.death_date is None and view.entitlements[0].resume_pending
    kinds = [h.text_zh for h in view.history if h.kind == "event"]
    assert any(k.startswith("终止发放") for k in kinds)

    jan = pay.record("2027-01", ADMIN)
    (res,) = [i for i in jan.items["resume"] if i["name"] == "孙已故"]
    assert res["back_pay_months"] == ["2026-12"] and res["back_pay_amount"] == 3000.0
    assert res["resume_from"] == "2027-01" and not res["needs_approval"]
    assert not [i for i in jan.items["terminate"] if i["name"] == "孙已故"]
    # December cannot be run again after January: the ledger moves forward only
    with pytest.raises(Exception) as exc:
        pay.record("2026-12", ADMIN)
    assert exc.value.code == "run_out_of_order"
    from sqlalchemy import text

    with db.engine.connect() as conn:
        kinds = [r[0] for r in conn.execute(text(
            "select kind from entitlement_events e join entitlements n on n.id = e.entitlement_id "
            "where n.person_id = :p and voided_at is null order by payroll_month, e.created_at"), {"p": ids["dead"]})]
        assert kinds == ["terminate", "resume", "back_pay"]
        assert conn.execute(text("select count(*) from audit_log where action='person.death_reversed'")).scalar() == 1
    assert services.payroll.ledger(month_case[1]["dead"], Month(2027, 1), as_of=date(2027, 1, 2))[
        "entitlements"][0]["back_pay_outstanding"] == 0


def test_reversal_before_the_run_needs_no_back_pay(services, month_case):
    ids, _ = month_case
    (rev,) = services.deaths.reverse_death(ids["dead"], SUPERVISOR, "录入错误", as_of=TODAY)
    assert rev.suspended_since is None and rev.expected_back_pay_months == ()
    dec = services.payroll_review.record("2026-12", ADMIN)
    assert dec.counts["terminate"] == 0 and dec.counts["recover"] == 0
    assert services.persons.show_by_id(ids["dead"], TODAY).entitlements[0].status != "terminated"


def _import_death(services, tmp_path, number, name, day, source="民政殡葬数据"):
    import csv

    from desktop.services.imports import DEATH_COLUMNS

    path = tmp_path / "deaths.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(DEATH_COLUMNS)
        w.writerow([number, name, day.isoformat(), source])
    report = services.imports.import_results(path, ADMIN, today=TODAY)
    assert not report.rejected, report.rejected


def test_imported_death_listed_and_stopped_at_once(services, roster, tmp_path):
    n_imp = roster.add("周比对", "enterprise_retiree", date(2020, 1, 1), date(2026, 5, 1), amount=2000)
    roster.add("吴健在", "enterprise_retiree", date(2020, 1, 1), date(2026, 5, 1), amount=2000)
    roster.load()
    pid = roster.pid(n_imp)
    services.payroll_review.record("2026-11", ADMIN)  # November paid before anyone knew
    _import_death(services, tmp_path, n_imp, "周比对", date(2026, 9, 20))
    deaths = services.deaths
    (p,) = deaths.pending_deaths()
    assert (p.name, p.death_date, p.source, p.cohorts_zh) == ("周比对", date(2026, 9, 20), "民政殡葬数据", ("企业离退休人员",))
    assert "*" in p.masked_id
    with pytest.raises(PermissionDenied):
        deaths.process_reported_death(pid, CLERK, as_of=TODAY)
    out = deaths.process_reported_death(pid, SUPERVISOR, as_of=TODAY)
    assert out.payroll_month == "2026-12" and len(out.terminations) == 1
    assert out.recoveries[0]["overpaid_months"] == ["2026-10", "2026-11"] and out.overpaid_total == 4000.0
    assert deaths.pending_deaths() == []
    assert services.persons.show_by_id(pid, TODAY).entitlements[0].status == "terminated"
    (case,) = deaths.cases()
    assert case.amount == 4000.0 and case.status == "open" and case.death_date == date(2026, 9, 20)
    with pytest.raises(Exception) as again:
        deaths.process_reported_death(pid, SUPERVISOR, as_of=TODAY)
    assert getattr(again.value, "code", "") == "already_processed"
    # the December run records the termination and does not open a second case
    dec = services.payroll_review.record("2026-12", ADMIN)
    assert [i["name"] for i in dec.items["terminate"]] == ["周比对"]
    assert len(deaths.cases()) == 1


def test_death_stopped_by_a_payroll_run_is_not_pending(services, roster, tmp_path):
    n = roster.add("郑已停", "enterprise_retiree", date(2020, 1, 1), date(2026, 5, 1), amount=2000)
    roster.load()
    _import_death(services, tmp_path, n, "郑已停", date(2026, 10, 3))
    assert [p.name for p in services.deaths.pending_deaths()] == ["郑已停"]
    services.payroll_review.record("2026-12", ADMIN)
    assert services.deaths.pending_deaths() == []
    with pytest.raises(Exception) as exc:
        services.deaths.process_reported_death(roster.pid(n), SUPERVISOR, as_of=TODAY)
    assert getattr(exc.value, "code", "") == "already_processed"
