"""The cells of the spreadsheets bureaus actually send: full-width digits, stray spaces, Excel
serial dates, several date spellings, months given for dates (年月: 202306, 2023-06).

Every function here returns a value or raises ``CellError`` with a Chinese reason, so an
importer can account for every row. Reading the files (formats, limits, the header row, the
column mapping): desktop.formats.sheets and desktop.formats.import_mapping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation


class CellError(ValueError):
    """A cell that cannot be understood; ``str(exc)`` is the Chinese reason."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int  # 1-based line in the file (the header is line 1)
    values: dict[str, object]


_FULLWIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "／": "/", "－": "-", "．": ".", "：": ":", "，": ","}
)
_SPACES = re.compile(r"[\s\u3000\u00a0\ufeff\u200b]+")
# anything clean() would change in a non-ASCII cell: spaces of any kind, full-width digits and
# the punctuation of _FULLWIDTH (most Chinese cells contain none of it)
_UNCLEAN = re.compile(r"[\s\u3000\u00a0\ufeff\u200b\uff10-\uff19／－．：，]")


def clean(value: object) -> str:
    """Text cell: full-width digits/punctuation to ASCII, spaces (also full-width) removed at
    the ends and collapsed inside."""
    if value is None:
        return ""
    if type(value) is not str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = str(value)
    if value.isascii():  # fast path: most cells
        return " ".join(value.split())
    if _UNCLEAN.search(value) is None:  # fast path: Chinese text with nothing to change
        return value
    text = value.translate(_FULLWIDTH)
    return _SPACES.sub(" ", text).strip()


def compact(value: object) -> str:
    """Like :func:`clean` but removes every space (ID numbers, dates, phone numbers)."""
    if type(value) is str:
        if value.isascii():
            return "".join(value.split())
        if _UNCLEAN.search(value) is None:
            return value
    return _SPACES.sub("", clean(value))


# A cell beginning with one of these is a formula to a spreadsheet (OWASP CSV injection): exports
# write such text as text (desktop.formats.xlsx, desktop.formats.exports), the roster refuses such names.
FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")

EXCEL_EPOCH = date(1899, 12, 30)
_TIME = re.compile(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: object, *, field: str = "日期", month_ok: bool = False) -> date | None:
    """2026-03-15, 2026/3/15, 20260315, 2026年3月15日, an Excel date cell or serial number, with
    a time of day after it or not. With ``month_ok`` a month alone (年月: 202306, 2023-06,
    2023年6月) is its first day. Empty → None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if month_ok and 190_001 <= value <= 210_012 and value == int(value) and 1 <= int(value) % 100 <= 12:
            return date(int(value) // 100, int(value) % 100, 1)  # 202306 typed as a number
        if 10_000_000 <= value < 100_000_000:
            # an 8-digit number: 20230601 typed into Excel (stored as a number) — the same date as
            # the text "20230601" in a CSV; no Excel serial is that large (9999-12-31 is 2958465)
            return _yyyymmdd(value, field)
        return _excel_serial(value, field)
    text = compact(value)
    if not text:
        return None
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return date.fromisoformat(text)  # fast path: 2026-03-15
        except ValueError:
            pass
    if ":" in text:  # a time of day after the date: 2023-06-15 10:23:11, 2023-06-15T00:00
        text = compact(_TIME.sub("", clean(value)))
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return _excel_serial(float(text), field)
    if re.fullmatch(r"\d{8}\.0+", text):  # a numeric cell saved as text: "20230601.0"
        text = text.split(".")[0]
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return date(y, mo, d)
            except ValueError:
                raise CellError(f"{field}不存在：{text}") from None
    if month_ok:
        ym = _year_month(text, field)
        if ym is not None:
            return date(ym[0], ym[1], 1)
    raise CellError(f"{field}格式无法识别：{text}")


def _yyyymmdd(number: float, field: str) -> date:
    if number != int(number):
        raise CellError(f"{field}格式无法识别：{number}")
    n = int(number)
    try:
        return date(n // 10000, n // 100 % 100, n % 100)
    except ValueError:
        raise CellError(f"{field}不存在：{n}") from None


_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)


def _year_month(text: str, field: str) -> tuple[int, int] | None:
    """(year, month) of a month written alone (2026-07, 2026年7月, 202607), None for other text."""
    for pattern in _MONTH_PATTERNS:
        m = pattern.match(text)
        if m:
            y, mo = int(m.group(1)), int(m.group(2))
            if not 1 <= mo <= 12 or y < 1900:
                raise CellError(f"{field}不存在：{text}")
            return y, mo
    return None


def parse_month(value: object, *, field: str = "月份") -> str | None:
    """A calendar month as ``YYYY-MM``: 2026-07, 2026/7, 2026.7, 2026年7月, 202607 (text or a
    number cell), or any date :func:`parse_date` reads (its month counts). Empty → None."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 100_000 <= value < 1_000_000:
        value = str(int(value)) if value == int(value) else str(value)
    if isinstance(value, (date, int, float)) and not isinstance(value, bool):
        d = parse_date(value, field=field)
        return f"{d.year:04d}-{d.month:02d}"
    text = compact(value)
    if not text:
        return None
    ym = _year_month(text, field)
    if ym is not None:
        return f"{ym[0]:04d}-{ym[1]:02d}"
    try:
        d = parse_date(text, field=field)
    except CellError:
        raise CellError(f"{field}格式无法识别：{text}（应为 2026-07、2026/7、202607 或日期）") from None
    return f"{d.year:04d}-{d.month:02d}"


def _excel_serial(number: float, field: str) -> date:
    if not 1 <= number < 2958466:
        raise CellError(f"{field}无效：{number}")
    return EXCEL_EPOCH + timedelta(days=int(number))


_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d*)?")


def parse_amount_fen(value: object, *, field: str = "金额") -> int | None:
    """"1500", "1,500.00", "1500元", 1500.5 → fen. Empty → None."""
    if value is None or value == "":
        return None
    text = compact(value)
    if text.isdigit() and text.isascii() and len(text) <= 8 and int(text) <= 10_000_000:
        return int(text) * 100  # fast path: whole yuan, "1500"
    text = text.replace("元", "").replace("¥", "").replace("￥", "")
    if "," in text:
        # a thousands separator must group by three: 1,500 and 15,000.00, never 1,5000, 15,00
        # (a decimal comma?) or 1,50,000 (lakh grouping) — those are too easy to misread by 10×
        if not _GROUPED.fullmatch(text):
            raise CellError(f"{field}的千位分隔符位置不对：{text}（应每三位一个逗号，如 15,000.00，或不用逗号）")
        text = text.replace(",", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise CellError(f"{field}不是数字：{text}") from None
    if amount < 0 or amount > Decimal("10000000"):
        raise CellError(f"{field}超出范围：{text}")
    return int((amount * 100).quantize(Decimal("1")))
