"""A payroll run's status cache keeps the maintained aggregates true (issues 20 and 22).

A run with 50 or more status changes writes them set-wise (db/ledger_repo.set_status through
db/aggregates.bulk_set_status, the triggers quiet): the coverage buckets and the entitlement clock
the dashboards and the outreach list read must still equal a count from scratch — suspended,
resumed and terminated entitlements each in their new status."""

from __future__ import annotations

from datetime import date as d

from sqlalchemy import text

from db import aggregates, clock_agg
from desktop.domain.months import Month
from desktop.services.payroll import PayrollService
from desktop.services.persons import PersonService
from desktop.services.settings import SettingsService

from scenario import ACTOR


def _statuses(db):
    with db.engine.connect() as conn:
        return dict(conn.execute(text("select status, count(*) from entitlements group by status")).fetchall())


def _true(db):
    with db.engine.connect() as conn:
        assert aggregates.maintained(conn) == aggregates.from_scratch(conn)
        assert clock_agg.maintained(conn) == clock_agg.from_scratch(conn)


def test_a_bulk_run_moves_every_entitlement_to_its_new_status_in_the_aggregates(db, roster):
    lapsed = [roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 1, 10), 1000)
              for _ in range(60)]
    covered = [roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2026, 1, 10), 1000)
               for _ in range(5)]
    roster.load(today=d(2026, 2, 1))
    pay = PayrollService(db, SettingsService(db))
    march = pay.run(Month(2026, 3), ACTOR)
    assert len(march.suspend) == 60 and _statuses(db) == {"suspended": 60, "active": 5}
    _true(db)
    people = PersonService(db)
    for n in lapsed[:55]:  # 55 come back: resumed set-wise too
        people.record_certification(people.show(n, d(2026, 3, 20)).id, d(2026, 3, 20), "counter", ACTOR,
                                    today=d(2026, 3, 20))
    with db.engine.begin() as conn:  # and the last five died in February: terminated
        conn.execute(text("update persons set death_date = '2026-02-15' where id_number in "
                          "(select value from json_each(:ns))"), {"ns": __import__("json").dumps(lapsed[55:])})
    april = pay.run(Month(2026, 4), ACTOR)
    assert len(april.resume) == 55 and len(april.terminate) == 5
    assert _statuses(db) == {"active": 60, "terminated": 5}
    _true(db)
    assert covered  # the five covered ones never changed
