"""Reading the spreadsheets bureaus actually send: CSV in UTF-8 (with or without BOM) or GBK,
or XLSX; full-width digits, stray spaces, Excel serial dates, several date spellings.

Every function here returns a value or raises ``CellError`` with a Chinese reason, so an
importer can account for every row.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterator

from desktop.errors import UserFacingError


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


EXCEL_EPOCH = date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: object, *, field: str = "日期") -> date | None:
    """2026-03-15, 2026/3/15, 20260315, 2026年3月15日, an Excel date cell or serial number.
    Empty → None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
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
    text = re.sub(r"[T ]00:00(:00)?$", "", text)
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
    for pattern in _MONTH_PATTERNS:
        m = pattern.match(text)
        if m:
            y, mo = int(m.group(1)), int(m.group(2))
            if not 1 <= mo <= 12 or y < 1900:
                raise CellError(f"{field}不存在：{text}")
            return f"{y:04d}-{mo:02d}"
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


def read_table(path: Path, required: list[str], optional: list[str] = ()) -> Iterator[Row]:
    """Yield rows as ``{header: raw value}``; raises UserFacingError for an unreadable file or
    missing columns (a whole-file problem, reported before any row is touched)."""
    path = Path(path)
    if not path.exists():
        raise UserFacingError(f"文件不存在：{path}", code="file_missing")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        header, rows = _read_xlsx(path)
    elif suffix == ".xls":
        raise UserFacingError("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV", code="xls")
    else:
        header, rows = _read_csv(path)
    names = [clean(h) for h in header]
    missing = [h for h in required if h not in names]
    if missing:
        raise UserFacingError("文件缺少必需的列：" + "、".join(missing), code="missing_columns", missing=missing)
    index = {name: i for i, name in enumerate(names) if name in set(required) | set(optional)}
    for line, cells in rows:
        if not any(clean(c) for c in cells):
            continue  # blank line
        yield Row(line, {name: (cells[i] if i < len(cells) else None) for name, i in index.items()})


def read_header(path: Path) -> list[str]:
    """The cleaned header of a CSV or XLSX file (empty list when unreadable)."""
    try:
        if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
            header, _ = _read_xlsx(Path(path))
        else:
            header, _ = _read_csv(Path(path))
    except UserFacingError:
        return []
    return [clean(h) for h in header]


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not) first; GB18030 (a superset of GBK) otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise UserFacingError("无法识别文件编码（应为 UTF-8 或 GBK）", code="encoding") from None


def _read_csv(path: Path):
    text = decode_text(path.read_bytes())
    sample = text[:4096]
    delimiter = ","
    if sample.count("\t") > sample.count(",") and "\t" in sample.splitlines()[0]:
        delimiter = "\t"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UserFacingError("文件是空的", code="empty_file") from None

    def rows():
        for cells in reader:
            yield reader.line_num, cells

    return header, rows()


def _read_xlsx(path: Path):
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise UserFacingError(f"无法打开 Excel 文件：{exc.__class__.__name__}", code="bad_xlsx") from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    try:
        header = [("" if c is None else str(c)) for c in next(it)]
    except StopIteration:
        raise UserFacingError("文件是空的", code="empty_file") from None

    def rows():
        for n, cells in enumerate(it, start=2):
            yield n, list(cells)
        wb.close()

    return header, rows()
