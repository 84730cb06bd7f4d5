"""What the payroll run reads about a death (issue 22 survivors in ``PayrollService._gather``).

A death counts for a run only when it is on or before the run day; certifications on the day of
death or before it are proof of life up to the death, and the latest one after it is shown as a
red flag on the termination (``certified_after_death``) — a certification dated after a death is
not proof of life (docs/ledger.md, "red flags"). Against a real SQLite file through the services.
"""

from __future__ import annotations

from datetime import date as d

from scenario import ACTOR
from test_money_payroll import certify, q, run, set_death


def _paid_person(db, roster, last=d(2025, 12, 1)):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), last, 1000)
    roster.load(today=d(2026, 1, 5))
    return n


def test_a_death_after_the_run_day_waits_for_the_next_run(db, roster):
    n = _paid_person(db, roster)
    run(db, "2026-05")
    set_death(db, n, d(2026, 6, 20))  # reported early; the June run day is 1 June
    june = run(db, "2026-06")
    assert june.terminate == [] and june.recover == []
    july = run(db, "2026-07")
    (term,) = july.terminate
    assert term["death_date"] == "2026-06-20" and term["terminate_from"] == "2026-07"


def test_a_death_on_the_run_day_leaves_that_month_due(db, roster):
    n = _paid_person(db, roster)
    run(db, "2026-05")
    set_death(db, n, d(2026, 6, 1))  # the run day of 2026-06 (payroll day 1): June is still due
    assert run(db, "2026-06").terminate == []
    (term,) = run(db, "2026-07").terminate
    assert term["death_date"] == "2026-06-01" and term["terminate_from"] == "2026-07"


def test_the_latest_certification_after_a_death_is_the_red_flag(db, roster):
    n = _paid_person(db, roster)
    run(db, "2026-02")
    # four certifications recorded before the death was known: one on the day of death (proof
    # of life that day), three after it (not proof of life)
    for day in (d(2026, 3, 10), d(2026, 4, 2), d(2026, 6, 9), d(2026, 5, 5)):
        certify(db, n, day)
    set_death(db, n, d(2026, 3, 10))
    (term,) = run(db, "2026-07").terminate
    assert term["death_date"] == "2026-03-10"
    assert term["certified_after_death"] == "2026-06-09"  # the latest, not the first or second


def test_a_certification_on_the_day_of_death_is_no_red_flag(db, roster):
    n = _paid_person(db, roster)
    run(db, "2026-02")
    certify(db, n, d(2026, 3, 10))
    set_death(db, n, d(2026, 3, 10))
    (term,) = run(db, "2026-04").terminate
    assert term["certified_after_death"] is None and term["terminate_from"] == "2026-04"


def test_one_certification_after_the_death_is_the_red_flag(db, roster):
    n = _paid_person(db, roster)
    run(db, "2026-02")
    certify(db, n, d(2026, 4, 2))
    set_death(db, n, d(2026, 3, 10))
    (term,) = run(db, "2026-05").terminate
    assert term["certified_after_death"] == "2026-04-02"


# --- what a run writes and answers (survivors in record_instructions, _plan_records, _assemble) --


def test_back_pay_in_fen_keeps_its_fen(db, roster):
    """A pension of 1234.56 yuan: three months of back pay are 3703.68, not a rounded yuan."""
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), "1234.56")
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    certify(db, n, d(2026, 6, 10))
    (item,) = run(db, "2026-07").resume
    assert item["back_pay_months"] == ["2026-04", "2026-05", "2026-06"]
    assert item["back_pay_amount"] == 3703.68


def test_a_single_month_of_half_a_yuan_is_not_rounded_away(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), "1000.50")
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    certify(db, n, d(2026, 4, 10))
    (item,) = run(db, "2026-05").resume
    assert item["back_pay_months"] == ["2026-04"] and item["back_pay_amount"] == 1000.5


def test_every_instruction_row_says_who_recorded_it_and_when(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    certify(db, n, d(2026, 6, 10))
    run(db, "2026-07")
    rows = q(db, "select kind, operator, workstation, created_at, needs_approval, voided_at, void_reason "
                 "from entitlement_events order by payroll_month, kind")
    assert [r[0] for r in rows] == ["suspend", "back_pay", "resume"]
    for kind, operator, workstation, created_at, needs_approval, voided_at, reason in rows:
        assert (operator, workstation) == (ACTOR.operator, ACTOR.workstation), kind
        assert created_at is not None and len(str(created_at)) >= 19, kind  # a timestamp, not empty
        assert not needs_approval and voided_at is None and reason is None, kind


def test_a_pending_back_pay_is_answered_in_full(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000)
    roster.load(today=d(2026, 3, 1))
    run(db, "2026-04")
    certify(db, n, d(2027, 4, 10))
    (item,) = run(db, "2027-05").resume
    assert set(item) == {"entitlement_id", "person_id", "id_number", "name", "cohort", "suspended_from",
                         "missed_deadline", "certified_on", "resume_from", "back_pay_months",
                         "back_pay_amount", "needs_approval", "waiting_since"}
    assert item["missed_deadline"] is None and item["needs_approval"] is True
    (pending,) = q(db, "select needs_approval from entitlement_events where kind = 'back_pay'")
    assert pending[0]  # the only instruction recorded as waiting for approval
    (status,) = q(db, "select needs_approval from entitlement_events where kind = 'suspend'")
    assert not status[0]


# --- the certification history and an empty ID number ------------------------------------------


def test_two_certifications_on_one_day_list_the_later_recorded_first(db, roster):
    from datetime import datetime

    from db import certification_queries as certq
    from db import repositories as repo

    n = _paid_person(db, roster)
    (pid,) = q(db, "select id from persons where id_number = :n", n=n)[0]
    rows = [{"id": f"c{i}", "person_id": pid, "cert_date": d(2026, 3, 2), "method": m, "result": r,
             "evidence": None, "operator": "张敏", "approver": None, "workstation": "ws", "batch_id": None,
             "created_at": datetime(2026, 3, 2, h)}
            for i, (m, r, h) in enumerate([("counter", "failed", 9), ("counter", "passed", 11),
                                           ("mobile_app", "passed", 10)])]
    with db.engine.begin() as conn:
        repo.insert_certifications(conn, rows)
    with db.engine.connect() as conn:
        got = [c["id"] for c in certq.certifications_of(conn, pid) if c["cert_date"] == d(2026, 3, 2)]
    assert got == ["c1", "c2", "c0"]  # 11:00, 10:00, 09:00


def test_an_empty_id_number_is_invalid_with_its_reason():
    from desktop.domain.idnumber import validate

    for raw in ("", None, "   "):
        check = validate(raw)
        assert check.number == "" and check.valid is False and check.reason == "empty"


def test_a_forecast_of_the_go_live_month_counts_no_month_paid_while_overdue(db, roster):
    """A roster row with no certification on file: a forecast (the due list, a returned form's
    resumption) plans it as confirmed, and the months the core system paid before the first run
    are not reported as paid while overdue."""
    from desktop.domain.months import Month
    from desktop.services.payroll import PayrollService
    from desktop.services.settings import SettingsService

    n = roster.add(roster.person(), "injury_recipient", d(2011, 3, 1), None, 1500)
    roster.load(today=d(2026, 3, 1))
    with db.engine.connect() as conn:
        fc = PayrollService(db, SettingsService(db)).compute(Month(2026, 4), conn)
    (s,) = fc.suspend
    assert s["id_number"] == n and s["suspend_from"] == "2012-01"
    assert s["paid_while_overdue"] == []


def test_every_invalid_id_number_says_false_keeps_the_number_and_gives_its_reason():
    from desktop.domain.idnumber import IdCheck, make_number, validate

    today = d(2026, 12, 4)
    good = make_number("152202", d(1950, 3, 1), 7)
    cases = {
        good[:17]: "length",
        good[:16] + "AB": "format",
        "15220219500231" + good[14:]: "birth_date",  # 31 February
        make_number("152202", d(1879, 12, 31), 7): "birth_date",  # before 1880
    }
    for number, reason in cases.items():
        check = validate(number, today)
        assert check[:3] == (number, False, reason) and check.valid is False, number
    future = make_number("152202", d(2027, 1, 1), 7)
    assert validate(future, today)[:4] == (future, False, "future_birth", d(2027, 1, 1))
    ok = validate(good, today)
    assert ok.valid is True and ok.number == good and ok.reason is None and isinstance(ok, IdCheck)
    assert validate(make_number("152202", d(1880, 1, 1), 7), today).valid is True  # the first year accepted


def test_month_errors_say_what_is_wrong():
    import pytest

    from desktop.domain.months import Month

    with pytest.raises(ValueError, match="month out of range: 13"):
        Month(2026, 13)
    with pytest.raises(ValueError, match="not a month: '2026年3月'"):
        Month.parse("2026年3月")
    assert Month.parse(" 2026/3 ") == Month.parse("202603") == Month(2026, 3)
