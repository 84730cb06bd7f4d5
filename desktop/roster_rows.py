"""Validation of roster rows (issue 2 §5), kept free of the database and Qt so a large file can
be read and validated in a second process while the importer writes (see
``desktop.services.imports``). A parsed row is a plain tuple (cheap to send between processes):

``(line, id_number, name, cohort, start, last_cert, phone, address, residence, amount_fen,
birth_date, sex)`` with the dates as ISO text (``last_cert`` may be ``None``); a rejected row is
``(line, reason)``.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from desktop import idnumber
from desktop.rules import COHORT_BY_NAME, COHORTS
from desktop.tabular import CellError, clean, compact, parse_amount_fen, parse_date, read_table

ROSTER_COLUMNS = ["姓名", "公民身份号码", "认证对象", "待遇开始日期", "最近认证日期", "联系电话", "居住地址", "居住地类型", "月待遇金额"]
ROSTER_REQUIRED = ROSTER_COLUMNS[:4]

RESIDENCE = {"本地": "local", "异地": "remote"}
_PHONE = re.compile(r"[0-9+()/\-]+")
_DIGIT = re.compile(r"\d")

ID_REASON = {
    "empty": "公民身份号码为空",
    "length": "公民身份号码应为18位",
    "format": "公民身份号码含有非法字符",
    "check_digit": "公民身份号码校验码错误",
    "birth_date": "公民身份号码中的出生日期不存在",
    "future_birth": "公民身份号码中的出生日期晚于今天",
    "region": "公民身份号码的地址码无效",
}

# tuple positions of a parsed row
LINE, NUMBER, NAME, COHORT, START, LAST, PHONE, ADDRESS, RESIDENCE_, AMOUNT, BIRTH, SEX = range(12)


def check_id(raw: object, today: date) -> idnumber.IdCheck:
    check = idnumber.validate(compact(raw), today)
    if not check.valid:
        raise CellError(ID_REASON.get(check.reason, "公民身份号码无效"))
    return check


def check_name(raw: object) -> str:
    name = clean(raw).replace(" ", "")
    if not name:
        raise CellError("姓名为空")
    if len(name) > 40 or _DIGIT.search(name):
        raise CellError(f"姓名无效：{name[:20]}")
    return name


def parse_roster_row(values: dict, line: int, today: date) -> tuple:
    """One row as a parsed tuple (see the module docstring); raises CellError."""
    name = check_name(values.get("姓名"))
    check = check_id(values.get("公民身份号码"), today)
    number = check.number
    cohort_name = clean(values.get("认证对象")).replace(" ", "")
    cohort = COHORT_BY_NAME.get(cohort_name) or (cohort_name if cohort_name in COHORTS else None)
    if cohort is None:
        raise CellError(f"认证对象无法识别：{cohort_name or '（空）'}")
    start = parse_date(values.get("待遇开始日期"), field="待遇开始日期")
    if start is None:
        raise CellError("待遇开始日期为空")
    if start < check.birth_date:
        raise CellError("待遇开始日期早于出生日期")
    if start.year > today.year + 1:
        raise CellError(f"待遇开始日期不合理：{start.isoformat()}")
    last = parse_date(values.get("最近认证日期"), field="最近认证日期")
    if last is not None:
        if last > today:
            raise CellError(f"最近认证日期晚于今天：{last.isoformat()}")
        if last < check.birth_date:
            raise CellError("最近认证日期早于出生日期")
    phone = compact(values.get("联系电话")) or None
    if phone and not phone.isdigit() and not _PHONE.fullmatch(phone):
        raise CellError(f"联系电话无效：{phone[:20]}")
    address = clean(values.get("居住地址")) or None
    res_text = compact(values.get("居住地类型"))
    residence = None
    if res_text:
        residence = RESIDENCE.get(res_text)
        if residence is None:
            raise CellError(f"居住地类型应为“本地”或“异地”：{res_text[:10]}")
    amount = parse_amount_fen(values.get("月待遇金额"), field="月待遇金额")
    return (line, number, name, cohort, start.isoformat(), last.isoformat() if last is not None else None,
            phone, (address or "")[:200] or None, residence, amount, check.birth_date.isoformat(), check.sex)


def iter_roster_chunks(path: Path, today: date, chunk: int, first: int | None = None):
    """Read and validate the file, yielding lists of parsed or rejected row tuples in file order
    (``first`` rows in the first list, so a consumer in another process can start early)."""
    out = []
    size = first or chunk
    for row in read_table(path, ROSTER_REQUIRED, ROSTER_COLUMNS[4:]):
        try:
            out.append(parse_roster_row(row.values, row.line, today))
        except CellError as exc:
            out.append((row.line, str(exc)))
        if len(out) >= size:
            yield out
            out = []
            size = chunk
    if out:
        yield out


def roster_worker(path: str, today: date, chunk: int, conn) -> None:
    """Process target (module level, so it also runs under the spawn start method of Windows and
    PyInstaller): sends each chunk through ``conn``, then ``None``; a failure is sent as
    ``("error", message)``."""
    try:
        for part in iter_roster_chunks(Path(path), today, chunk, first=min(chunk, 2000)):
            conn.send(part)
        conn.send(None)
    except BaseException as exc:  # the importer re-raises it in the main process
        try:
            conn.send(("error", getattr(exc, "message_zh", None) or f"{exc.__class__.__name__}: {exc}"))
        except Exception:
            pass
    finally:
        conn.close()
