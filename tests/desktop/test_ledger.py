"""The payment ledger against a real SQLite file: the sequences of issue 14, each ending with a
ledger whose outstanding figures are zero after the next run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date as d
from pathlib import Path

import pytest
from sqlalchemy import text

from desktop.errors import PermissionDenied, UserFacingError
from desktop.domain.months import Month
from desktop.services.hub import Services
from desktop.services.payroll import PayrollService
from desktop.services.settings import SettingsService
from desktop.services.persons import PersonService
from desktop.platform.workstation import Actor

from scenario import ACTOR

SUP = Actor("主管", "ws-test", "supervisor")
CLERK = Actor("张敏", "ws-test", "clerk")
ROOT = Path(__file__).resolve().parents[2]


def run(db, month, **kw):
    return PayrollService(db, SettingsService(db)).run(Month.parse(month), ACTOR, **kw)


def certify(db, number, day, method="mobile_app", today=None):
    people = PersonService(db)
    pid = people.show(number, day).id
    return people.record_certification(pid, day, method, ACTOR, today=today or day)


def ledger(db, number, through, as_of=None):
    doc = PayrollService(db, SettingsService(db)).ledger(number, Month.parse(through), as_of or Month.parse(through).last_day())
    (ent,) = doc["entitlements"]
    return ent


def month_row(ent, month):
    (row,) = [m for m in ent["months"] if m["month"] == month]
    return row


def report_death(db, number, day, as_of):
    pid = PersonService(db).show(number, as_of).id
    with db.engine.begin() as conn:  # what a death list import records: the date, nothing else
        conn.execute(text("update persons set death_date=:d where id=:p"), {"d": day.isoformat(), "p": pid})


# --- 1. an on-time certification that arrives late resumes payment with back pay ------------------


def test_on_time_certification_arriving_after_the_suspension_resumes_with_back_pay(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    assert [i["id_number"] for i in run(db, "2026-04").suspend] == [n]
    # a 手机认证 result dated the day before the deadline is imported in April
    certify(db, n, d(2026, 3, 14), today=d(2026, 4, 20))
    view = PersonService(db).show(n, d(2026, 4, 20))
    assert view.entitlements[0].deadline == d(2027, 3, 14) and view.entitlements[0].resume_pending
    before = ledger(db, n, "2026-04")
    assert month_row(before, "2026-04") == {"month": "2026-04", "due": True, "instructed": "withheld",
                                            "amount": 1000.0, "settled_by": None}
    assert before["back_pay_outstanding"] == 1000.0

    may = run(db, "2026-05")
    (res,) = may.resume
    assert res["resume_from"] == "2026-05" and res["back_pay_months"] == ["2026-04"]
    assert res["back_pay_amount"] == 1000.0 and res["certified_on"] == "2026-03-14"
    assert may.corrections == [{"id_number": n, "cohort": "enterprise_retiree", "kind": "back_pay",
                                "months": ["2026-04"], "amount": 1000.0, "entitlement_id": res["entitlement_id"],
                                "person_id": res["person_id"], "name": res["name"]}]
    june = run(db, "2026-06")
    assert june.resume == [] and june.suspend == [] and june.corrections == []
    after = ledger(db, n, "2026-06")
    assert after["back_pay_outstanding"] == 0 and after["recovery_open"] == 0 and after["overpaid_unclaimed"] == 0
    assert month_row(after, "2026-04")["settled_by"] == {"kind": "back_pay", "month": "2026-05"}
    assert month_row(after, "2026-05")["instructed"] == "paid"
    assert PersonService(db).show(n, d(2026, 6, 2)).entitlements[0].status == "valid"


# --- 2. a corrected death date cancels the recovery demand it no longer supports ---------------


def test_corrected_death_date_cancels_the_old_recovery(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 12, 1), 1000)
    roster.load(today=d(2026, 1, 5))
    for m in ("2026-02", "2026-03", "2026-04"):
        run(db, m)
    report_death(db, n, d(2026, 2, 15), as_of=d(2026, 4, 20))
    may = run(db, "2026-05")
    assert [t["terminate_from"] for t in may.terminate] == ["2026-03"]
    (rec,) = may.recover
    assert rec["overpaid_months"] == ["2026-03", "2026-04"] and rec["overpaid_amount"] == 2000.0
    assert ledger(db, n, "2026-05")["recovery_open"] == 2000.0

    # a second report corrects the date to 15 April: March and April were due after all
    report_death(db, n, d(2026, 4, 15), as_of=d(2026, 5, 20))
    june = run(db, "2026-06")
    assert june.terminate == [] and june.recover == []
    (corr,) = june.corrections
    assert corr["kind"] == "recovery_cancel" and corr["months"] == ["2026-03", "2026-04"] and corr["amount"] == 2000.0
    (case,) = Services(db).deaths.cases()
    assert case.status == "cancelled" and case.amount == 0
    ent = ledger(db, n, "2026-06")
    assert ent["recovery_open"] == 0 and ent["back_pay_outstanding"] == 0 and ent["overpaid_unclaimed"] == 0
    assert month_row(ent, "2026-03")["settled_by"]["kind"] == "recovery_cancel"
    assert month_row(ent, "2026-05") | {"settled_by": None} == {"month": "2026-05", "due": False,
                                                               "instructed": "terminated", "amount": 1000.0,
                                                               "settled_by": None}
    assert run(db, "2026-07").corrections == []


def test_death_date_moved_earlier_adds_a_recovery_for_the_extra_months_only(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 12, 1), 1000)
    roster.load(today=d(2026, 1, 5))
    for m in ("2026-02", "2026-03", "2026-04"):
        run(db, m)
    report_death(db, n, d(2026, 3, 20), as_of=d(2026, 4, 20))
    (rec,) = run(db, "2026-05").recover
    assert rec["overpaid_months"] == ["2026-04"]
    report_death(db, n, d(2026, 1, 31), as_of=d(2026, 5, 20))
    (rec2,) = run(db, "2026-06").recover
    assert rec2["overpaid_months"] == ["2026-02", "2026-03"] and rec2["overpaid_amount"] == 2000.0
    assert ledger(db, n, "2026-06")["recovery_open"] == 3000.0


# --- 3. months in order; late facts become the next run's corrections ---------------------------


def test_runs_go_in_month_order_and_late_facts_flow_into_the_next_run(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 5, 20), 800)
    roster.load(today=d(2026, 6, 1))
    aug = run(db, "2026-08")
    (s,) = aug.suspend
    assert s["suspend_from"] == "2026-07" and s["effective_month"] == "2026-08"
    assert s["paid_while_overdue"] == ["2026-07"]
    with pytest.raises(UserFacingError) as exc:
        run(db, "2026-07")
    assert exc.value.code == "run_out_of_order" and "2026-08" in exc.value.message_zh
    with pytest.raises(UserFacingError):
        run(db, "2026-07", record=False)  # not even as a preview
    certify(db, n, d(2026, 8, 20), method="counter")
    sep = run(db, "2026-09")
    assert sep.suspend == []
    (res,) = sep.resume
    assert res["back_pay_months"] == ["2026-08"] and res["back_pay_amount"] == 800.0
    with db.engine.connect() as conn:
        kinds = [r[0] for r in conn.execute(text("select kind from entitlement_events where voided_at is null "
                                                 "order by payroll_month, created_at"))]
    assert kinds == ["suspend", "resume", "back_pay"]
    ent = ledger(db, n, "2026-09")
    assert month_row(ent, "2026-07")["instructed"] == "paid" and month_row(ent, "2026-07")["due"] is True
    assert ent["back_pay_outstanding"] == 0


def test_cli_refuses_an_earlier_month_with_a_nonzero_status(tmp_path, db, roster):
    roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 6, 1), 1000)
    roster.load(today=d(2026, 1, 5))
    run(db, "2026-08")
    from cli_auth import signed_env

    env = {**os.environ, "CERTDESK_HOME": str(tmp_path / "home"), "CERTDESK_DB": str(db.url), **signed_env(db)}
    r = subprocess.run([sys.executable, "-m", "ui", "payroll", "--month", "2026-07", "--json"], cwd=ROOT,
                       capture_output=True, text=True, env=env)
    assert r.returncode == 3  # refused by a rule
    assert json.loads(r.stdout)["error"] == "run_out_of_order"


# --- 4. one pending approval, each month paid once ----------------------------------------------


def test_long_back_pay_waits_in_one_growing_approval_and_pays_each_month_once(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2024, 1, 15), 1000)
    roster.load(today=d(2024, 12, 1))
    run(db, "2025-02")
    certify(db, n, d(2026, 3, 5), method="counter")
    for m in ("2026-04", "2026-05"):
        run(db, m)
    with db.engine.connect() as conn:
        pending = conn.execute(text("select id, detail from entitlement_events where kind='back_pay' "
                                    "and voided_at is null and approved_by is null")).all()
    assert len(pending) == 1 and len(json.loads(pending[0][1])["months"]) == 15
    ent = ledger(db, n, "2026-05")
    assert month_row(ent, "2026-04")["settled_by"] == {"kind": "back_pay_pending", "month": "2026-05"}
    assert PayrollService(db, SettingsService(db)).approve_resumption(pending[0][0], SUP)
    june = run(db, "2026-06")
    paid = [m for c in june.corrections if c["kind"] == "back_pay" for m in c["months"]]
    assert len(paid) == len(set(paid)) == 16 and paid[0] == "2025-02" and paid[-1] == "2026-05"
    assert sum(c["amount"] for c in june.corrections) == 16_000.0
    assert ledger(db, n, "2026-06")["back_pay_outstanding"] == 0
    assert run(db, "2026-07").corrections == []


# --- red flags ------------------------------------------------------------------------------


def test_death_before_the_benefit_start_recovers_every_paid_month(db, roster):
    n = roster.add(roster.person(), "enterprise_survivor", d(2026, 3, 1), None, 600)
    roster.load(today=d(2026, 3, 2))
    run(db, "2026-04")
    run(db, "2026-05")
    report_death(db, n, d(2026, 1, 10), as_of=d(2026, 5, 10))
    june = run(db, "2026-06")
    (t,) = june.terminate
    assert t["terminate_from"] == "2026-03"
    (rec,) = june.recover
    assert rec["overpaid_months"] == ["2026-03", "2026-04", "2026-05"] and rec["overpaid_amount"] == 1800.0


def test_go_live_guard_lists_rows_without_any_certification_apart(db, roster):
    old = roster.add(roster.person(), "enterprise_retiree", d(2011, 5, 1), None, 1500)
    fine = roster.add(roster.person(), "enterprise_retiree", d(2011, 5, 1), d(2026, 6, 1), 1500)
    lapsed = roster.add(roster.person(), "enterprise_retiree", d(2011, 5, 1), d(2025, 6, 1), 1500)
    roster.load(today=d(2026, 11, 20))
    first = run(db, "2026-12")
    assert [i["id_number"] for i in first.suspend] == [lapsed]  # a real lapse is suspended as usual
    assert [g["id_number"] for g in first.go_live_guard] == [old] and fine not in str(first.go_live_guard)
    with pytest.raises(PermissionDenied):
        PayrollService(db, SettingsService(db)).run(Month(2026, 12), CLERK, confirm_go_live=True)
    confirmed = PayrollService(db, SettingsService(db)).run(Month(2026, 12), SUP, confirm_go_live=True)
    (s,) = [i for i in confirmed.suspend if i["id_number"] == old]
    # months paid by the core system before the first run are not "paid while overdue" back to 2012
    assert s["suspend_from"] == "2012-06" and s["paid_while_overdue"] == []
    assert confirmed.go_live_guard == [] and confirmed.go_live_confirmed
    with db.engine.connect() as conn:
        by = conn.execute(text("select go_live_confirmed_by from payroll_runs where go_live_confirmed_by is not null")
                          ).scalar()
    assert by == "主管"


def test_back_pay_and_recovery_use_the_amount_of_each_month(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 1, 5))
    run(db, "2026-04")  # suspended from April
    with db.engine.begin() as conn:  # the amount rose to 1,200 from June (a roster re-import records this)
        eid = conn.execute(text("select id from entitlements")).scalar()
        conn.execute(text("insert into entitlement_amounts (id, entitlement_id, from_month, amount_fen, previous_fen, "
                          "created_at) values ('a1', :e, '2026-06', 120000, 100000, '2026-06-01 00:00:00')"), {"e": eid})
        conn.execute(text("update entitlements set monthly_amount_fen=120000"))
    for m in ("2026-05", "2026-06", "2026-07"):
        run(db, m)
    certify(db, n, d(2026, 7, 10), method="counter")
    aug = run(db, "2026-08")
    (res,) = aug.resume
    assert res["back_pay_months"] == ["2026-04", "2026-05", "2026-06", "2026-07"]
    assert res["back_pay_amount"] == 2 * 1000 + 2 * 1200
    ent = ledger(db, n, "2026-08")
    assert [m["amount"] for m in ent["months"] if m["month"] in ("2026-05", "2026-06")] == [1000.0, 1200.0]


def test_ledger_command_prints_the_contract_shape(tmp_path, db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 1, 5))
    run(db, "2026-04")
    from cli_auth import signed_env

    env = {**os.environ, "CERTDESK_HOME": str(tmp_path / "home"), "CERTDESK_DB": str(db.url),
           **signed_env(db, "clerk")}
    r = subprocess.run([sys.executable, "-m", "ui", "ledger", n, "--json", "--through", "2026-05"], cwd=ROOT,
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"id_number", "entitlements"} and doc["id_number"] == n
    (ent,) = doc["entitlements"]
    assert {"cohort", "months", "back_pay_outstanding", "recovery_open", "overpaid_unclaimed"} <= set(ent)
    assert ent["months"][-1]["month"] == "2026-05"
    assert all(set(m) == {"month", "due", "instructed", "amount", "settled_by"} for m in ent["months"])
    april = month_row(ent, "2026-04")
    assert april["due"] is None and april["instructed"] == "withheld"
    assert month_row(ent, "2026-05")["instructed"] is None  # no run has reached May
    assert n not in r.stderr
