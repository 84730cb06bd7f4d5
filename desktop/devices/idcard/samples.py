"""Synthetic card payloads in the real byte layouts, for the simulator, the fake device, tests
and the benchmark. The people are invented; numbers are built with valid check digits.
The "photo" is 1024 marked filler bytes, not a WLT image.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import date

from desktop.devices.idcard import codec
from desktop.devices.idcard.model import FOREIGN_2017, FOREIGN_2023, HK_MO_TW, RESIDENT
from desktop.domain.idnumber import check_char, make_number

SIMULATED_PHOTO_MARK = b"SIMULATED-WLT\x00"


@dataclass(frozen=True, slots=True)
class CardSpec:
    card_type: str = RESIDENT
    name: str = ""
    sex_code: str = "1"
    nation_code: str = "01"
    birth: str = "19500101"
    address: str = ""
    id_number: str = ""
    issuer: str = ""
    valid_from: str = "20100101"
    valid_to: str = "长期"
    name_en: str = ""
    nationality: str = ""
    pass_number: str = ""
    issue_count: str = ""
    card_version: str = ""
    authority: str = ""
    renewal_count: str = ""
    link: str = ""


def _put(buf: bytearray, offset: int, size: int, value: str) -> None:
    raw = value.encode("utf-16-le")[:size]
    raw += " ".encode("utf-16-le") * ((size - len(raw)) // 2)
    buf[offset : offset + size] = raw


def encode_text(spec: CardSpec) -> bytes:
    buf = bytearray(" ".encode("utf-16-le") * 128)
    if spec.card_type == FOREIGN_2017:
        _put(buf, 0, 120, spec.name_en)
        _put(buf, 120, 2, spec.sex_code)
        _put(buf, 122, 30, spec.id_number)
        _put(buf, 152, 6, spec.nationality)
        _put(buf, 158, 30, spec.name)
        _put(buf, 188, 16, spec.valid_from)
        _put(buf, 204, 16, spec.valid_to)
        _put(buf, 220, 16, spec.birth)
        _put(buf, 236, 4, spec.card_version)
        _put(buf, 240, 8, spec.authority)
        _put(buf, 248, 2, "I")
        return bytes(buf)
    _put(buf, 0, 30, spec.name)
    _put(buf, 30, 2, spec.sex_code)
    _put(buf, 36, 16, spec.birth)
    _put(buf, 122, 36, spec.id_number)
    _put(buf, 188, 16, spec.valid_from)
    _put(buf, 204, 16, spec.valid_to)
    if spec.card_type == FOREIGN_2023:
        _put(buf, 32, 4, spec.renewal_count)
        _put(buf, 52, 70, spec.name_en[:35])
        _put(buf, 220, 22, spec.name_en[35:46])
        _put(buf, 242, 6, spec.nationality)
        _put(buf, 248, 2, "Y")
        _put(buf, 250, 6, spec.link)
        return bytes(buf)
    _put(buf, 52, 70, spec.address)
    _put(buf, 158, 30, spec.issuer)
    if spec.card_type == HK_MO_TW:
        _put(buf, 220, 18, spec.pass_number)
        _put(buf, 238, 4, spec.issue_count)
        _put(buf, 248, 2, "J")
    else:
        _put(buf, 32, 4, spec.nation_code)
    return bytes(buf)


def fake_wlt(spec: CardSpec) -> bytes:
    seed = hashlib.sha256(spec.id_number.encode()).digest()
    return (SIMULATED_PHOTO_MARK + seed * 40)[:1024]


def build_read_data(spec: CardSpec, *, fingerprint: bytes | None = None, photo: bytes | None = None) -> bytes:
    text = encode_text(spec)
    photo = fake_wlt(spec) if photo is None else photo
    if fingerprint is None:
        return struct.pack(">HH", len(text), len(photo)) + text + photo
    return struct.pack(">HHH", len(text), len(photo), len(fingerprint)) + text + photo + fingerprint


def build_read_reply(spec: CardSpec, **kw) -> bytes:
    """The whole 30 01 reply frame (1295 bytes for a standard card)."""
    return codec.build_reply(codec.SW_OK, build_read_data(spec, **kw))


def demo_cards() -> list[CardSpec]:
    """One invented person per layout (valid check digits; resident is 长期, J/Y/I dated)."""
    resident = make_number("110101", date(1952, 3, 7), 123)  # 17th digit 3: male
    resident_f = make_number("152202", date(1948, 11, 29), 246)  # 6: female
    hk = make_number("810000", date(1960, 5, 20), 31)
    y17 = "9" + "11" + "586" + "19550808" + "002"
    return [
        CardSpec(RESIDENT, "张建国", "1", "01", "19520307", "北京市东城区东华门街道示例胡同1号", resident,
                 "北京市公安局东城分局", "20120307", "长期"),
        CardSpec(RESIDENT, "乌兰其其格", "2", "02", "19481129", "内蒙古自治区兴安盟阿尔山市示例路8号",
                 resident_f, "阿尔山市公安局", "20180601", "长期"),
        CardSpec(HK_MO_TW, "陈美玲", "1", "", "19600520", "广东省深圳市福田区示例大道100号", hk,
                 "深圳市公安局", "20200101", "20300101", pass_number="H01234567", issue_count="01"),
        CardSpec(FOREIGN_2017, "史密斯", "1", "", "19560101", "", "USA110056010113", "",
                 "20170601", "20270601", name_en="SMITH, JOHN", nationality="USA",
                 card_version="17", authority="1100"),
        CardSpec(FOREIGN_2023, "安娜", "2", "", "19550808", "", y17 + check_char(y17), "",
                 "20240101", "20340101", name_en="ANNA MARIA KOWALSKA-WISNIEWSKA-SAMPLE NAME EXTRA",
                 nationality="POL", renewal_count="00", link="001"),
    ]
