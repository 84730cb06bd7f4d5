"""The maintained clock (issue 20, db/clock_agg.py, revision 0012): its SQL deadline is
``deadline_for`` for every rule kind, and after any writes — the repository paths, raw
statements, bulk paths and edits of the rule table — ``entitlement_clock`` equals a computation
from scratch (and the 0011 aggregates stay right beside it)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_aggregates import _apply, _clear, _db, _dispose, bulk_min, start, write  # noqa: F401  (fixtures)

from db import aggregates, clock_agg
from desktop.domain.months import Month
from desktop.domain.rules import CycleRule, deadline_for

rules = st.one_of(
    st.builds(CycleRule, st.just("c"), st.just("rolling_months"), st.integers(1, 36), st.just(30), st.integers(0, 3)),
    st.builds(CycleRule, st.just("c"), st.just("rolling_days"), st.integers(1, 800), st.just(30), st.integers(0, 3)),
    st.builds(CycleRule, st.just("c"), st.just("calendar_windows"), st.sampled_from([1, 2, 3, 4, 6, 12]), st.just(30),
              st.integers(0, 3)),
)


@settings(max_examples=400, deadline=None)
@given(rule=rules, last=st.dates(date(1950, 1, 1), date(2090, 12, 31)))
def test_sql_deadline_is_deadline_for(tmp_path_factory, rule, last):
    db = _db(tmp_path_factory)
    with db.engine.connect() as conn:
        got = clock_agg.deadline_sql(conn, rule.kind, rule.period, rule.suspend_offset_months, last.isoformat())
    dl = deadline_for(rule, last)
    assert got == (dl.isoformat(), str(Month.of(dl) + rule.suspend_offset_months))


@pytest.mark.parametrize("last", ["2024-01-31", "2024-02-29", "2025-12-31", "2026-08-31", "2026-06-30"])
def test_month_ends_and_windows(tmp_path_factory, last):
    db = _db(tmp_path_factory)
    with db.engine.connect() as conn:
        for rule in (CycleRule("c", "rolling_months", 1), CycleRule("c", "rolling_months", 12),
                     CycleRule("c", "calendar_windows", 6), CycleRule("c", "rolling_days", 365, 30, 0)):
            dl = deadline_for(rule, date.fromisoformat(last))
            assert clock_agg.deadline_sql(conn, rule.kind, rule.period, rule.suspend_offset_months, last) == (
                dl.isoformat(), str(Month.of(dl) + rule.suspend_offset_months))


rule_edit = st.tuples(st.just("rule"), st.sampled_from(["enterprise_retiree", "enterprise_survivor", "resident_pension"]),
                      rules)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(setup=start, steps=st.lists(st.one_of(write, rule_edit), min_size=1, max_size=25))
def test_clock_equals_a_computation_from_scratch_after_any_writes(tmp_path_factory, bulk_min, setup, steps):  # noqa: F811
    db = _db(tmp_path_factory)
    with db.engine.begin() as conn:
        _clear(conn)
        saved = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM cycle_rules")]
        try:
            assert clock_agg.maintained(conn) == set()
            seq = [0]
            for s in setup:
                _apply(conn, s, seq)
            assert clock_agg.maintained(conn) == clock_agg.from_scratch(conn)
            for s in steps:
                if s[0] == "rule":
                    _, cohort, r = s
                    conn.exec_driver_sql("UPDATE cycle_rules SET kind = ?, period = ?, suspend_offset_months = ? "
                                         "WHERE cohort = ?", (r.kind, r.period, r.suspend_offset_months, cohort))
                else:
                    _apply(conn, s, seq)
                assert clock_agg.maintained(conn) == clock_agg.from_scratch(conn), s
            assert aggregates.maintained(conn) == aggregates.from_scratch(conn)
            # a rule removed (and the rules put back below): its cohort has no dates meanwhile
            conn.exec_driver_sql("DELETE FROM cycle_rules WHERE cohort = 'enterprise_survivor'")
            assert clock_agg.maintained(conn) == clock_agg.from_scratch(conn)
            assert all(r[4] is None for r in clock_agg.maintained(conn) if r[2] == "enterprise_survivor")
        finally:
            conn.exec_driver_sql("DELETE FROM cycle_rules")
            for row in saved:
                conn.exec_driver_sql(f"INSERT INTO cycle_rules VALUES ({', '.join('?' * len(row))})", row)
        assert clock_agg.maintained(conn) == clock_agg.from_scratch(conn)
        assert all(r[4] is not None for r in clock_agg.maintained(conn))


def test_the_clock_is_filled_from_existing_rows_and_cleared_with_them(tmp_path_factory):
    db = _db(tmp_path_factory)
    with db.engine.begin() as conn:
        _clear(conn)
        seq = [0]
        for s in [("person", False, 10), ("entitlement", 0, "enterprise_retiree", 10, "active"),
                  ("certify", 0, 100, "passed", "counter")]:
            _apply(conn, s, seq)
        (row,) = clock_agg.maintained(conn)
        assert row[2:] == ("enterprise_retiree", "active", "2026-09-09", "2026-10")  # 2025-09-09 + 12 months
        conn.exec_driver_sql("DELETE FROM entitlement_clock")
        aggregates.rebuild(conn)
        assert clock_agg.maintained(conn) == {row}
        _clear(conn)
        assert clock_agg.maintained(conn) == set()
