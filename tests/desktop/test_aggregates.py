"""Maintained aggregates (issue 20, db/aggregates.py): after any sequence of writes to persons,
entitlements and certifications — through the repository functions the services call, the
payroll's status update, and raw statements like a sync pull's upserts — the triggers' tables
equal a count from scratch, and the readers built on them give the answers of the full scans."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db import aggregates, bulk
from db import ledger_repo as lrepo
from db import outreach_repo as orepo
from db import repositories as repo
from desktop.services.dashboards import _coverage_from_buckets, coverage_thresholds
from desktop.services.database import Database

COHORTS = ["enterprise_retiree", "enterprise_survivor", "resident_pension", "injury_recipient"]
STATUSES = ["active", "suspended", "terminated"]
METHODS = ["counter", "mobile_app", "legacy", "home_visit"]
DAY0 = date(2025, 6, 1)
NOW = datetime(2026, 1, 1)

_DB: dict[str, Database] = {}


def _db(tmp_path_factory) -> Database:
    if "db" not in _DB:
        _DB["db"] = Database.open(f"sqlite:///{tmp_path_factory.mktemp('agg') / 'a.sqlite'}")
    return _DB["db"]


@pytest.fixture(scope="module", autouse=True)
def _dispose():
    yield
    if "db" in _DB:
        _DB.pop("db").dispose()


def _clear(conn) -> None:
    for t in ("certifications", "entitlement_events", "recovery_cases", "entitlements", "persons"):
        conn.exec_driver_sql(f"DELETE FROM {t}")


idx = st.integers(0, 5)
day = st.integers(0, 500)
write = st.one_of(
    st.tuples(st.just("person"), st.booleans(), day),
    st.tuples(st.just("entitlement"), idx, st.sampled_from(COHORTS), day, st.sampled_from(STATUSES)),
    st.tuples(st.just("certify"), idx, day, st.sampled_from(["passed", "passed", "failed"]), st.sampled_from(METHODS)),
    st.tuples(st.just("recertify"), idx, day, st.sampled_from(["passed", "failed"]), idx),
    st.tuples(st.just("pull"), idx, day, st.sampled_from(["passed", "failed"]), st.sampled_from(METHODS)),
    st.tuples(st.just("uncertify"), idx),
    st.tuples(st.just("status"), idx, st.sampled_from(STATUSES)),
    st.tuples(st.just("restart"), idx, day, st.sampled_from(COHORTS)),
    st.tuples(st.just("drop_entitlement"), idx),
    st.tuples(st.just("death"), idx, st.one_of(st.none(), day)),
    st.tuples(st.just("drop_person"), idx),
    # several rows in one statement: with a low BULK_MIN these take the set-wise path
    st.tuples(st.just("bulk_certify"), st.lists(st.tuples(idx, day, st.sampled_from(["passed", "failed"])),
                                                min_size=1, max_size=6)),
    st.tuples(st.just("bulk_entitlements"), st.lists(st.tuples(idx, st.sampled_from(COHORTS), day),
                                                     min_size=1, max_size=6)),
    st.tuples(st.just("bulk_status"), st.lists(idx, min_size=1, max_size=6), st.sampled_from(STATUSES)),
)


def _iso(n: int) -> str:
    return (DAY0 + timedelta(days=n)).isoformat()


def _pick(conn, table: str, i: int) -> str | None:
    rows = [r[0] for r in conn.exec_driver_sql(f"SELECT id FROM {table} ORDER BY id")]
    return rows[i % len(rows)] if rows else None


def _apply(conn, step, seq: list[int]) -> None:
    kind = step[0]
    seq[0] += 1
    key = f"k{seq[0]:05d}"
    if kind == "person":
        _, dead, d = step
        bulk.bulk_insert(conn, repo.persons, [{
            "id": key, "id_number": f"N{key}", "name": "王", "residence": "local",
            "death_date": DAY0 + timedelta(days=d) if dead else None,
            "created_at": NOW, "updated_at": NOW}])
    elif kind == "entitlement":
        _, i, cohort, d, status = step
        pid = _pick(conn, "persons", i)
        if pid:
            conn.exec_driver_sql(
                "INSERT OR IGNORE INTO entitlements (id, person_id, cohort, start_date, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, '2026-01-01', '2026-01-01')", (key, pid, cohort, _iso(d), status))
    elif kind == "certify":  # the repository insert the counter, imports and forms use
        _, i, d, result, method = step
        pid = _pick(conn, "persons", i)
        if pid:
            repo.insert_certifications(conn, [{"id": key, "person_id": pid, "cert_date": DAY0 + timedelta(days=d),
                                               "method": method, "result": result,
                                               "created_at": NOW}])
    elif kind == "recertify":
        _, i, d, result, j = step
        cid, pid = _pick(conn, "certifications", i), _pick(conn, "persons", j)
        if cid and pid:
            conn.exec_driver_sql("UPDATE certifications SET cert_date = ?, result = ?, person_id = ? WHERE id = ?",
                                 (_iso(d), result, pid, cid))
    elif kind == "pull":  # a sync pull's upsert of a certification recorded elsewhere
        _, i, d, result, method = step
        cid = _pick(conn, "certifications", i)
        pid = _pick(conn, "persons", i)
        if pid:
            conn.exec_driver_sql(
                "INSERT INTO certifications (id, person_id, cert_date, method, result, created_at) "
                "VALUES (?, ?, ?, ?, ?, '2026-01-01') ON CONFLICT (id) DO UPDATE SET cert_date = excluded.cert_date, "
                "result = excluded.result, method = excluded.method", (cid or key, pid, _iso(d), method, result))
    elif kind == "uncertify":
        cid = _pick(conn, "certifications", step[1])
        if cid:
            conn.exec_driver_sql("DELETE FROM certifications WHERE id = ?", (cid,))
    elif kind == "status":  # the payroll run's status cache
        eid = _pick(conn, "entitlements", step[1])
        if eid:
            lrepo.set_status(conn, [(step[2], "2026-01", eid)], NOW)
    elif kind == "restart":
        _, i, d, cohort = step
        eid = _pick(conn, "entitlements", i)
        if eid:
            conn.exec_driver_sql("UPDATE OR IGNORE entitlements SET start_date = ?, cohort = ? WHERE id = ?",
                                 (_iso(d), cohort, eid))
    elif kind == "drop_entitlement":
        eid = _pick(conn, "entitlements", step[1])
        if eid:
            conn.exec_driver_sql("DELETE FROM entitlements WHERE id = ?", (eid,))
    elif kind == "death":
        _, i, d = step
        pid = _pick(conn, "persons", i)
        if pid:
            conn.exec_driver_sql("UPDATE persons SET death_date = ? WHERE id = ?",
                                 (None if d is None else _iso(d), pid))
    elif kind == "bulk_certify":  # the roster import's insert helper
        rows = []
        for n, (i, d, result) in enumerate(step[1]):
            pid = _pick(conn, "persons", i)
            if pid:
                rows.append((f"{key}-{n}", pid, _iso(d), None))
        bulk.insert_rows(conn, repo.certifications, ("id", "person_id", "cert_date", "evidence"), rows,
                         {"method": "legacy", "result": step[1][0][2], "created_at": "2026-01-01 00:00:00.000000"})
    elif kind == "bulk_entitlements":
        have = {tuple(r) for r in conn.exec_driver_sql("SELECT person_id, cohort FROM entitlements")}
        rows = []
        for n, (i, cohort, d) in enumerate(step[1]):
            pid = _pick(conn, "persons", i)
            if pid and (pid, cohort) not in have:
                have.add((pid, cohort))
                rows.append((f"{key}-{n}", pid, cohort, _iso(d), 1000))
        bulk.insert_rows(conn, repo.entitlements, ("id", "person_id", "cohort", "start_date", "monthly_amount_fen"),
                         rows, {"status": "active", "created_at": "2026-01-01 00:00:00.000000",
                                "updated_at": "2026-01-01 00:00:00.000000"})
    elif kind == "bulk_status":  # a payroll run's status cache
        ids = {_pick(conn, "entitlements", i) for i in step[1]} - {None}
        lrepo.set_status(conn, [(step[2], "2026-01", eid) for eid in sorted(ids)], NOW)
    elif kind == "drop_person":
        pid = _pick(conn, "persons", step[1])
        if pid:
            conn.exec_driver_sql("DELETE FROM certifications WHERE person_id = ?", (pid,))
            conn.exec_driver_sql("DELETE FROM entitlements WHERE person_id = ?", (pid,))
            conn.exec_driver_sql("DELETE FROM persons WHERE id = ?", (pid,))


# every example starts from a few people with entitlements and certifications (written through
# the same steps), so the random writes have something to change
start = st.lists(st.tuples(st.booleans(), st.sampled_from(COHORTS), day, st.sampled_from(STATUSES), day,
                           st.sampled_from(["passed", "failed"])), min_size=1, max_size=5).map(
    lambda people: [step for i, (dead, cohort, d, status, cd, result) in enumerate(people) for step in (
        ("person", dead, d), ("entitlement", i, cohort, d, status), ("certify", i, cd, result, "counter"))])


def _run(conn, setup, steps, check_each: bool) -> None:
    seq = [0]
    for s in setup:
        _apply(conn, s, seq)
    for s in steps:
        _apply(conn, s, seq)
        if check_each:
            assert aggregates.maintained(conn) == aggregates.from_scratch(conn), s


@pytest.fixture(params=["triggers", "set-wise"])
def bulk_min(request, monkeypatch):
    """Every write through the triggers, or every multi-row write through the set-wise path."""
    if request.param == "set-wise":
        monkeypatch.setattr(aggregates, "BULK_MIN", 1)
    return request.param


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(setup=start, steps=st.lists(write, min_size=1, max_size=30))
def test_aggregates_equal_a_count_from_scratch_after_any_writes(tmp_path_factory, bulk_min, setup, steps):
    db = _db(tmp_path_factory)
    with db.engine.begin() as conn:
        _clear(conn)
        assert aggregates.maintained(conn) == {t: set() for t in aggregates.TABLES}
        seq = [0]
        for s in setup:
            _apply(conn, s, seq)
        assert aggregates.maintained(conn) == aggregates.from_scratch(conn)
        assert not conn.exec_driver_sql("SELECT count(*) FROM agg_bulk").scalar()
        for s in steps:
            _apply(conn, s, seq)
            assert aggregates.maintained(conn) == aggregates.from_scratch(conn), s


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(setup=start, steps=st.lists(write, max_size=20), as_of=st.integers(0, 700), run_day=st.integers(0, 520))
def test_readers_on_the_aggregates_answer_as_the_full_scans(tmp_path_factory, setup, steps, as_of, run_day):
    db = _db(tmp_path_factory)
    with db.engine.begin() as conn:
        _clear(conn)
        _run(conn, setup, steps, check_each=False)
        # the payroll's scan: latest passed certification on or before the run day, per entitlement
        d = DAY0 + timedelta(days=run_day)
        fast = sorted(lrepo.stream_entitlements(conn, d))
        slow = sorted(tuple(r) for r in conn.exec_driver_sql(
            "SELECT e.id, e.person_id, e.cohort, e.start_date, e.monthly_amount_fen, "
            "(SELECT max(c.cert_date) FROM certifications c WHERE c.person_id = e.person_id "
            "AND c.result = 'passed' AND c.cert_date <= ?) FROM entitlements e", (d.isoformat(),)))
        assert fast == slow
        # the dashboard's coverage, whenever no passed certification is dated after the day
        on = DAY0 + timedelta(days=as_of)
        if (aggregates.latest_passed_date(conn) or "") <= on.isoformat():
            thresholds = coverage_thresholds(db.rule_table(), on)
            counts, stored = _coverage_from_buckets(aggregates.coverage_buckets(conn), thresholds)
            assert sorted(counts) == sorted(orepo.coverage_counts(conn, on, thresholds))
            assert sorted(stored) == sorted(orepo.status_counts(conn))
        since = on.replace(day=1)
        assert sorted(aggregates.cert_month_counts(conn, since.isoformat()[:7])) == sorted(
            orepo.certifications_by_month(conn, since))
