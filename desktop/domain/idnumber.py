"""Chinese citizen ID numbers (GB 11643-1999): check digit, birth date, region code.

Region codes come from GB/T 2260 as shipped in python-stdnum's ``cn/loc.dat`` (a well-kept
table with the year ranges of abolished codes). The code in a number records where it was
registered when the card was issued, not where the person was born, so a code that existed in
*any* year is accepted (e.g. 152202 阿尔山市, created 1996, on a number of someone born in 1940).
Residence-permit prefixes 810000/820000/830000 (港澳台) are accepted too.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

SPECIAL_REGIONS = {
    "810000": "香港特别行政区",
    "820000": "澳门特别行政区",
    "830000": "台湾省",
}

# Full-width digits and letters typed by IMEs, mapped to ASCII.
_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９ＸｘＩＹＪ"}
_SHAPE = re.compile(r"^\d{17}[\dX]$", re.ASCII)  # ASCII digits only (٣ and ३ are digits to \d)


def normalize(raw: str) -> str:
    """Strip spaces (also full-width and NBSP), map full-width digits, upper-case 'x'."""
    if len(raw) == 18 and raw.isascii() and raw.isalnum():  # the usual case: nothing to strip
        return raw.upper()
    s = raw.translate(_FULLWIDTH)
    s = re.sub(r"[\s\u3000\u00a0\-]", "", s)
    return s.upper()


def check_char(first17: str) -> str:
    """The check character of 17 ASCII digits (weights of GB 11643, modulo 11)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("17 digits expected")
    # The weights are 2**17 … 2**1 modulo 11 (7, 9, 10, 5 …). Read as a base-13 number the digits
    # carry 13**16 … 13**0, and 13 ≡ 2 (mod 11), so twice that number is the weighted sum modulo
    # 11: one int() in C instead of 17 multiplications (a roster checks every line's number).
    return CHECK_CHARS[2 * int(first17, 13) % 11]



_LOOKS_LIKE_ID = re.compile(r"\d{17}[\dXx]|\d{15}")


def mask_if_id(text: str) -> str:
    """``text`` masked (:func:`mask`) when it looks like an ID number (18 or old 15 characters),
    else as is — for previews of files whose columns are not yet known."""
    t = text.strip()
    return mask(t) if _LOOKS_LIKE_ID.fullmatch(t) else text


def mask(number: str) -> str:
    """``152202********1234`` — the form used in lists, logs and printouts."""
    if len(number) <= 10:
        return number[:2] + "*" * max(0, len(number) - 2)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


@lru_cache(maxsize=1)
def _region_table() -> dict[str, str]:
    """code -> most recent name, from stdnum's loc.dat (province / prefecture / county lines)."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"^(\s*)(\d+)\s+\w+=\"(.*)\"", line)
        if not m:
            continue
        indent, code, names = m.groups()
        # names like "[1983-1999]郊区,[2000-]赛罕区": keep the last (most recent) one
        last = re.sub(r"\[[^\]]*\]", "", names.split(",")[-1])
        if not indent:
            province = code
            table[code + "0000"] = last
        else:
            table[province + code] = last
    table.update(SPECIAL_REGIONS)
    return table


@lru_cache(maxsize=8192)
def region_name(code6: str) -> str | None:
    """The region's name, including the province and prefecture when they are known."""
    table = _region_table()
    county = table.get(code6)
    if county is None:
        return None
    if code6 in SPECIAL_REGIONS or code6.endswith("0000"):
        return county
    parts = [table.get(code6[:2] + "0000", "")]
    pref = table.get(code6[:4] + "00")
    if pref and not code6.endswith("00"):
        parts.append(pref)
    parts.append(county)
    return "".join(p for p in parts if p)


class IdCheck(NamedTuple):
    """The result of :func:`validate` (a named tuple: made for every row of a large import)."""

    number: str
    valid: bool
    reason: str | None  # stable code, see REASONS; None when valid
    birth_date: date | None = None
    sex: str | None = None  # "M" / "F"
    region: str | None = None

    @property
    def reason_zh(self) -> str | None:
        return REASONS.get(self.reason) if self.reason else None


REASONS = {
    "empty": "身份号码为空",
    "length": "身份号码应为18位",
    "format": "身份号码含有非法字符",
    "check_digit": "校验码错误",
    "birth_date": "出生日期无效",
    "future_birth": "出生日期晚于今天",
    "region": "地址码（行政区划代码）无效",
}


_BIRTHS: dict[str, date | None] = {}  # YYYYMMDD -> the date (None: no such date); a roster repeats them


def _birth(text: str) -> date | None:
    birth = _BIRTHS.get(text, _BIRTHS)
    if birth is _BIRTHS:
        try:
            birth = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            birth = None
        if birth is not None and birth.year < 1880:
            birth = None
        if len(_BIRTHS) >= 100_000:
            _BIRTHS.clear()
        _BIRTHS[text] = birth
    return birth


def validate(raw: str, today: date | None = None) -> IdCheck:
    """Validate an 18-character GB 11643 number. Returns a result, never raises."""
    number = normalize(raw or "")
    if not number:
        return IdCheck(number, False, "empty")
    if len(number) != 18:
        return IdCheck(number, False, "length")
    if not _SHAPE.match(number):
        return IdCheck(number, False, "format")
    birth = _birth(number[6:14])
    if birth is None:
        return IdCheck(number, False, "birth_date")
    if birth > (today or date.today()):
        return IdCheck(number, False, "future_birth", birth)
    sex = "M" if number[16] in "13579" else "F"
    region = region_name(number[:6])
    if region is None:
        return IdCheck(number, False, "region", birth, sex)
    if check_char(number[:17]) != number[17]:
        return IdCheck(number, False, "check_digit", birth, sex, region)
    return IdCheck(number, True, None, birth, sex, region)


def make_number(region6: str, birth: date, seq3: int) -> str:
    """Build a valid number (demo data and tests)."""
    first17 = f"{region6}{birth:%Y%m%d}{seq3:03d}"
    return first17 + check_char(first17)
