"""The calendar, the clock and the ID number at their edges (issue 22: tests that catch the slips).

Each test pins what domain.md §2 (or GB 11643) requires at a boundary where a one-character
slip — ``<`` for ``<=``, ``+ 1`` for ``- 1``, the wrong month of a year — would otherwise pass
the suite: 29 February in leap, non-leap and century years, the last days of months, the deadline
day itself, the first day of the suspension month, the windows' first and last days.
"""

from __future__ import annotations

from datetime import date as d

import pytest

from desktop.domain import idnumber
from desktop.domain.months import Month, add_months, days_between, last_day, month_range
from desktop.domain.rules import COHORTS, Clock, CycleRule, RuleTable, clock, deadline_for

# --- the calendar ----------------------------------------------------------------------------


@pytest.mark.parametrize("year,days", [(2026, 28), (2028, 29), (2000, 29), (1900, 28), (2100, 28), (2400, 29)])
def test_february_in_leap_non_leap_and_century_years(year, days):
    assert last_day(year, 2) == days
    assert Month(year, 2).last_day() == d(year, 2, days)
    assert Month(year, 2).day(31) == d(year, 2, days)  # a payroll day of 31 in February
    assert Month(year, 2).day(29) == d(year, 2, min(29, days))
    assert add_months(d(year, 1, 31), 1) == d(year, 2, days)
    assert add_months(d(year, 3, 31), -1) == d(year, 2, days)


@pytest.mark.parametrize(
    "start,n,expected",
    [
        (d(2024, 2, 29), 12, d(2025, 2, 28)),  # leap day + 1 year: clamps
        (d(2024, 2, 29), 48, d(2028, 2, 29)),  # to the next leap year: the 29th again
        (d(2000, 2, 29), 12 * 100, d(2100, 2, 28)),  # 2100 is not a leap year
        (d(2025, 2, 28), 12, d(2026, 2, 28)),
        (d(2026, 1, 15), 0, d(2026, 1, 15)),
        (d(2026, 1, 15), -1, d(2025, 12, 15)),  # backwards across the year
        (d(2026, 1, 15), -12, d(2025, 1, 15)),
        (d(2026, 1, 15), -13, d(2024, 12, 15)),
        (d(2026, 12, 31), 1, d(2027, 1, 31)),
        (d(2026, 11, 30), 1, d(2026, 12, 30)),
        (d(2026, 12, 1), 12, d(2027, 12, 1)),
        (d(2026, 5, 31), 1, d(2026, 6, 30)),
        (d(2026, 8, 31), 1, d(2026, 9, 30)),
        (d(2026, 10, 31), 1, d(2026, 11, 30)),
    ],
)
def test_add_months_at_the_edges(start, n, expected):
    assert add_months(start, n) == expected


def test_month_bounds_and_parsing():
    assert Month(2026, 1).month == 1 and Month(2026, 12).month == 12
    for bad in (0, 13, -1):
        with pytest.raises(ValueError):
            Month(2026, bad)
    assert Month.parse("2026-03") == Month(2026, 3)
    assert Month.parse(" 2026/3 ") == Month(2026, 3)
    assert Month.parse("2026-12") == Month(2026, 12)
    assert Month.parse("202612") == Month(2026, 12)
    assert Month.parse("202601") == Month(2026, 1)
    for bad in ("2026", "20263", "2026033", "2026-00", "2026-13", "abcdef", "", "2026-03-01"):
        with pytest.raises(ValueError):
            Month.parse(bad)
    assert Month.of(d(2026, 12, 31)) == Month(2026, 12)
    assert str(Month(2026, 3)) == "2026-03" and str(Month(987, 1)) == "0987-01"


def test_month_index_arithmetic_across_years():
    assert Month(2026, 1).index == 2026 * 12
    assert Month(2026, 12).index == 2026 * 12 + 11
    for m in (Month(2026, 1), Month(2026, 12), Month(2000, 6)):
        assert Month.from_index(m.index) == m
    assert Month(2026, 12) + 1 == Month(2027, 1)
    assert Month(2026, 1) + -1 == Month(2025, 12)
    assert Month(2026, 1) + 12 == Month(2027, 1)
    assert Month(2026, 1) - 1 == Month(2025, 12)
    assert Month(2026, 1) - 13 == Month(2024, 12)
    assert Month(2027, 1) - Month(2026, 1) == 12
    assert Month(2026, 1) - Month(2027, 1) == -12
    assert Month(2026, 4).first_day() == d(2026, 4, 1)
    assert Month(2026, 4).last_day() == d(2026, 4, 30)
    assert Month(2026, 12).last_day() == d(2026, 12, 31)
    assert Month(2026, 4).day(1) == d(2026, 4, 1) and Month(2026, 4).day(30) == d(2026, 4, 30)
    assert Month(2026, 4).day(31) == d(2026, 4, 30)
    assert Month(2025, 12) < Month(2026, 1) < Month(2026, 2)


def test_month_range_is_half_open():
    assert month_range(Month(2026, 3), Month(2026, 3)) == []
    assert month_range(Month(2026, 4), Month(2026, 3)) == []
    assert month_range(Month(2026, 12), Month(2027, 2)) == [Month(2026, 12), Month(2027, 1)]
    assert days_between(d(2028, 2, 28), d(2028, 3, 1)) == 2
    assert days_between(d(2026, 3, 1), d(2026, 2, 28)) == -1


# --- the rule table (domain.md §1) -----------------------------------------------------------


def test_default_rule_table_is_the_spec_table():
    table = RuleTable.default()
    spec = {
        "enterprise_retiree": ("rolling_months", 12),
        "institution_retiree": ("rolling_months", 12),
        "resident_pension": ("calendar_windows", 6),
        "enterprise_survivor": ("rolling_months", 1),
        "injury_recipient": ("calendar_windows", 6),
        "injury_dependant": ("calendar_windows", 6),
    }
    assert [r.cohort for r in table.rules()] == list(COHORTS)
    for cohort, (kind, period) in spec.items():
        rule = table[cohort]
        assert (rule.cohort, rule.kind, rule.period, rule.warn_days, rule.suspend_offset_months) == (
            cohort, kind, period, 30, 1)


def test_the_database_rule_table_is_the_default(db):
    assert db.rule_table().rules() == RuleTable.default().rules()


def test_rule_validation_and_descriptions():
    for ok in (1, 2, 3, 4, 6, 12):
        CycleRule("resident_pension", "calendar_windows", ok)
    for bad in (5, 7, 8, 24):
        with pytest.raises(ValueError):
            CycleRule("resident_pension", "calendar_windows", bad)
    for bad in (0, -1):
        with pytest.raises(ValueError):
            CycleRule("enterprise_retiree", "rolling_months", bad)
    CycleRule("enterprise_retiree", "rolling_months", 1)
    with pytest.raises(ValueError):
        CycleRule("enterprise_retiree", "monthly", 1)
    assert CycleRule("enterprise_retiree", "rolling_months", 12).describe_zh() == "每12个月认证一次（自最后一次认证起算）"
    assert CycleRule("enterprise_retiree", "rolling_days", 365).describe_zh() == "每365天认证一次（自最后一次认证起算）"
    assert CycleRule("resident_pension", "calendar_windows", 6).describe_zh() == "每半年认证一次（1-6月、7-12月各至少一次）"
    assert CycleRule("resident_pension", "calendar_windows", 3).describe_zh() == "每3个月为一个认证周期（自1月1日起划分）"
    full = {c: CycleRule(c, "rolling_months", 12) for c in COHORTS}
    RuleTable(full)
    del full["injury_dependant"]
    with pytest.raises(ValueError):
        RuleTable(full)


# --- the clock (domain.md §2) ----------------------------------------------------------------

RULES = RuleTable.default()


def test_rolling_deadlines_on_leap_days_and_month_ends():
    retiree, survivor = RULES["enterprise_retiree"], RULES["enterprise_survivor"]
    assert deadline_for(retiree, d(2024, 2, 29)) == d(2025, 2, 28)
    assert deadline_for(retiree, d(2027, 2, 28)) == d(2028, 2, 28)  # not the 29th: no clamping upwards
    assert deadline_for(retiree, d(2099, 2, 28)) == d(2100, 2, 28)
    assert deadline_for(survivor, d(2028, 1, 31)) == d(2028, 2, 29)
    assert deadline_for(survivor, d(2100, 1, 31)) == d(2100, 2, 28)
    assert deadline_for(survivor, d(2026, 12, 31)) == d(2027, 1, 31)
    assert deadline_for(survivor, d(2026, 2, 28)) == d(2026, 3, 28)
    # suspended from the month after the deadline's month, across the year end too
    assert clock(survivor, d(2010, 1, 1), d(2026, 11, 30)).suspend_month == Month(2027, 1)
    assert clock(retiree, d(2010, 1, 1), d(2025, 12, 31)).suspend_month == Month(2027, 1)
    assert clock(retiree, d(2010, 1, 1), d(2026, 1, 1)).suspend_month == Month(2027, 2)


def test_rolling_days_across_leap_and_century_years():
    gansu = CycleRule("enterprise_retiree", "rolling_days", 365)
    assert deadline_for(gansu, d(2027, 3, 1)) == d(2028, 2, 29)
    assert deadline_for(gansu, d(2099, 3, 1)) == d(2100, 3, 1)  # 2100 has no 29 February
    assert clock(gansu, d(2010, 1, 1), d(2026, 1, 31)).suspend_month == Month(2027, 2)
    one = CycleRule("enterprise_survivor", "rolling_days", 1)
    assert deadline_for(one, d(2028, 2, 28)) == d(2028, 2, 29)


@pytest.mark.parametrize(
    "period,last,deadline",
    [
        (6, d(2026, 1, 1), d(2026, 12, 31)),
        (6, d(2026, 6, 30), d(2026, 12, 31)),
        (6, d(2026, 7, 1), d(2027, 6, 30)),
        (6, d(2026, 12, 31), d(2027, 6, 30)),
        (12, d(2026, 1, 1), d(2027, 12, 31)),
        (12, d(2026, 12, 31), d(2027, 12, 31)),
        (3, d(2026, 3, 31), d(2026, 6, 30)),
        (3, d(2026, 4, 1), d(2026, 9, 30)),
        (3, d(2026, 10, 1), d(2027, 3, 31)),
        (4, d(2026, 4, 30), d(2026, 8, 31)),
        (4, d(2026, 5, 1), d(2026, 12, 31)),
        (2, d(2027, 12, 1), d(2028, 2, 29)),  # the next window ends on a leap day
        (2, d(2099, 12, 1), d(2100, 2, 28)),
        (1, d(2026, 1, 31), d(2026, 2, 28)),
        (1, d(2026, 12, 1), d(2027, 1, 31)),
    ],
)
def test_calendar_windows_first_and_last_days(period, last, deadline):
    rule = CycleRule("resident_pension", "calendar_windows", period)
    assert deadline_for(rule, last) == deadline
    assert clock(rule, d(2010, 1, 1), last).suspend_month == Month.of(deadline) + 1


def test_suspend_offset_is_counted_from_the_deadline_month():
    for offset in (1, 2, 3):
        rule = CycleRule("enterprise_retiree", "rolling_months", 12, suspend_offset_months=offset)
        assert clock(rule, d(2010, 1, 1), d(2025, 11, 30)).suspend_month == Month(2026, 11) + offset


def test_the_later_of_start_and_last_certification_starts_the_clock():
    survivor = RULES["enterprise_survivor"]
    assert clock(survivor, d(2026, 5, 20), d(2026, 5, 20)).last == d(2026, 5, 20)
    assert clock(survivor, d(2026, 5, 20), d(2026, 5, 19)).last == d(2026, 5, 20)
    assert clock(survivor, d(2026, 5, 20), d(2026, 5, 21)).last == d(2026, 5, 21)
    assert clock(survivor, d(2026, 5, 20), None) == Clock(d(2026, 5, 20), d(2026, 6, 20), Month(2026, 7))


def test_status_on_the_day_before_on_and_after_each_boundary():
    k = clock(RULES["enterprise_survivor"], d(2010, 1, 1), d(2026, 1, 10))  # deadline 10 Feb, suspended from March
    assert (k.deadline, k.suspend_month) == (d(2026, 2, 10), Month(2026, 3))
    assert k.status_on(d(2026, 1, 10), 30) == "valid"  # 31 days before the deadline
    assert k.status_on(d(2026, 1, 11), 30) == "due_soon"  # 30 days before the deadline
    assert k.status_on(d(2026, 1, 10), 31) == "due_soon"
    assert k.status_on(d(2026, 2, 10), 0) == "due_soon"  # the deadline day itself, warn 0
    assert k.status_on(d(2026, 2, 9), 0) == "valid"
    assert k.status_on(d(2026, 2, 11), 30) == "overdue"
    assert k.status_on(d(2026, 2, 28), 30) == "overdue"  # the last day before the suspension month
    assert k.status_on(d(2026, 3, 1), 30) == "suspended"
    assert k.status_on(d(2026, 3, 2), 30) == "suspended"


# --- ID numbers (GB 11643-1999) ----------------------------------------------------------------


def test_check_character_and_its_input():
    assert idnumber.check_char("11010119900307803") == "X"
    assert idnumber.check_char("15220219400901224") == "0"
    assert idnumber.check_char("44030819990110151") == "2"
    for bad in ("1101011990030780", "110101199003078031", "1101011990030780X", ""):
        with pytest.raises(ValueError):
            idnumber.check_char(bad)
    # every check character 0-9 and X occurs: the table is in the standard's order
    seen = {idnumber.check_char(f"1522021950030100{i:01d}") for i in range(10)}
    seen |= {idnumber.check_char(f"15220219500301{i:03d}") for i in range(11, 60)}
    assert seen == set("0123456789X")


def test_normalize_strips_what_people_type():
    assert idnumber.normalize("11010119900307803x") == "11010119900307803X"
    assert idnumber.normalize("１１０１０１１９９００３０７８０３ｘ") == "11010119900307803X"
    assert idnumber.normalize("110101\u3000199003\u00a007803-X ") == "11010119900307803X"
    assert idnumber.normalize("1101011990030780x") == "1101011990030780X"  # 17: kept, upper-cased
    assert idnumber.normalize("") == ""


def test_validate_each_reason_at_its_edge():
    ok = idnumber.make_number("152202", d(1880, 1, 1), 1)
    assert idnumber.validate(ok).valid  # 1880 is accepted
    assert idnumber.validate(idnumber.make_number("152202", d(1879, 12, 31), 1)).reason == "birth_date"
    today = d(2026, 11, 29)
    born_today = idnumber.make_number("152202", today, 2)
    r = idnumber.validate(born_today, today=today)
    assert r.valid and r.birth_date == today
    tomorrow = idnumber.make_number("152202", d(2026, 11, 30), 2)
    r = idnumber.validate(tomorrow, today=today)
    assert (r.valid, r.reason, r.birth_date, r.reason_zh) == (False, "future_birth", d(2026, 11, 30), "出生日期晚于今天")
    leap = idnumber.make_number("152202", d(2000, 2, 29), 3)
    assert idnumber.validate(leap).valid  # 2000 was a leap year
    assert idnumber.validate(leap[:6] + "19000229" + leap[14:17] + "0").reason == "birth_date"  # 1900 was not
    assert idnumber.validate("1522021950030100").reason == "length"
    assert idnumber.validate("1522021950030100111").reason == "length"
    assert idnumber.validate("   ").reason == "empty"
    assert idnumber.validate(None).reason == "empty"
    assert idnumber.validate("15220219500301001Y").reason == "format"
    assert idnumber.validate("X52202195003010011").reason == "format"
    assert idnumber.validate("15220219501301001X").reason == "birth_date"  # month 13
    assert idnumber.validate("15220219500300001X").reason == "birth_date"  # day 0
    assert idnumber.validate(ok).reason_zh is None


def test_validate_reports_sex_region_and_check_digit_last():
    man = idnumber.make_number("152202", d(1950, 3, 1), 1)  # sequence 001: odd → male
    woman = idnumber.make_number("152202", d(1950, 3, 1), 2)
    assert idnumber.validate(man).sex == "M" and idnumber.validate(woman).sex == "F"
    assert idnumber.validate(idnumber.make_number("152202", d(1950, 3, 1), 10)).sex == "F"
    assert idnumber.validate(idnumber.make_number("152202", d(1950, 3, 1), 19)).sex == "M"
    wrong = man[:17] + ("0" if man[17] != "0" else "1")
    r = idnumber.validate(wrong)
    assert (r.valid, r.reason, r.birth_date, r.sex, r.region) == (
        False, "check_digit", d(1950, 3, 1), "M", "内蒙古自治区兴安盟阿尔山市")
    bad_region = idnumber.make_number("999999", d(1950, 3, 1), 1)
    r = idnumber.validate(bad_region)
    assert (r.reason, r.birth_date, r.sex, r.region) == ("region", d(1950, 3, 1), "M", None)
    r = idnumber.validate(man)
    assert (r.number, r.valid, r.reason, r.birth_date, r.sex, r.region) == (
        man, True, None, d(1950, 3, 1), "M", "内蒙古自治区兴安盟阿尔山市")


def test_region_names_province_prefecture_county_and_special():
    assert idnumber.region_name("152202") == "内蒙古自治区兴安盟阿尔山市"
    assert idnumber.region_name("152201") == "内蒙古自治区兴安盟乌兰浩特市"
    assert idnumber.region_name("150000") == "内蒙古自治区"
    assert idnumber.region_name("152200") == "内蒙古自治区兴安盟"
    assert idnumber.region_name("110101") == "北京市市辖区东城区"
    assert idnumber.region_name("810000") == "香港特别行政区"
    assert idnumber.region_name("820000") == "澳门特别行政区"
    assert idnumber.region_name("830000") == "台湾省"
    assert idnumber.region_name("999999") is None
    assert idnumber.region_name("152299") is None


def test_mask_keeps_six_and_four():
    assert idnumber.mask("152202194009012240") == "152202********2240"
    assert idnumber.mask("15220219400901224X") == "152202********224X"
    assert idnumber.mask("12345678901") == "123456*8901"
    assert idnumber.mask("1234567890") == "12********"
    assert idnumber.mask("12") == "12"
    assert idnumber.mask("") == ""


def test_make_number_pads_the_sequence():
    n = idnumber.make_number("152202", d(1950, 3, 1), 7)
    assert n[:17] == "15220219500301007" and len(n) == 18
    assert n[17] == idnumber.check_char(n[:17])
