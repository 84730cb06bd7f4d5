"""The ledger's invariants through the real services and a real SQLite file (hypothesis).

Random sequences of late certifications, death reports (corrected, withdrawn), supervisors'
approvals and monthly runs go through ImportService / PersonService / PayrollService exactly as
the counter and the command line use them; after every run the recorded ledger
(``certdesk ledger``'s JSON) must show every due month paid or settled once, nothing paid after
death, and a second run of the same month records nothing.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from desktop.errors import UserFacingError
from desktop.domain.months import Month
from desktop.services.database import Database
from desktop.services.payroll import PayrollService
from desktop.services.settings import SettingsService
from desktop.services.persons import PersonService
from desktop.platform.workstation import Actor
from scenario import Roster

SUP = Actor("主管", "ws-test", "supervisor")

step = st.one_of(
    st.tuples(st.just("run"), st.sampled_from([0, 1, 1, 2, 7])),  # advance some months (or none), then run
    st.tuples(st.just("certify"), st.integers(-400, 40)),  # a certification dated relative to the next run
    st.tuples(st.just("death"), st.integers(-300, 20)),
    st.tuples(st.just("withdraw"), st.just(0)),
    st.tuples(st.just("approve"), st.just(0)),
)


def _counts(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("select (select count(*) from entitlement_events) + "
                                 "(select count(*) from recovery_cases)")).scalar()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(cohort=st.sampled_from(["enterprise_retiree", "enterprise_survivor", "injury_recipient"]),
       last=st.integers(0, 420), steps=st.lists(step, min_size=3, max_size=10))
# a death withdrawn after the run of its month, that month run again: the recovery the month
# opened is answered as opened (1,000), beside its cancellation — the same answer on every re-run
@example(cohort="enterprise_retiree", last=0, steps=[("death", 0), ("run", 2), ("withdraw", 0), ("run", 0)])
# a long suspension: back pay over 12 months waits, grows, is approved once
@example(cohort="enterprise_retiree", last=0,
         steps=[("run", 0), ("run", 7), ("run", 7), ("certify", 5), ("run", 1), ("run", 1), ("approve", 0), ("run", 1)])
# a death reported, corrected earlier, then withdrawn
@example(cohort="enterprise_retiree", last=300,
         steps=[("run", 2), ("death", -40), ("run", 1), ("death", -120), ("run", 1), ("withdraw", 0), ("run", 1)])
# certified on the run day (the month is back pay), a death recovers that month, the death is
# withdrawn: the first back pay stands, the month is not back-paid again (issue 22's bug)
@example(cohort="enterprise_retiree", last=0,
         steps=[("run", 0), ("certify", 0), ("run", 0), ("death", -20), ("run", 0), ("withdraw", 0), ("run", 0)])
def test_recorded_ledger_keeps_paid_equal_to_due(tmp_path_factory, cohort, last, steps):
    tmp = tmp_path_factory.mktemp("ledgerdb")
    db = Database.open(f"sqlite:///{tmp / 'l.sqlite'}")
    try:
        roster = Roster(db, tmp)
        n = roster.add(roster.person(), cohort, date(2015, 1, 1), date(2025, 1, 1) + timedelta(days=last), 1000)
        roster.load(today=date(2026, 3, 1))
        pay, people = PayrollService(db, SettingsService(db)), PersonService(db)
        pid = people.show(n, date(2026, 3, 1)).id
        month = Month(2026, 3)
        for kind, arg in steps + [("run", 1)]:
            day = month.first_day()
            if kind == "certify":
                try:
                    people.record_certification(pid, day + timedelta(days=arg), "mobile_app", SUP, today=day + timedelta(days=60))
                except UserFacingError:
                    pass  # dated after a recorded death: refused (a case), not counted
            elif kind == "death":
                with db.engine.begin() as conn:
                    conn.execute(text("update persons set death_date=:d where id=:p"),
                                 {"d": (day + timedelta(days=arg)).isoformat(), "p": pid})
            elif kind == "withdraw":
                with db.engine.begin() as conn:
                    conn.execute(text("update persons set death_date=null where id=:p"), {"p": pid})
            elif kind == "approve":
                with db.engine.connect() as conn:
                    ids = [r[0] for r in conn.execute(text(
                        "select id from entitlement_events where kind='back_pay' and needs_approval "
                        "and approved_by is null and voided_at is null"))]
                for i in ids:
                    pay.approve_resumption(i, SUP)
            else:
                month = month + arg
                first = pay.run(month, SUP)
                before = _counts(db)
                again = pay.run(month, SUP)  # the same month again: nothing new, the same answer
                assert _counts(db) == before
                assert again.as_json() == first.as_json()
                doc = pay.ledger(n, month, as_of=month.last_day())
                (ent,) = doc["entitlements"]
                assert ent["overpaid_unclaimed"] == 0
                # the recorded ledger itself (the JSON shows one settlement a month; paid can take two:
                # back-paid, then recovered, then the recovery cancelled)
                with db.engine.connect() as conn:
                    (entry,), _ = pay._plans(conn, month, month.first_day(), person_id=pid, fast=False)
                led = entry.ledger
                for row in ent["months"]:
                    m = Month.parse(row["month"])
                    if row["instructed"] is None:
                        continue
                    if row["due"] is True and not led.paid(m):
                        assert m == month or (led.pending is not None and m in led.pending.months), row
                    if row["due"] is False:
                        assert not led.paid(m), row
                with db.engine.connect() as conn:
                    rows = [json.loads(r[0])["months"] for r in conn.execute(text(
                        "select detail from entitlement_events where kind='back_pay' and voided_at is null "
                        "and (approved_by is not null or not needs_approval)"))]
                flat = [m for r in rows for m in r]
                assert len(flat) == len(set(flat)), "a month back-paid twice"
    finally:
        db.dispose()
