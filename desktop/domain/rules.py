"""The certification clock of domain.md §2, driven by a rule table (data, not code per cohort).

Three rule kinds cover the bureaus we know of:

``rolling_months``  deadline = add_months(last, period)          (Arxan retirees 12, survivors 1;
                                                                  Guangdong "13th month" = 12)
``rolling_days``    deadline = last + period days                (Gansu: 365 days)
``calendar_windows`` windows of ``period`` months from 1 January (6 = half-years H1/H2, 12 = years);
                    each window needs one certification; deadline = last day of the window
                    after the one holding ``last``

Whatever the kind, payment is suspended from ``suspend_offset_months`` after the month of the
deadline (1 = "次月"), and an entitlement is ``due_soon`` within ``warn_days`` of its deadline.
``last`` is the latest accepted certification of the person, or the entitlement's start date when
that is later (the first payment counts as the first proof; a mid-window start counts for that
window).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from desktop.domain.months import Month, add_months, last_day


@dataclass(frozen=True, slots=True)
class Cohort:
    code: str
    name_zh: str  # 认证对象
    category_zh: str  # 认证类别 shown to the resident


COHORTS: dict[str, Cohort] = {
    c.code: c
    for c in (
        Cohort("enterprise_retiree", "企业离退休人员", "养老资格认证"),
        Cohort("institution_retiree", "机关事业单位退休人员", "养老资格认证"),
        Cohort("resident_pension", "城乡居民养老保险待遇领取人员", "养老资格认证"),
        Cohort("enterprise_survivor", "企业职工遗属", "养老遗属认证"),
        Cohort("injury_recipient", "工伤保险待遇领取人员", "工伤资格认证"),
        Cohort("injury_dependant", "工伤供养亲属", "工伤遗属认证"),
    )
}
COHORT_BY_NAME = {c.name_zh: c.code for c in COHORTS.values()}
# Variants seen in real rosters and in the official names of the schemes (the notice itself writes
# 工伤供养亲属人员). Looked up with spaces and brackets of either width ignored
# (desktop.formats.roster_rows.cohort_of), so 城乡居民（基本）养老保险待遇领取人员 is found too.
COHORT_BY_NAME.update(
    {
        # 企业职工基本养老保险
        **dict.fromkeys(
            (
                "企业退休人员",
                "企业离休人员",
                "企业离退休",
                "企业退休",
                "企业退休职工",
                "企业离退休职工",
                "企业职工离退休人员",
                "企业职工退休人员",
                "企业职工基本养老保险离退休人员",
                "企业职工基本养老保险退休人员",
                "企业职工基本养老保险待遇领取人员",
                "企业职工养老保险待遇领取人员",
                "企业养老保险待遇领取人员",
                "企业养老保险离退休人员",
            ),
            "enterprise_retiree",
        ),
        # 机关事业单位养老保险
        **dict.fromkeys(
            (
                "机关事业单位离退休人员",
                "机关事业单位工作人员退休人员",
                "机关事业单位工作人员离退休人员",
                "机关事业单位退休",
                "机关事业单位离退休",
                "机关事业退休人员",
                "机关事业单位退休职工",
                "机关事业单位养老保险待遇领取人员",
                "机关事业单位基本养老保险待遇领取人员",
                "机关事业单位工作人员基本养老保险待遇领取人员",
                "机关事业单位工作人员养老保险待遇领取人员",
            ),
            "institution_retiree",
        ),
        # 城乡居民基本养老保险 (and the schemes merged into it: 新农保, 城居保)
        **dict.fromkeys(
            (
                "城乡居民养老保险待遇领取人",
                "城乡居民基本养老保险待遇领取人员",
                "城乡居民基本养老保险待遇领取人",
                "城乡居民养老金领取人员",
                "城乡居民基本养老金领取人员",
                "城乡居民养老保险领取人员",
                "城乡居民基本养老保险领取人员",
                "城乡居民养老待遇领取人员",
                "城乡居民养老保险",
                "城乡居民基本养老保险",
                "城乡居民养老",
                "城乡居保待遇领取人员",
                "居民养老保险待遇领取人员",
                "新型农村社会养老保险待遇领取人员",
                "新农保待遇领取人员",
                "城镇居民社会养老保险待遇领取人员",
            ),
            "resident_pension",
        ),
        # 企业职工遗属 (养老遗属; 供养直系亲属 of a deceased enterprise worker)
        **dict.fromkeys(
            (
                "遗属",
                "企业遗属",
                "养老遗属",
                "企业职工遗属待遇领取人员",
                "遗属待遇领取人员",
                "企业职工供养直系亲属",
                "企业职工死亡后遗属",
            ),
            "enterprise_survivor",
        ),
        # 工伤保险 (长期待遇: 伤残津贴, 生活护理费 …)
        **dict.fromkeys(
            (
                "工伤保险待遇领取人",
                "工伤职工",
                "工伤人员",
                "工伤保险长期待遇领取人员",
                "工伤长期待遇领取人员",
                "工伤待遇领取人员",
                "工伤保险伤残津贴领取人员",
                "伤残津贴领取人员",
            ),
            "injury_recipient",
        ),
        # 工伤保险 供养亲属抚恤金
        **dict.fromkeys(
            (
                "工伤供养亲属人员",
                "因工死亡职工供养亲属",
                "工亡职工供养亲属",
                "供养亲属",
                "工伤遗属",
                "工伤保险供养亲属",
                "供养亲属抚恤金领取人员",
                "因工死亡职工供养亲属抚恤金领取人员",
            ),
            "injury_dependant",
        ),
    }
)

RULE_KINDS = ("rolling_months", "rolling_days", "calendar_windows")

STATUSES = ("valid", "due_soon", "overdue", "suspended", "terminated")
STATUS_ZH = {
    "valid": "正常",
    "due_soon": "即将到期",
    "overdue": "已逾期",
    "suspended": "已暂停",
    "terminated": "已终止",
}


@dataclass(frozen=True, slots=True)
class CycleRule:
    cohort: str
    kind: str
    period: int
    warn_days: int = 30
    suspend_offset_months: int = 1

    def __post_init__(self):
        if self.kind not in RULE_KINDS:
            raise ValueError(f"unknown rule kind {self.kind!r}")
        if self.period <= 0:
            raise ValueError("period must be positive")
        if self.kind == "calendar_windows" and 12 % self.period:
            raise ValueError("calendar windows must divide the year (1, 2, 3, 4, 6 or 12 months)")

    def describe_zh(self) -> str:
        if self.kind == "rolling_months":
            return f"每{self.period}个月认证一次（自最后一次认证起算）"
        if self.kind == "rolling_days":
            return f"每{self.period}天认证一次（自最后一次认证起算）"
        if self.period == 6:
            return "每半年认证一次（1-6月、7-12月各至少一次）"
        return f"每{self.period}个月为一个认证周期（自1月1日起划分）"


@dataclass(frozen=True, slots=True)
class Clock:
    """Where an entitlement stands for a given ``last``."""

    last: date
    deadline: date
    suspend_month: Month

    def status_on(self, day: date, warn_days: int) -> str:
        if day >= self.suspend_month.first_day():
            return "suspended"
        if day > self.deadline:
            return "overdue"
        if (self.deadline - day).days <= warn_days:
            return "due_soon"
        return "valid"


class RuleTable:
    """The rule per cohort; built from the ``cycle_rules`` rows."""

    def __init__(self, rules: dict[str, CycleRule]):
        missing = set(COHORTS) - set(rules)
        if missing:
            raise ValueError(f"rule table lacks cohorts: {sorted(missing)}")
        self._rules = dict(rules)

    @classmethod
    def default(cls) -> "RuleTable":
        rows = {
            "enterprise_retiree": ("rolling_months", 12),
            "institution_retiree": ("rolling_months", 12),
            "resident_pension": ("calendar_windows", 6),
            "enterprise_survivor": ("rolling_months", 1),
            "injury_recipient": ("calendar_windows", 6),
            "injury_dependant": ("calendar_windows", 6),
        }
        return cls({c: CycleRule(c, k, p) for c, (k, p) in rows.items()})

    def __getitem__(self, cohort: str) -> CycleRule:
        return self._rules[cohort]

    def rules(self) -> list[CycleRule]:
        return [self._rules[c] for c in COHORTS]


def deadline_for(rule: CycleRule, last: date) -> date:
    if rule.kind == "rolling_months":
        return add_months(last, rule.period)
    if rule.kind == "rolling_days":
        return last + timedelta(days=rule.period)
    # calendar_windows: the end of the window after the one holding `last`
    w = rule.period
    window_start_month0 = ((last.month - 1) // w) * w  # 0-based month index within the year
    end_index = last.year * 12 + window_start_month0 + 2 * w - 1  # last month of next window
    year, m0 = divmod(end_index, 12)
    return date(year, m0 + 1, last_day(year, m0 + 1))


def clock(rule: CycleRule, start: date, last_certified: date | None) -> Clock:
    last = start if last_certified is None or last_certified < start else last_certified
    deadline = deadline_for(rule, last)
    return Clock(last, deadline, Month.of(deadline) + rule.suspend_offset_months)
