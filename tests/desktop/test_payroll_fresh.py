"""The set-wise path of a payroll run (issue 20: desktop/services/payroll_fresh.py, db/ledger_bulk.py)
records and answers exactly what the per-entitlement ledger would.

Two real SQLite files get the same roster and the same random sequence of facts (late
certifications, deaths, withdrawn deaths) and runs; one runs with the set-wise path, the other
with every entitlement through :func:`desktop.domain.ledger.plan` (``set_wise = False``). After
every run: the same answer, the same instructions, statuses and sync queue (by ID number and
cohort — the keys differ between the files), and the maintained aggregates and clock equal to a
count from scratch.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from db import aggregates, clock_agg, journal
from db import ids as db_ids
from desktop.domain.months import Month
from desktop.errors import UserFacingError
from desktop.platform.workstation import Actor
from desktop.services.database import Database
from desktop.services import payroll as payroll_module
from desktop.services.payroll import PayrollService
from desktop.services.persons import PersonService
from desktop.services.settings import SettingsService
from scenario import Roster

SUP = Actor("主管", "ws-test", "supervisor")
COHORTS = ["enterprise_retiree", "enterprise_survivor", "injury_recipient"]

step = st.one_of(
    st.tuples(st.just("run"), st.sampled_from([0, 1, 1, 2, 5])),
    st.tuples(st.just("certify"), st.integers(0, 10_000), st.integers(-400, 40)),
    st.tuples(st.just("death"), st.integers(0, 10_000), st.integers(-300, 20)),
    st.tuples(st.just("withdraw"), st.integers(0, 10_000)),
)


def _roster(db, tmp, seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    roster = Roster(db, tmp)
    numbers = []
    for _ in range(n):
        number = roster.person()
        start = date(2010, 1, 1) + timedelta(days=rng.randint(0, 5400))
        # many share a last date (groups), some have none on file (the go-live guard), some start late
        last = rng.choice([None, date(2025, 3, 1), date(2025, 6, 15)] + [date(2024, 12, 1) + timedelta(days=rng.randint(0, 450))] * 4)
        if rng.random() < 0.05:
            start = date(2026, rng.randint(3, 9), 1)
        for cohort in rng.sample(COHORTS, rng.choice([1, 1, 1, 2])):
            on_file = None if last is None or start > date(2026, 3, 1) else max(last, start)
            roster.add(number, cohort, start, on_file, 1000 + rng.randint(0, 3) * 250)
        numbers.append(number)
    roster.load(today=date(2026, 3, 1))
    return numbers


def _state(db) -> dict:
    """Everything a run wrote, by (ID number, cohort) instead of keys."""
    with db.engine.connect() as conn:
        who = {eid: (num, cohort) for eid, num, cohort in conn.execute(text(
            "select e.id, p.id_number, e.cohort from entitlements e join persons p on p.id = e.person_id"))}
        events = {}
        for r in conn.execute(text("select id, entitlement_id, kind, payroll_month, effective_month, detail, "
                                   "needs_approval, approved_by, voided_at is null, operator from entitlement_events")):
            detail = {k: v for k, v in json.loads(r[5] or "{}").items() if k != "case_id"}  # a key: differs
            events[r[0]] = (who[r[1]], *r[2:5], json.dumps(detail, sort_keys=True), *r[6:])
        ents = Counter((who[r[0]], r[1], r[2]) for r in conn.execute(text(
            "select id, status, status_since from entitlements")))
        queue = Counter()
        for entity, key in journal.queued(conn):
            if entity == "entitlement_event":
                queue[(entity, events[key])] += 1
            elif entity == "entitlement":
                queue[(entity, who[key])] += 1
            else:
                queue[(entity,)] += 1
        audit = [json.loads(d or "null") for (d,) in conn.execute(text(
            "select detail from audit_log where action = 'payroll.instructions' order by rowid"))]
        assert aggregates.maintained(conn) == aggregates.from_scratch(conn)
        assert clock_agg.maintained(conn) == clock_agg.from_scratch(conn)
    return {"events": Counter(events.values()), "entitlements": ents, "queue": queue, "audit": audit}


def _answer(result) -> dict:
    """The answer without keys (they differ between the files), in its own order."""
    doc = result.as_json()
    for key in ("suspend", "resume", "terminate", "recover", "corrections", "go_live_guard"):
        doc[key] = [json.dumps({k: v for k, v in item.items() if k not in ("entitlement_id", "person_id", "case_id")},
                               ensure_ascii=False, sort_keys=True) for item in doc[key]]
    return doc


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 1000), size=st.sampled_from([6, 30, 70]), steps=st.lists(step, min_size=2, max_size=7))
@example(seed=1, size=70, steps=[("run", 0), ("run", 5), ("certify", 3, -10), ("death", 7, -30), ("run", 1),
                                 ("withdraw", 7), ("run", 1)])
# a death recorded ahead of the run day (not yet known to the run) for people among lapsed ones:
# ledgered apart from the set-wise group both ways, answered in the same place
@example(seed=3, size=30, steps=[("death", 5, 25), ("death", 11, 25), ("death", 17, 25), ("run", 0)])
def test_set_wise_run_records_and_answers_like_the_ledger(tmp_path_factory, seed, size, steps):
    dbs, pays, people, numbers = [], [], [], []
    for set_wise in (True, False):
        tmp = tmp_path_factory.mktemp("fresh")
        db = Database.open(f"sqlite:///{tmp / 'p.sqlite'}")
        dbs.append(db)
        numbers = _roster(db, tmp, seed, size)
        pay = PayrollService(db, SettingsService(db))
        pay.set_wise = set_wise
        pays.append(pay)
        people.append(PersonService(db))
    try:
        month = Month(2026, 3)
        for kind, *args in steps + [("run", 1)]:
            day = month.first_day()
            for db, pay, ps in zip(dbs, pays, people):
                if kind == "run":
                    continue
                number = numbers[args[0] % len(numbers)]
                pid = ps.show(number, day).id
                if kind == "certify":
                    try:
                        ps.record_certification(pid, day + timedelta(days=args[1]), "mobile_app", SUP,
                                                today=day + timedelta(days=60))
                    except UserFacingError:
                        pass
                elif kind == "death":
                    with db.engine.begin() as conn:
                        conn.execute(text("update persons set death_date=:d where id=:p"),
                                     {"d": (day + timedelta(days=args[1])).isoformat(), "p": pid})
                else:
                    with db.engine.begin() as conn:
                        conn.execute(text("update persons set death_date=null where id=:p"), {"p": pid})
            if kind != "run":
                continue
            month = month + args[0]
            answers = [_answer(pay.run(month, SUP)) for pay in pays]
            assert answers[0] == answers[1]  # the same items in the same order
            with dbs[0].engine.connect() as conn:  # a forecast of the next month: the same both ways
                forecasts = [_answer(pay.compute(month + 1, conn)) for pay in pays[:1]]
            with dbs[1].engine.connect() as conn:
                forecasts.append(_answer(pays[1].compute(month + 1, conn)))
            assert forecasts[0] == forecasts[1]
            states = [_state(db) for db in dbs]
            assert states[0] == states[1]
            # read back: the recorded month answers the same again, in the same order as first given
            first = pays[0].run(month, SUP, record=False)
            assert _answer(first) == answers[0]
    finally:
        for db in dbs:
            db.dispose()


def test_a_go_live_month_is_written_set_wise_in_scan_order(tmp_path, monkeypatch):
    """Enough lapsed entitlements for the set-wise aggregates (≥ 50): the suspensions' keys are
    time-ordered in the order of the answer, the re-run answers in the same order, and the sync
    queue holds them in that order (bulk entries of 7 here, so several, the last one short)."""
    monkeypatch.setattr(journal, "BULK_ITEMS", 7)
    monkeypatch.setattr(payroll_module, "BULK_RUN", 1)  # the commit of a big run (checkpoint after it)
    db = Database.open(f"sqlite:///{tmp_path / 'g.sqlite'}")
    roster = Roster(db, tmp_path)
    for k in range(120):
        roster.add(roster.person(), COHORTS[k % 3], date(2015, 1, 1), date(2024, 1, 1) + timedelta(days=k * 3), 1500)
    roster.load(today=date(2026, 3, 1))
    pay = PayrollService(db, SettingsService(db))
    first = pay.run(Month(2026, 12), SUP)
    assert len(first.suspend) > 100
    with db.engine.connect() as conn:
        keys = [r[0] for r in conn.execute(text(
            "select id from entitlement_events where payroll_month = '2026-12' order by id"))]
        queued = [k for entity, k in journal.queued(conn) if entity == "entitlement_event"]
        order = [r[0] for r in conn.execute(text(
            "select entitlement_id from entitlement_events where payroll_month = '2026-12' order by id"))]
        assert aggregates.maintained(conn) == aggregates.from_scratch(conn)
        assert clock_agg.maintained(conn) == clock_agg.from_scratch(conn)
        entries = conn.execute(text("select entity_id, payload, item_count from outbox "
                                    "where entity = 'entitlement_event' order by seq")).all()
        suspended = [r[0] for r in conn.execute(text(
            "select id from entitlements where status = 'suspended' order by id"))]
        queued_ents = [k for entity, k in journal.queued(conn) if entity == "entitlement"]
    assert [len(json.loads(p)) for _, p, _ in entries] == [7] * (len(keys) // 7) + ([len(keys) % 7] if len(keys) % 7 else [])
    assert all(first == json.loads(p)[0] and n == len(json.loads(p)) for first, p, n in entries)
    assert queued_ents[-len(order):] == order and sorted(order) == suspended
    assert queued == keys and len(set(keys)) == len(keys)
    assert [s["entitlement_id"] for s in first.suspend] == order
    again = pay.run(Month(2026, 12), SUP)
    assert again.as_json() == first.as_json()
    db.dispose()


def test_a_reserved_key_block_reads_like_new_ids(tmp_path, monkeypatch):
    """SQL writes the keys of a reserved block: the same text new_ids gives, later than every key
    made before — also when the block would straddle the upper counter bits."""
    import sqlite3

    con = sqlite3.connect(":memory:")
    for near_edge in (False, True):
        before = db_ids.new_id()
        if near_edge:
            monkeypatch.setattr(db_ids, "_counter", (db_ids._counter | ((1 << 48) - 1)) - 2)
        prefix, low = db_ids.reserve_block(5)
        got = [con.execute(f"select {db_ids.block_key_sql(prefix, low, str(k))}").fetchone()[0] for k in range(5)]
        after = db_ids.new_id()
        assert before < got[0] < got[1] < got[2] < got[3] < got[4] < after
        assert {len(k) for k in got} == {36} and len({k[:-12] for k in got}) == 1
        value = int(got[0].replace("-", ""), 16)
        counter = (((value >> 64) & 0xFFF) << 62) | (value & ((1 << 62) - 1))
        assert db_ids._format_ids(value >> 80, counter, 5) == got
        assert (counter & ((1 << 48) - 1)) + 4 <= (1 << 48) - 1


def _lapsed_roster(db, tmp_path, n: int) -> None:
    roster = Roster(db, tmp_path)
    for k in range(n):
        roster.add(roster.person(), COHORTS[k % 3], date(2015, 1, 1), date(2024, 1, 1) + timedelta(days=k * 3), 1500)
    roster.load(today=date(2026, 3, 1))


def test_a_run_leaves_no_staged_rows_on_the_pooled_connection(tmp_path):
    """The run's temporary tables hold personal data: emptied when the run and a forecast end (the
    pool hands the same connection out again)."""
    db = Database.open(f"sqlite:///{tmp_path / 't.sqlite'}")
    _lapsed_roster(db, tmp_path, 60)
    pay = PayrollService(db, SettingsService(db))
    assert pay.run(Month(2026, 12), SUP).suspend
    with db.engine.connect() as conn:
        assert len(pay.compute(Month(2027, 1), conn).suspend) >= 0
    with db.engine.connect() as conn:
        left = {t: conn.exec_driver_sql(f"select count(*) from temp.{t}").scalar()
                for t in ("run_lapsed", "run_plan", "run_fresh", "ledger_want")}
    assert left == {"run_lapsed": 0, "run_plan": 0, "run_fresh": 0, "ledger_want": 0}
    db.dispose()


def test_another_database_takes_the_per_entitlement_path(tmp_path):
    """Not SQLite (the dialect renamed, as test_money_queries does): nothing is staged (no
    temporary table is touched), and the forecast answers the same as on SQLite."""
    db = Database.open(f"sqlite:///{tmp_path / 'g.sqlite'}")
    _lapsed_roster(db, tmp_path, 60)
    pay = PayrollService(db, SettingsService(db))
    db.engine.dialect.name = "generic"
    try:
        with db.engine.connect() as conn:
            generic = pay.compute(Month(2026, 12), conn).as_json()
            tables = conn.exec_driver_sql("select name from sqlite_temp_master").scalars().all()
    finally:
        db.engine.dialect.name = "sqlite"
    assert not {"run_lapsed", "run_fresh"} & set(tables)
    with db.engine.connect() as conn:
        assert generic == pay.compute(Month(2026, 12), conn).as_json() and generic["suspend"]
    db.dispose()


def test_bulk_entries_of_a_run_are_exactly_full(tmp_path, monkeypatch):
    """As many sync-queue entries as full groups when the count divides evenly (no empty last one)."""
    db = Database.open(f"sqlite:///{tmp_path / 'q.sqlite'}")
    _lapsed_roster(db, tmp_path, 60)
    pay = PayrollService(db, SettingsService(db))
    n = len(pay.run(Month(2026, 12), SUP, record=False).suspend)
    items = next(k for k in range(2, n + 1) if n % k == 0)
    monkeypatch.setattr(journal, "BULK_ITEMS", items)
    pay.run(Month(2026, 12), SUP)
    with db.engine.connect() as conn:
        sizes = [r[0] for r in conn.execute(text(
            "select item_count from outbox where entity = 'entitlement_event' order by seq"))]
    assert sizes == [items] * (n // items)
    db.dispose()


def test_the_answer_merges_back_pay_into_each_resumption():
    """A back pay with no resumption in the run (an approved one) before another entitlement's
    resumption with back pay: the later resumption still shows its months and amount."""
    from desktop.services.payroll_answer import assemble

    month = Month(2026, 12)
    records = [
        ("e1", "p1", "1", "甲", "enterprise_retiree", "back_pay", {"months": ["2025-01"], "amount": 100.0}, False),
        ("e2", "p2", "2", "乙", "enterprise_retiree", "resume", {"resume_from": "2026-12", "back_pay_months": ["2026-10"]}, False),
        ("e2", "p2", "2", "乙", "enterprise_retiree", "back_pay", {"months": ["2026-10", "2026-11"], "amount": 250.5}, False),
    ]
    result = assemble(month, date(2026, 12, 5), records, [], {})
    assert [(r["entitlement_id"], r["back_pay_months"], r["back_pay_amount"]) for r in result.resume] == [
        ("e2", ["2026-10", "2026-11"], 250.5)]
    assert [c["entitlement_id"] for c in result.corrections] == ["e1", "e2"]
