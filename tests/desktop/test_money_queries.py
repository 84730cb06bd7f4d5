"""Every query that counts certifications, and the results import, at their edges (issue 22).

A failed result (未通过) is never proof of life; a certification dated after the day asked about
does not count yet, one dated on it does; the latest passed one wins, not the first. Each query is
asked on SQLite's fast path and on the plain SQLAlchemy path that PostgreSQL (the central
database) takes — the latter by giving the same SQLite file a dialect name that is not "sqlite",
so the generic statements run here too — and a whole sequence of payroll runs must give the same
instructions on both paths.
"""

from __future__ import annotations

from datetime import date as d

import pytest
from sqlalchemy import text

from db import certification_queries as certq
from db import ledger_repo as lrepo
from desktop.domain.months import Month
from desktop.services.database import Database
from desktop.services.imports import RESULT_COLUMNS, ImportService
from desktop.services.payroll import PayrollService
from desktop.services.settings import SettingsService
from desktop.services.persons import PersonService
from desktop.errors import PermissionDenied
from desktop.platform.workstation import Actor

from scenario import ACTOR, Roster, write_csv

SUP = Actor("主管", "ws-test", "supervisor")


def certify(db, number, day, result="passed", method="counter", today=None):
    people = PersonService(db)
    pid = people.show(number, today or day).id
    people.record_certification(pid, day, method, ACTOR, result=result, today=today or day)
    return pid


def generic(db: Database) -> Database:
    """The same database through the plain SQLAlchemy statements (the non-SQLite path)."""
    db.engine.dialect.name = "generic"
    return db


@pytest.fixture
def people(db, roster):
    """a: passed 2025-03-15 (roster) and 2026-02-05, failed 2026-03-01 and 2026-03-10 (latest);
    b: only failed ones after the roster's; c: nothing but the roster's date; z: dead."""
    a = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="王桂兰")
    b = roster.add(roster.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 800, name="李德胜")
    c = roster.add(roster.person(), "resident_pension", d(2015, 1, 1), d(2025, 12, 31), 200, name="赵淑珍")
    z = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 12, 1), 1000, name="孙已故")
    roster.load(today=d(2026, 1, 31))
    today = d(2026, 3, 31)
    ids = {"a": certify(db, a, d(2026, 2, 5), today=today)}
    certify(db, a, d(2026, 3, 1), "failed", today=today)
    certify(db, a, d(2026, 3, 10), "failed", method="mobile_app", today=today)
    ids["b"] = certify(db, b, d(2026, 2, 1), "failed", today=today)
    certify(db, b, d(2026, 2, 20), "failed", today=today)
    ids["c"] = PersonService(db).show(c, today).id
    ids["z"] = PersonService(db).show(z, today).id
    with db.engine.begin() as conn:
        conn.execute(text("update persons set death_date='2026-02-15' where id=:p"), {"p": ids["z"]})
    return ids, {"a": a, "b": b, "c": c, "z": z}


def test_passed_dates_and_the_latest_passed_one(db, people):
    ids, _ = people
    a, b, c = ids["a"], ids["b"], ids["c"]
    with db.engine.connect() as conn:
        got = certq.passed_dates_for_persons(conn, [a, b, c], d(2026, 3, 31))
        assert got == {a: [d(2025, 3, 15), d(2026, 2, 5)], b: [d(2026, 1, 10)], c: [d(2025, 12, 31)]}
        assert certq.passed_dates_for_persons(conn, [a], d(2026, 2, 5)) == {a: [d(2025, 3, 15), d(2026, 2, 5)]}
        assert certq.passed_dates_for_persons(conn, [a], d(2026, 2, 4)) == {a: [d(2025, 3, 15)]}
        assert certq.passed_dates_for_persons(conn, [a, b], d(2025, 1, 1)) == {}
        assert certq.passed_dates_for_persons(conn, [], d(2026, 3, 31)) == {}
        last = certq.last_passed_by_person(conn, d(2026, 3, 31))
        assert last[a] == d(2026, 2, 5) and last[b] == d(2026, 1, 10) and last[c] == d(2025, 12, 31)
        assert certq.last_passed_by_person(conn, d(2026, 2, 5))[a] == d(2026, 2, 5)
        assert certq.last_passed_by_person(conn, d(2026, 2, 4))[a] == d(2025, 3, 15)
        assert b not in certq.last_passed_by_person(conn, d(2026, 1, 9))


def test_certification_keys_and_results_keep_failed_ones_apart(db, people):
    ids, _ = people
    a, b = ids["a"], ids["b"]
    with db.engine.connect() as conn:
        keys = certq.certification_keys_for_persons(conn, [a, b])
        assert (a, d(2026, 3, 1), "counter", "failed") in keys
        assert (a, d(2026, 3, 10), "mobile_app", "failed") in keys
        assert (a, d(2026, 2, 5), "counter", "passed") in keys
        assert (a, d(2025, 3, 15), "legacy", "passed") in keys
        assert {k[0] for k in keys} == {a, b} and len(keys) == 7
        assert certq.certification_keys_for_persons(conn, []) == set()
        results = sorted(certq.certification_results_for_persons(conn, [a]))
        assert results == [(a, "2025-03-15", "passed"), (a, "2026-02-05", "passed"),
                           (a, "2026-03-01", "failed"), (a, "2026-03-10", "failed")]
        assert certq.certification_results_for_persons(conn, []) == []
        listed = certq.certifications_of(conn, a)
        assert [(c["cert_date"], c["result"]) for c in listed] == [
            (d(2026, 3, 10), "failed"), (d(2026, 3, 1), "failed"), (d(2026, 2, 5), "passed"), (d(2025, 3, 15), "passed")]
        assert certq.dead_person_ids(conn) == {ids["z"]}
    with generic(db).engine.connect() as conn:
        assert sorted(certq.certification_results_for_persons(conn, [a])) == results
        assert certq.certification_results_for_persons(conn, []) == []


def test_the_payroll_queries_count_only_passed_results_up_to_the_day(db, people):
    ids, numbers = people
    a, b, c, z = ids["a"], ids["b"], ids["c"], ids["z"]

    def last_by_person(rows):
        return {r[1]: (str(r[-1])[:10] if r[-1] else None) for r in rows}

    expected = {a: "2026-02-05", b: "2026-01-10", c: "2025-12-31", z: "2025-12-01"}
    with db.engine.connect() as conn:
        fast = list(lrepo.stream_entitlements(conn, d(2026, 3, 31)))
        assert last_by_person(fast) == expected
        assert last_by_person(lrepo.stream_entitlements(conn, d(2026, 2, 4)))[a] == "2025-03-15"
        assert last_by_person(lrepo.stream_entitlements(conn, d(2026, 2, 5)))[a] == "2026-02-05"
        one = list(lrepo.stream_entitlements(conn, d(2026, 3, 31), a))
        assert len(one) == 1 and one[0][1] == a and str(one[0][-1]) == "2026-02-05"
        assert [tuple(r[:3]) for r in one] == [tuple(r[:3]) for r in fast if r[1] == a]
        by_id = {r[0]: r for r in fast}
        assert last_by_person(lrepo.entitlements_by_ids(conn, d(2026, 3, 31), sorted(by_id))) == expected
        assert lrepo.entitlements_by_ids(conn, d(2026, 3, 31), []) == []
        far = {"enterprise_retiree": "2099-01-01", "enterprise_survivor": "2026-01-11",
               "resident_pension": "2025-12-31"}
        lapsed = lrepo.lapsed_entitlements(conn, d(2026, 3, 31), far)
        # before the threshold: a and z (retirees, any date), b (2026-01-10 < 2026-01-11); c is on it
        assert sorted(last_by_person(lapsed)) == sorted([a, b, z])
        assert lrepo.death_dates(conn) == {z: d(2026, 2, 15)}
        assert lrepo.death_dates(conn, z) == {z: d(2026, 2, 15)} and lrepo.death_dates(conn, a) == {}
        assert lrepo.death_dates_of(conn, [a, z]) == {a: None, z: d(2026, 2, 15)}
        assert lrepo.entitlement_ids_of_persons(conn, [a, z]) == {r[0] for r in fast if r[1] in (a, z)}
    with generic(db).engine.connect() as conn:
        slow = list(lrepo.stream_entitlements(conn, d(2026, 3, 31)))
        assert last_by_person(slow) == expected
        assert sorted(tuple(map(str, r)) for r in slow) == sorted(tuple(map(str, r)) for r in fast)


def test_forms_due_list_and_person_view_ignore_failed_results(db, people):
    _, numbers = people
    view = PersonService(db).show(numbers["a"], d(2026, 3, 31))
    assert view.entitlements[0].last_certified == d(2026, 2, 5)
    view = PersonService(db).show(numbers["b"], d(2026, 3, 31))
    assert view.entitlements[0].last_certified == d(2026, 1, 10)
    assert view.entitlements[0].deadline == d(2026, 2, 10)


# --- the same instructions on both paths -------------------------------------------------------


def _scenario(tmp_path):
    db = Database.open(f"sqlite:///{tmp_path / 'a.sqlite'}")
    r = Roster(db, tmp_path)
    late = r.add(r.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="王桂兰")
    dead = r.add(r.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 12, 1), 1200, name="孙已故")
    surv = r.add(r.person(), "enterprise_survivor", d(2020, 1, 1), d(2026, 1, 10), 800, name="李德胜")
    long = r.add(r.person(), "resident_pension", d(2015, 1, 1), d(2024, 6, 30), 200, name="赵淑珍")
    none = r.add(r.person(), "injury_recipient", d(2011, 3, 1), None, 1500, name="钱德")
    r.load(today=d(2026, 1, 31))
    return db, {"late": late, "dead": dead, "surv": surv, "long": long, "none": none}


class _Reads:
    """The database's reads through the plain SQLAlchemy statements, inside ``with``."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.engine.dialect.name = "generic"
        return self.db

    def __exit__(self, *exc):
        self.db.engine.dialect.name = "sqlite"


def _strip(doc):
    if isinstance(doc, dict):
        return {k: _strip(v) for k, v in doc.items() if k != "case_id"}
    if isinstance(doc, list):
        return [_strip(v) for v in doc]
    return doc


def test_sqlite_fast_path_and_generic_path_read_the_same_ledger(tmp_path):
    db, n = _scenario(tmp_path)
    pay = PayrollService(db, SettingsService(db))
    steps = {
        "2026-02": [],
        "2026-03": [("certify", "surv", d(2026, 2, 20), "failed")],
        "2026-04": [("certify", "late", d(2026, 3, 14), "passed"), ("death", "dead", d(2026, 2, 10))],
        "2026-05": [("certify", "surv", d(2026, 4, 2), "passed")],
        "2026-06": [("death", "dead", d(2026, 4, 20))],
        "2026-07": [("certify", "long", d(2026, 6, 1), "passed"), ("approve",)],
        "2026-08": [("approve",)],
    }
    seen = set()
    for month, facts in steps.items():
        m = Month.parse(month)
        for f in facts:
            if f[0] == "certify":
                certify(db, n[f[1]], f[2], f[3], today=m.first_day())
            elif f[0] == "death":
                with db.engine.begin() as conn:
                    conn.execute(text("update persons set death_date=:d where id_number=:n"),
                                 {"d": f[2].isoformat(), "n": n[f[1]]})
            else:
                with db.engine.connect() as conn:
                    pending = conn.execute(text("select id from entitlement_events where kind='back_pay' and "
                                                "needs_approval and approved_by is null and voided_at is null"
                                                )).scalars().all()
                for event_id in pending:
                    assert pay.approve_resumption(event_id, SUP)
        with db.engine.connect() as conn:
            fast = _strip(pay.compute(m, conn).as_json())
        with _Reads(db), db.engine.connect() as conn:
            slow = _strip(pay.compute(m, conn).as_json())
        assert fast == slow, month
        views = [_strip(pay.ledger(key, m, m.last_day())) for key in n.values()]
        with _Reads(db):
            assert [_strip(pay.ledger(key, m, m.last_day())) for key in n.values()] == views, month
        recorded = pay.run(m, ACTOR).as_json()
        seen |= {k for k in ("suspend", "resume", "terminate", "recover", "corrections", "go_live_guard")
                 if recorded[k]}
    assert seen == {"suspend", "resume", "terminate", "recover", "corrections", "go_live_guard"}
    db.dispose()


# --- the results import -------------------------------------------------------------------------


def test_results_import_edges(db, roster, tmp_path):
    a = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="王桂兰")
    z = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="孙已故")
    roster.load(today=d(2026, 1, 31))
    with db.engine.begin() as conn:
        conn.execute(text("update persons set death_date='2026-02-15' where id_number=:n"), {"n": z})
    today = d(2026, 3, 1)
    rows = [
        [a, "王桂兰", "2026-02-01", "手机认证", "未通过"],  # 2 failed: imported as failed
        [a, "王桂兰", "2026-02-01", "手机认证", "通过"],  # 3 same day, passed: a different fact
        [a, "王桂兰", "2026-02-01", "信息比对", "通过"],  # 4 same day, other method: a different fact
        [a, "王桂兰", "2026-03-01", "手机认证", "通过"],  # 5 today: accepted
        [z, "孙已故", "2026-02-15", "信息比对", "通过"],  # 6 on the day of death: proof of life
        [z, "孙已故", "2026-02-16", "手机认证", "通过"],  # 7 after the death: refused, a case
        [z, "孙已故", "2026-02-17", "手机认证", "未通过"],  # 8 a failed one after the death: kept as failed
        [a, "王桂兰", "", "手机认证", "通过"],  # 9 no date
        [a, "王桂兰", "2026-03-02", "手机认证", "通过"],  # 10 tomorrow
        [a, "王桂兰", "2026-02-01", "手机认证", "通过"],  # 11 repeats line 3
    ]
    path = write_csv(tmp_path / "r.csv", RESULT_COLUMNS, rows)
    dry = ImportService(db).import_results(path, ACTOR, dry_run=True, today=today)
    assert dry.imported == 6
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from certifications where method != 'legacy'")).scalar() == 0
    rep = ImportService(db).import_results(path, ACTOR, today=today)
    assert rep.imported == 6 and rep.unchanged == 0
    assert [(r["line"], r["reason"][:6]) for r in rep.rejected] == [
        (7, "认证日期晚于"), (9, "认证日期为空"), (10, "认证日期晚于"), (11, "与第3行重复")]
    with db.engine.connect() as conn:
        got = conn.execute(text(
            "select p.id_number, c.cert_date, c.method, c.result, c.operator, c.workstation, c.batch_id is not null, "
            "c.evidence from certifications c join persons p on p.id = c.person_id where c.method != 'legacy' "
            "order by p.id_number, c.cert_date, c.method, c.result")).fetchall()
        cases = conn.execute(text("select kind, person_id, detail from sync_conflicts")).fetchall()
        outbox = conn.execute(text("select count(*) from outbox where entity = 'certification'")).scalar()
        batch = conn.execute(text("select kind, filename from import_batches")).fetchall()
    mine = sorted(x for x in got if x[0] == a)
    assert [(str(x[1]), x[2], x[3]) for x in mine] == [
        ("2026-02-01", "data_match", "passed"), ("2026-02-01", "mobile_app", "failed"),
        ("2026-02-01", "mobile_app", "passed"), ("2026-03-01", "mobile_app", "passed")]
    assert all(x[4:7] == ("tester", "ws-test", 1) for x in got)
    assert '"line": 5' in mine[-1][7] and '"source": "r.csv"' in mine[-1][7]
    theirs = sorted((str(x[1]), x[2], x[3]) for x in got if x[0] == z)
    assert theirs == [("2026-02-15", "data_match", "passed"), ("2026-02-17", "mobile_app", "failed")]
    (case,) = cases
    assert case[0] == "certified_after_death" and '"cert_date": "2026-02-16"' in case[2]
    assert outbox >= 6 and [tuple(b) for b in batch][-1] == ("results", "r.csv")
    again = ImportService(db).import_results(path, ACTOR, today=today)
    assert again.imported == 0 and again.unchanged == 6
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from sync_conflicts")).scalar() == 1  # no second case
    assert PersonService(db).show(a, today).entitlements[0].last_certified == d(2026, 3, 1)


def test_results_import_refuses_bad_cells_with_their_line(db, roster, tmp_path):
    a = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="王桂兰")
    roster.load(today=d(2026, 1, 31))
    rows = [
        ["152202195003019999", "王桂兰", "2026-02-01", "手机认证", "通过"],  # 2 valid, not on the roster
        [a, "", "2026-02-01", "手机认证", "通过"],  # 3 no name
        [a, "王桂兰", "2026-02-30", "手机认证", "通过"],  # 4 no such day
        [a, "王桂兰", "2026-02-01", "", "通过"],  # 5 no method
        [a, "王桂兰", "2026-02-01", "手机认证", ""],  # 6 no result
        [a, "王小兰", "2026-02-01", "手机认证", "通过"],  # 7 another name
        [a, "王桂兰", "2026-02-01", "现场认证现场认证现场认证", "通过"],  # 8 not a results method
        [a, "王桂兰", "2026-02-01", "手机认证", "成功成功成功成功成功成功"],  # 9 not a result
        [a, "王桂兰", "", "手机认证", "通过"],  # 10 no date
        [a, "王桂兰", "2026-03-02", "手机认证", "通过"],  # 11 after today
        ["152202195003010021", "王桂兰", "2026-02-01", "手机认证", "通过"],  # 12 check digit
    ]
    rep = ImportService(db).import_results(write_csv(tmp_path / "r.csv", RESULT_COLUMNS, rows), ACTOR,
                                           today=d(2026, 3, 1))
    assert rep.imported == 0 and rep.kind == "results" and rep.dry_run is False
    assert {r["line"]: r["reason"] for r in rep.rejected} == {
        2: "系统中没有该身份号码的待遇领取人员",
        3: "姓名为空",
        4: "认证日期不存在：2026-02-30",
        5: "认证方式应为“手机认证”或“信息比对”：（空）",
        6: "认证结果应为“通过”或“未通过”：（空）",
        7: "姓名与身份号码不符",
        8: "认证方式应为“手机认证”或“信息比对”：现场认证现场认证现场",  # the first 10 characters
        9: "认证结果应为“通过”或“未通过”：成功成功成功成功成功",
        10: "认证日期为空",
        11: "认证日期晚于今天：2026-03-02",
        12: "公民身份号码校验码错误",
    }
    assert "no_last_certified" not in rep.as_json()


def test_results_import_checks_birth_dates_against_its_own_today(db, roster, tmp_path):
    from desktop.domain.idnumber import make_number

    young = make_number("152202", d(2001, 5, 1), 1)
    rows = [[young, "王桂兰", "1999-12-01", "手机认证", "通过"]]
    rep = ImportService(db).import_results(write_csv(tmp_path / "r.csv", RESULT_COLUMNS, rows), ACTOR,
                                           today=d(2000, 1, 1))
    assert [r["reason"] for r in rep.rejected] == ["公民身份号码中的出生日期晚于今天"]


def test_results_import_without_a_date_uses_today_and_needs_a_senior_role(db, roster, tmp_path):
    a = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="王桂兰")
    roster.load(today=d(2026, 1, 31))
    path = write_csv(tmp_path / "r.csv", RESULT_COLUMNS, [[a, "王桂兰", "2026-02-01", "手机认证", "通过"],
                                                          [a, "王桂兰", "2999-01-01", "手机认证", "通过"]])
    with pytest.raises(PermissionDenied):
        ImportService(db).import_results(path, Actor("张敏", "ws-test", "clerk"))
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from audit_log where action='permission.denied'")).scalar() == 1
    rep = ImportService(db).import_results(path, ACTOR)
    assert rep.imported == 1 and [r["line"] for r in rep.rejected] == [3]


def test_an_unchanged_row_does_not_stop_the_rows_after_it(db, roster, tmp_path):
    a = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="王桂兰")
    roster.load(today=d(2026, 1, 31))
    first = [[a, "王桂兰", "2026-02-01", "手机认证", "通过"]]
    ImportService(db).import_results(write_csv(tmp_path / "1.csv", RESULT_COLUMNS, first), ACTOR, today=d(2026, 3, 1))
    both = first + [[a, "王桂兰", "2026-02-20", "信息比对", "通过"]]
    rep = ImportService(db).import_results(write_csv(tmp_path / "2.csv", RESULT_COLUMNS, both), ACTOR,
                                           today=d(2026, 3, 1))
    assert (rep.unchanged, rep.imported) == (1, 1)


def test_a_certification_after_death_opens_one_case_with_what_a_supervisor_needs(db, roster, tmp_path):
    z = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="孙已故")
    roster.load(today=d(2026, 1, 31))
    with db.engine.begin() as conn:
        conn.execute(text("update persons set death_date='2026-02-15' where id_number=:n"), {"n": z})
    rows = [[z, "孙已故", "2026-02-16", "信息比对", "通过"]]
    rep = ImportService(db).import_results(write_csv(tmp_path / "after.csv", RESULT_COLUMNS, rows), ACTOR,
                                           today=d(2026, 3, 1))
    assert rep.rejected == [{"line": 2, "reason": "认证日期晚于已登记的死亡日期（疑似冒领），已转主管核查"}]
    with db.engine.connect() as conn:
        (kind, entity, person_id, detail), = conn.execute(text(
            "select kind, entity, person_id, detail from sync_conflicts")).fetchall()
        pid = conn.execute(text("select id from persons where id_number=:n"), {"n": z}).scalar()
        assert conn.execute(text("select count(*) from certifications where method='data_match'")).scalar() == 0
    assert (kind, entity, person_id) == ("certified_after_death", "person", pid)
    import json

    assert json.loads(detail) == {"cert_date": "2026-02-16", "death_date": "2026-02-15", "method": "data_match",
                                  "certified_by": "tester", "certified_at": "ws-test", "source": "after.csv",
                                  "line": 2}


def test_results_import_dry_runs_and_cases_per_person_and_date(db, roster, tmp_path):
    a = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="王桂兰")
    z = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="孙已故")
    y = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="周已故")
    roster.load(today=d(2026, 1, 31))
    deaths = write_csv(tmp_path / "deaths.csv", ["公民身份号码", "姓名", "死亡日期", "来源"],
                       [[z, "孙已故", "2026-02-15", "民政"], [y, "周已故", "2026-02-15", "民政"]])
    dry = ImportService(db).import_results(deaths, ACTOR, dry_run=True, today=d(2026, 3, 1))
    assert dry.dry_run is True and dry.kind == "deaths" and dry.imported == 2
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from persons where death_date is not null")).scalar() == 0
    ImportService(db).import_results(deaths, ACTOR, today=d(2026, 3, 1))
    rows = [[z, "孙已故", "2026-02-16", "手机认证", "通过"], [z, "孙已故", "2026-02-17", "手机认证", "通过"],
            [y, "周已故", "2026-02-16", "手机认证", "通过"], [a, "王桂兰", "2026-02-16", "手机认证", "通过"]]
    path = write_csv(tmp_path / "认证结果.csv", RESULT_COLUMNS, rows)
    dry = ImportService(db).import_results(path, ACTOR, dry_run=True, today=d(2026, 3, 1))
    assert dry.dry_run is True and dry.kind == "results" and dry.imported == 1
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from sync_conflicts")).scalar() == 0
    ImportService(db).import_results(path, ACTOR, today=d(2026, 3, 1))
    with db.engine.connect() as conn:
        cases = conn.execute(text("select person_id, detail from sync_conflicts")).fetchall()
        (evidence,) = conn.execute(text("select evidence from certifications where method='mobile_app'")).scalars()
    assert len(cases) == 3  # one per person and date
    assert '"source": "认证结果.csv"' in evidence  # readable, not \\u-escaped


def test_chunked_id_lists_return_each_row_once(db, people):
    ids, _ = people
    with db.engine.connect() as conn:
        rows = list(lrepo.stream_entitlements(conn, d(2026, 3, 31)))
        by_ids = lrepo.entitlements_by_ids(conn, d(2026, 3, 31), [r[0] for r in rows])
        assert len(by_ids) == len(rows) == 4
        assert sorted(r[0] for r in by_ids) == sorted(r[0] for r in rows)


def test_id_lists_longer_than_one_chunk_lose_and_repeat_nothing(db, people):
    with db.engine.connect() as conn:
        rows = sorted(r[0] for r in lrepo.stream_entitlements(conn, d(2026, 3, 31)))
        # four real ids at the first and last positions of each 50,000-id chunk, unknown ids between
        ids = [f"none-{k:06d}" for k in range(100_002)]
        ids[0], ids[49_999], ids[50_000], ids[100_001] = rows
        got = lrepo.entitlements_by_ids(conn, d(2026, 3, 31), ids)
        assert sorted(r[0] for r in got) == rows


def test_a_persons_certifications_newest_first_and_the_later_entry_first_on_one_day(db, roster):
    a = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 1000, name="王桂兰")
    roster.load(today=d(2026, 1, 31))
    pid = certify(db, a, d(2026, 3, 1), "failed", today=d(2026, 3, 31))
    certify(db, a, d(2026, 3, 1), "passed", today=d(2026, 3, 31))  # the same day, entered later
    certify(db, a, d(2026, 2, 1), "passed", today=d(2026, 3, 31))  # an earlier date, entered last
    with db.engine.connect() as conn:
        listed = [(c["cert_date"], c["result"]) for c in certq.certifications_of(conn, pid)]
    assert listed == [(d(2026, 3, 1), "passed"), (d(2026, 3, 1), "failed"), (d(2026, 2, 1), "passed"),
                      (d(2025, 3, 15), "passed")]


def test_the_status_cache_written_through_the_generic_statement(db, people):
    from datetime import datetime

    ids, _ = people
    with db.engine.connect() as conn:
        ents = {r[1]: r[0] for r in lrepo.stream_entitlements(conn, d(2026, 3, 31))}
    with _Reads(db), db.engine.begin() as conn:
        lrepo.set_status(conn, [("suspended", "2026-04", ents[ids["a"]]), ("terminated", "2026-05", ents[ids["z"]])],
                         datetime(2026, 5, 1, 8, 0))
        lrepo.set_status(conn, [], datetime(2026, 5, 1, 8, 0))
    with db.engine.connect() as conn:
        got = dict(conn.execute(text("select person_id, status || ' ' || coalesce(status_since, '') || ' ' || "
                                     "coalesce(updated_at, '') from entitlements")).fetchall())
    assert got[ids["a"]].startswith("suspended 2026-04 2026-05-01 08:00")
    assert got[ids["z"]].startswith("terminated 2026-05 2026-05-01 08:00")
    assert not got[ids["b"]].startswith(("suspended", "terminated"))
