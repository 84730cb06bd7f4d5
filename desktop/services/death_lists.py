"""The rows of a death list — 民政 (死亡日期), 卫健, or a 公安 household-register list of
deregistrations (注销日期, 注销原因) — told apart before anything is written (issue 21 §4).

* 注销原因 empty or a death (死亡, 病故 …): a death; without a 死亡日期 the 注销日期 stands for it,
  flagged (the report warns on the line, the audit event and the death source say so).
* any other 注销原因 (迁出, 出国, 参军 …): not a death — the person goes to the review list (a case
  for a supervisor), and nothing about them changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from desktop.formats.roster_rows import check_id, check_name
from desktop.formats.tabular import CellError, clean, parse_date

DEATH_COLUMNS = ["公民身份号码", "姓名", "死亡日期", "来源"]
DEATH_REQUIRED = DEATH_COLUMNS[:2]
DEATH_OPTIONAL = [*DEATH_COLUMNS[2:], "注销日期", "注销原因"]
DATE_FIELDS = ("死亡日期", "注销日期")  # a death list has at least one of them
# a header naming one of these is a death list (the results import dispatches on it)
MARKERS = frozenset(("死亡日期", "注销日期", "注销原因"))

_DEATH_WORDS = ("死亡", "亡故", "病故", "去世", "逝世", "身故", "病亡", "宣告死亡")
FLAG_DEREG_DATE = "死亡日期取自注销日期（名单没有死亡日期），请核实"
REVIEW_REASON = "注销原因为“{reason}”，不是死亡：未登记死亡，已转主管核查（如迁出、出国，须核实待遇领取资格）"


def is_death_reason(reason: str) -> bool:
    return not reason or any(w in reason for w in _DEATH_WORDS)


@dataclass(frozen=True, slots=True)
class DeathRow:
    line: int
    number: str
    name: str
    death_date: date | None  # None for a review row without any date
    source: str | None
    flagged: bool = False  # the date is the 注销日期
    review: str | None = None  # the 注销原因 of a row that is not a death


def parse_death_row(values: dict, line: int, today: date) -> DeathRow:
    """One row of a death list; raises CellError with the Chinese reason."""
    number = check_id(values.get("公民身份号码"), today).number
    name = check_name(values.get("姓名"))
    source = clean(values.get("来源"))[:100] or None
    reason = clean(values.get("注销原因")).replace(" ", "")[:40]
    d = parse_date(values.get("死亡日期"), field="死亡日期")
    flagged = False
    if d is None:
        d = parse_date(values.get("注销日期"), field="注销日期")
        flagged = d is not None
    if not is_death_reason(reason):
        return DeathRow(line, number, name, d, source, flagged, review=reason)
    if d is None:
        raise CellError("死亡日期为空")
    if d > today:
        raise CellError(f"{'注销日期' if flagged else '死亡日期'}晚于今天：{d.isoformat()}")
    return DeathRow(line, number, name, d, source, flagged)
