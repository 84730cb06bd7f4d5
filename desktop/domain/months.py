"""Calendar arithmetic the rules are written in: months as values, clamped month addition."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


def last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_months(d: date, n: int) -> date:
    """``add_months(2026-01-31, 1) == 2026-02-28``: clamps to the month's last day."""
    index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(d.day, last_day(year, month)))


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A payroll month. Ordered; ``Month(2026, 12) + 1 == Month(2027, 1)``."""

    year: int
    month: int

    def __post_init__(self):
        if not 1 <= self.month <= 12:
            raise ValueError(f"month out of range: {self.month}")

    @classmethod
    def of(cls, d: date) -> "Month":
        return cls(d.year, d.month)

    @classmethod
    def parse(cls, text: str) -> "Month":
        """``2026-03`` (also ``2026/3`` and ``202603``)."""
        t = text.strip().replace("/", "-")
        if "-" in t:
            y, m = t.split("-", 1)
        elif len(t) == 6 and t.isdigit():
            y, m = t[:4], t[4:]
        else:
            raise ValueError(f"not a month: {text!r}")
        return cls(int(y), int(m))

    @property
    def index(self) -> int:
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, index: int) -> "Month":
        m = _BY_INDEX.get(index)
        if m is None:  # months are immutable: one instance per index serves every caller
            y, m0 = divmod(index, 12)
            m = cls(y, m0 + 1)
            if len(_BY_INDEX) < 100_000:
                _BY_INDEX[index] = m
        return m

    def __add__(self, n: int) -> "Month":
        return Month.from_index(self.index + n)

    def __sub__(self, other):
        if isinstance(other, Month):
            return self.index - other.index
        return Month.from_index(self.index - other)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def last_day(self) -> date:
        return date(self.year, self.month, last_day(self.year, self.month))

    def day(self, n: int) -> date:
        return date(self.year, self.month, min(n, last_day(self.year, self.month)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


_BY_INDEX: dict[int, Month] = {}
_TEXT: dict[int, str] = {}


def month_text(index: int) -> str:
    """``YYYY-MM`` of a month index, remembered (runs format the same few hundred months)."""
    t = _TEXT.get(index)
    if t is None:
        y, m0 = divmod(index, 12)
        t = f"{y:04d}-{m0 + 1:02d}"
        if len(_TEXT) < 100_000:
            _TEXT[index] = t
    return t


_SPANS: dict[tuple[int, int], tuple[str, ...]] = {}


def month_texts(start_index: int, stop_index: int) -> list[str]:
    """``YYYY-MM`` of every month in ``[start, stop)`` (a new list; spans remembered)."""
    key = (start_index, stop_index)
    span = _SPANS.get(key)
    if span is None:
        span = tuple(month_text(i) for i in range(start_index, stop_index))
        if len(_SPANS) < 50_000:
            _SPANS[key] = span
    return list(span)


def month_range(start: Month, stop: Month) -> list[Month]:
    """Months in ``[start, stop)``."""
    return [Month.from_index(i) for i in range(start.index, stop.index)]


def days_between(a: date, b: date) -> int:
    return (b - a).days


ONE_DAY = timedelta(days=1)
