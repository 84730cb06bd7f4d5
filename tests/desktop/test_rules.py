"""The clock of domain.md §2: the spec's worked examples and the edges around them."""

from datetime import date as d

import pytest

from desktop.domain.months import Month, add_months, month_range
from desktop.domain.rules import CycleRule, RuleTable, clock, deadline_for

RULES = RuleTable.default()


def c(cohort, last, start=d(2010, 1, 1)):
    return clock(RULES[cohort], start, last)


# --- add_months / Month ------------------------------------------------------------------


@pytest.mark.parametrize(
    "start,n,expected",
    [
        (d(2026, 1, 31), 1, d(2026, 2, 28)),  # 31 Jan + 1 month clamps
        (d(2028, 1, 31), 1, d(2028, 2, 29)),  # leap year
        (d(2028, 2, 29), 12, d(2029, 2, 28)),  # leap day + 1 year
        (d(2026, 3, 31), 1, d(2026, 4, 30)),
        (d(2026, 12, 15), 1, d(2027, 1, 15)),
        (d(2026, 8, 31), -6, d(2026, 2, 28)),
    ],
)
def test_add_months_clamps(start, n, expected):
    assert add_months(start, n) == expected


def test_month_arithmetic():
    assert Month(2026, 12) + 1 == Month(2027, 1)
    assert Month(2027, 1) - Month(2026, 4) == 9
    assert str(Month.parse("2026/3")) == "2026-03"
    assert Month.parse("202603") == Month(2026, 3)
    assert [str(m) for m in month_range(Month(2026, 11), Month(2027, 2))] == ["2026-11", "2026-12", "2027-01"]
    with pytest.raises(ValueError):
        Month.parse("2026-13")


# --- rolling, N months -------------------------------------------------------------------


def test_survivor_example_from_spec():
    # Survivor certified 2026-01-10: deadline 2026-02-10; nothing by then → suspended from March 2026.
    k = c("enterprise_survivor", d(2026, 1, 10))
    assert k.deadline == d(2026, 2, 10)
    assert k.suspend_month == Month(2026, 3)


def test_retiree_example_from_spec():
    # Retiree certified 2025-03-15: deadline 2026-03-15; nothing by then → suspended from April 2026.
    k = c("enterprise_retiree", d(2025, 3, 15))
    assert k.deadline == d(2026, 3, 15)
    assert k.suspend_month == Month(2026, 4)
    assert c("institution_retiree", d(2025, 3, 15)).deadline == d(2026, 3, 15)


def test_survivor_certified_31_january_has_deadline_end_of_february():
    k = c("enterprise_survivor", d(2026, 1, 31))
    assert k.deadline == d(2026, 2, 28)
    assert k.suspend_month == Month(2026, 3)


def test_retiree_certified_on_leap_day():
    k = c("enterprise_retiree", d(2028, 2, 29))
    assert k.deadline == d(2029, 2, 28)
    assert k.suspend_month == Month(2029, 3)


def test_deadline_is_inclusive_and_status_moves_through_the_states():
    k = c("enterprise_retiree", d(2025, 3, 15))
    assert k.status_on(d(2026, 2, 1), 30) == "valid"
    assert k.status_on(d(2026, 2, 13), 30) == "due_soon"  # 30 days before
    assert k.status_on(d(2026, 2, 12), 30) == "valid"  # 31 days before
    assert k.status_on(d(2026, 3, 15), 30) == "due_soon"  # the deadline day itself still counts
    assert k.status_on(d(2026, 3, 16), 30) == "overdue"
    assert k.status_on(d(2026, 3, 31), 30) == "overdue"
    assert k.status_on(d(2026, 4, 1), 30) == "suspended"


def test_no_certification_uses_start_date_as_first_proof():
    k = clock(RULES["enterprise_retiree"], d(2026, 5, 20), None)
    assert k.last == d(2026, 5, 20)
    assert k.deadline == d(2027, 5, 20)


def test_certification_before_start_does_not_predate_the_entitlement():
    k = clock(RULES["enterprise_survivor"], d(2026, 5, 20), d(2026, 1, 3))
    assert k.last == d(2026, 5, 20)
    assert k.deadline == d(2026, 6, 20)


# --- half-year windows -------------------------------------------------------------------


def test_half_year_examples_from_spec():
    k = c("injury_recipient", d(2026, 2, 1))  # H1 → next due in H2
    assert k.deadline == d(2026, 12, 31)
    assert k.suspend_month == Month(2027, 1)
    k = c("injury_recipient", d(2026, 7, 1))  # H2 → due in H1 2027
    assert k.deadline == d(2027, 6, 30)
    assert k.suspend_month == Month(2027, 7)


@pytest.mark.parametrize("cohort", ["resident_pension", "injury_recipient", "injury_dependant"])
def test_half_year_edges_30_june_and_1_july(cohort):
    assert c(cohort, d(2026, 6, 30)).deadline == d(2026, 12, 31)
    assert c(cohort, d(2026, 7, 1)).deadline == d(2027, 6, 30)
    assert c(cohort, d(2026, 12, 31)).deadline == d(2027, 6, 30)
    assert c(cohort, d(2026, 1, 1)).deadline == d(2026, 12, 31)
    # missed H1 → suspended in July; missed H2 → suspended next January
    assert c(cohort, d(2025, 12, 31)).suspend_month == Month(2026, 7)
    assert c(cohort, d(2026, 6, 30)).suspend_month == Month(2027, 1)


def test_mid_window_start_counts_as_certified_in_that_window():
    k = clock(RULES["resident_pension"], d(2026, 4, 15), None)
    assert k.deadline == d(2026, 12, 31)


# --- the table is data --------------------------------------------------------------------


def test_other_bureaus_by_editing_the_table():
    gansu = CycleRule("enterprise_retiree", "rolling_days", 365)
    assert deadline_for(gansu, d(2026, 3, 1)) == d(2027, 3, 1)
    assert deadline_for(gansu, d(2027, 3, 1)) == d(2028, 2, 29)  # 365 days across a leap year
    yearly = CycleRule("resident_pension", "calendar_windows", 12)
    assert deadline_for(yearly, d(2026, 3, 1)) == d(2027, 12, 31)
    quarterly = CycleRule("resident_pension", "calendar_windows", 3)
    assert deadline_for(quarterly, d(2026, 11, 2)) == d(2027, 3, 31)
    late = CycleRule("enterprise_retiree", "rolling_months", 12, suspend_offset_months=2)
    assert clock(late, d(2010, 1, 1), d(2025, 3, 15)).suspend_month == Month(2026, 5)


def test_bad_rules_are_refused():
    with pytest.raises(ValueError):
        CycleRule("enterprise_retiree", "weekly", 1)
    with pytest.raises(ValueError):
        CycleRule("resident_pension", "calendar_windows", 5)
    with pytest.raises(ValueError):
        RuleTable({"enterprise_retiree": CycleRule("enterprise_retiree", "rolling_months", 12)})


def test_a_rule_that_cannot_be_applied_is_refused_with_its_reason():
    """The rule table is data (the settings page edits it): a bad row is refused at construction,
    and the reason names what is wrong."""
    from desktop.domain.rules import COHORTS, CycleRule, RuleTable

    with pytest.raises(ValueError, match=r"^unknown rule kind 'weekly'$"):
        CycleRule("enterprise_retiree", "weekly", 1)
    for period in (0, -12):
        with pytest.raises(ValueError, match=r"^period must be positive$"):
            CycleRule("enterprise_retiree", "rolling_months", period)
    with pytest.raises(ValueError, match=r"^calendar windows must divide the year \(1, 2, 3, 4, 6 or 12 months\)$"):
        CycleRule("enterprise_retiree", "calendar_windows", 5)
    rules = {r.cohort: r for r in RuleTable.default().rules()}
    gone = sorted(COHORTS)[0]
    rules.pop(gone)
    with pytest.raises(ValueError, match=rf"^rule table lacks cohorts: \['{gone}'\]$"):
        RuleTable(rules)
