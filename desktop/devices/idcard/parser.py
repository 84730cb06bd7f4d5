"""Card payloads (docs/idcard-protocol.md §2): the 256-byte UCS-2 text block in its four layouts.

Layout is chosen by the flag at bytes 248–249: 'I' 外国人永久居留 2017, 'Y' 2023, 'J' 港澳台居住证,
anything else the resident card. Fields are fixed-width UCS-2 LE right-padded with spaces.
Dates stay strings ("长期" is a valid valid-to). Inconsistencies (birth date or sex against the
number, expired card, bad check digit) become :class:`CardIssue` entries for the clerk.

Only :class:`CardDataError` (a :class:`DeviceError`) ever leaves this module for bad input.
"""

from __future__ import annotations

from datetime import date

from desktop.domain import idnumber
from desktop.devices.base import CardDataError
from desktop.devices.idcard import tables
from desktop.devices.idcard.model import (
    FOREIGN_2017,
    FOREIGN_2023,
    HK_MO_TW,
    LONG_TERM,
    RESIDENT,
    CardIssue,
    IdCard,
)

TEXT_LEN = 256
PHOTO_LEN = 1024
ADDRESS_RECORD = 70  # 30 03: 35 UCS-2 chars per appended address

FLAG_LAYOUT = {"I": FOREIGN_2017, "Y": FOREIGN_2023, "J": HK_MO_TW}


def _field(text: bytes, offset: int, size: int) -> str:
    raw = text[offset : offset + size]
    return raw.decode("utf-16-le", errors="replace").rstrip(" \x00\u3000")


def card_flag(untrusted_text: bytes) -> str:
    if len(untrusted_text) < 250:
        return ""
    return untrusted_text[248:250].decode("utf-16-le", errors="replace").strip(" \x00")


def _iso(yyyymmdd: str) -> str | None:
    if len(yyyymmdd) != 8 or not yyyymmdd.isdigit():
        return None
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])).isoformat()
    except ValueError:
        return None


def _date_field(value: str, what_zh: str, issues: list[CardIssue], *, long_term_ok: bool = False) -> str:
    if long_term_ok and value == LONG_TERM:
        return LONG_TERM
    iso = _iso(value)
    if iso is None:
        issues.append(CardIssue("bad_date", f"{what_zh}无法识别：{value!r}"))
        return value
    return iso


def parse_text(
    untrusted_text: bytes,
    untrusted_photo: bytes = b"",
    untrusted_fingerprint: bytes = b"",
    *,
    source: str = "",
    today: date | None = None,
) -> IdCard:
    """Parse the 256-byte text block (plus raw photo/fingerprint) into an :class:`IdCard`."""
    if len(untrusted_text) < TEXT_LEN:
        raise CardDataError(f"证件文字信息长度错误：{len(untrusted_text)} 字节（应为 256）")
    text = bytes(untrusted_text[:TEXT_LEN])
    layout = FLAG_LAYOUT.get(card_flag(text), RESIDENT)
    issues: list[CardIssue] = []
    f = lambda off, size: _field(text, off, size)  # noqa: E731

    if layout == FOREIGN_2017:
        sex_code = f(120, 2)
        name_zh = f(158, 30)
        name_en = f(0, 120)
        card = dict(
            card_type=layout, name=name_zh or name_en, name_en=name_en, sex_code=sex_code,
            id_number=f(122, 30), nationality=f(152, 6),
            valid_from=_date_field(f(188, 16), "签发日期", issues),
            valid_to=_date_field(f(204, 16), "有效期", issues, long_term_ok=True),
            birth_date=_date_field(f(220, 16), "出生日期", issues),
            card_version=f(236, 4), issuer=f(240, 8),
        )
    elif layout == FOREIGN_2023:
        sex_code = f(30, 2)
        card = dict(
            card_type=layout, name=f(0, 30), sex_code=sex_code, renewal_count=f(32, 4),
            birth_date=_date_field(f(36, 16), "出生日期", issues),
            id_number=f(122, 36),
            valid_from=_date_field(f(188, 16), "签发日期", issues),
            valid_to=_date_field(f(204, 16), "有效期", issues, long_term_ok=True),
            nationality=f(242, 6), previous_number_link=f(250, 6),
        )
        # the English name continues at 220 only when the first part is full (35 chars)
        first = text[52:122].decode("utf-16-le", errors="replace")
        card["name_en"] = (first + f(220, 22)).rstrip(" \x00") if f(220, 22) else first.rstrip(" \x00")
    else:
        sex_code = f(30, 2)
        card = dict(
            card_type=layout, name=f(0, 30), sex_code=sex_code,
            birth_date=_date_field(f(36, 16), "出生日期", issues),
            address=f(52, 70), id_number=f(122, 36), issuer=f(158, 30),
            valid_from=_date_field(f(188, 16), "签发日期", issues),
            valid_to=_date_field(f(204, 16), "有效期截止日期", issues, long_term_ok=True),
        )
        nation_code = f(32, 4)
        if layout == RESIDENT:
            card["nation_code"] = nation_code
            card["nation"] = tables.nation_name(nation_code)
            if nation_code not in tables.NATION:
                issues.append(CardIssue("unknown_nation", f"民族代码未知：{nation_code!r}"))
        else:
            card["pass_number"] = f(220, 18)
            card["issue_count"] = f(238, 4)

    card["sex"] = tables.sex_name(sex_code)
    if sex_code not in tables.SEX:
        issues.append(CardIssue("unknown_sex", f"性别代码未知：{sex_code!r}"))
    result = IdCard(
        **card,
        source=source,
        raw_text=text,
        photo_wlt=bytes(untrusted_photo),
        fingerprint=bytes(untrusted_fingerprint),
    )
    issues.extend(check_consistency(result, today=today))
    return IdCard(**{**_as_dict(result), "issues": tuple(issues)})


def _as_dict(card: IdCard) -> dict:
    return {name: getattr(card, name) for name in IdCard.__dataclass_fields__}


def check_consistency(card: IdCard, *, today: date | None = None) -> list[CardIssue]:
    """Checks the clerk must see: number vs birth date and sex, validity period."""
    today = today or date.today()
    issues: list[CardIssue] = []
    number = card.id_number
    if card.card_type == FOREIGN_2017:
        if len(number) != 15:
            issues.append(CardIssue("id_number_invalid", "永久居留证号码应为15位"))
    elif card.card_type == FOREIGN_2023:
        if len(number) != 18 or not number.startswith("9") or not number[:17].isdigit() \
                or idnumber.check_char(number[:17]) != number[17:].upper():
            issues.append(CardIssue("id_number_invalid", "永久居留证号码格式或校验码错误"))
    else:
        check = idnumber.validate(number, today=today)
        if not check.valid:
            issues.append(CardIssue("id_number_invalid", f"证件号码无效：{check.reason_zh}"))
        if card.card_type == HK_MO_TW and number[:6] not in idnumber.SPECIAL_REGIONS:
            issues.append(CardIssue("id_number_invalid", "港澳台居民居住证号码应以 810000/820000/830000 开头"))
    if card.card_type != FOREIGN_2017 and len(number) == 18 and number[:17].isdigit():
        born = _iso(number[6:14])
        if card.birth_date and born != card.birth_date:
            issues.append(CardIssue("birth_mismatch", "出生日期与证件号码不一致"))
        expected = "1" if int(number[16]) % 2 == 1 else "2"
        if card.sex_code in ("1", "2") and card.sex_code != expected:
            issues.append(CardIssue("sex_mismatch", "性别与证件号码不一致"))
    if card.valid_to != LONG_TERM and _iso(card.valid_to.replace("-", "")):
        if date.fromisoformat(card.valid_to) < today:
            issues.append(CardIssue("expired", f"证件已过有效期（{card.valid_to}）"))
    if _iso(card.valid_from.replace("-", "")) and date.fromisoformat(card.valid_from) > today:
        issues.append(CardIssue("not_yet_valid", f"证件尚未生效（{card.valid_from}）"))
    return issues


def split_read_data(untrusted_data: bytes, *, fingerprint: bool) -> tuple[bytes, bytes, bytes]:
    """30 01 / 30 10 reply data (after SW1-3) → (text, photo, fingerprint), using the length fields."""
    n_lengths = 3 if fingerprint else 2
    head = 2 * n_lengths
    if len(untrusted_data) < head:
        raise CardDataError("读卡应答太短，缺少长度字段")
    lengths = [(untrusted_data[i] << 8) | untrusted_data[i + 1] for i in range(0, head, 2)]
    if head + sum(lengths) != len(untrusted_data):
        raise CardDataError(
            f"读卡应答长度不一致：长度字段合计 {sum(lengths)} 字节，实际 {len(untrusted_data) - head} 字节"
        )
    text_len, photo_len = lengths[0], lengths[1]
    fp_len = lengths[2] if fingerprint else 0
    text = untrusted_data[head : head + text_len]
    photo = untrusted_data[head + text_len : head + text_len + photo_len]
    fp = untrusted_data[head + text_len + photo_len : head + text_len + photo_len + fp_len]
    return bytes(text), bytes(photo), bytes(fp)


def detect_fingerprint_layout(untrusted_data: bytes) -> bool | None:
    """Which read command produced this data: False = 30 01, True = 30 10, None = neither fits."""
    def fits(n: int) -> bool:
        if len(untrusted_data) < 2 * n:
            return False
        total = sum((untrusted_data[i] << 8) | untrusted_data[i + 1] for i in range(0, 2 * n, 2))
        return 2 * n + total == len(untrusted_data)

    if fits(2):
        return False
    if fits(3):
        return True
    return None


def parse_read_data(untrusted_data: bytes, *, fingerprint: bool | None = None, source: str = "",
                    today: date | None = None) -> IdCard:
    if fingerprint is None:
        fingerprint = detect_fingerprint_layout(untrusted_data)
        if fingerprint is None:
            raise CardDataError("读卡应答长度字段与数据长度不符")
    text, photo, fp = split_read_data(untrusted_data, fingerprint=fingerprint)
    return parse_text(text, photo, fp, source=source, today=today)


def parse_appended_addresses(untrusted_data: bytes) -> tuple[str, ...]:
    """30 03 data: n × 70-byte UCS-2 records (35 chars each)."""
    out = []
    for i in range(0, len(untrusted_data) - ADDRESS_RECORD + 1, ADDRESS_RECORD):
        value = _field(untrusted_data, i, ADDRESS_RECORD)
        if value:
            out.append(value)
    return tuple(out)
