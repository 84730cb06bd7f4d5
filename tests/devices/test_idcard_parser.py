"""Card payload layouts (§2): resident, 'J', 'I', 'Y'; 长期; tables; consistency checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from desktop.devices.base import CardDataError
from desktop.devices.idcard import codec, parser, samples, tables
from desktop.devices.idcard.model import FOREIGN_2017, FOREIGN_2023, HK_MO_TW, RESIDENT
from desktop.domain.idnumber import make_number

CARDS = samples.demo_cards()
RES, RES_F, HK, I17, Y23 = CARDS
TODAY = date(2026, 11, 29)


def parse(spec, **kw):
    reply = codec.parse_reply(samples.build_read_reply(spec, **kw))
    return parser.parse_read_data(reply.data, today=TODAY)


def test_read_reply_is_1295_bytes_with_text_at_14_and_photo_at_270():
    frame = samples.build_read_reply(RES)
    assert len(frame) == 1295
    assert frame[5:7] == b"\x05\x08" and frame[7:14] == b"\x00\x00\x90\x01\x00\x04\x00"
    assert frame[14:16] == "张".encode("utf-16-le")
    assert frame[270:283] == b"SIMULATED-WLT"


def test_resident_card_fields():
    card = parse(RES)
    assert card.card_type == RESIDENT
    assert (card.name, card.sex, card.nation, card.nation_code) == ("张建国", "男", "汉", "01")
    assert card.birth_date == "1952-03-07" and card.valid_from == "2012-03-07"
    assert card.valid_to == "长期"
    assert card.address.startswith("北京市东城区") and card.issuer == "北京市公安局东城分局"
    assert card.id_number == RES.id_number
    assert len(card.photo_wlt) == 1024 and card.photo_status == "not_decoded"
    assert card.issues == ()


def test_hk_mo_tw_residence_permit():
    card = parse(HK)
    assert card.card_type == HK_MO_TW and card.card_type_zh == "港澳台居民居住证"
    assert (card.pass_number, card.issue_count) == ("H01234567", "01")
    assert card.nation is None and card.valid_to == "2030-01-01"
    assert card.issues == ()


def test_foreigner_2017():
    card = parse(I17)
    assert card.card_type == FOREIGN_2017
    assert (card.name, card.name_en, card.nationality) == ("史密斯", "SMITH, JOHN", "USA")
    assert card.id_number == "USA110056010113" and len(card.id_number) == 15
    assert (card.birth_date, card.card_version, card.issuer) == ("1956-01-01", "17", "1100")
    assert card.issues == ()  # the 15-char number is not put through GB 11643


def test_foreigner_2023_long_english_name_continues_at_220():
    card = parse(Y23)
    assert card.card_type == FOREIGN_2023
    assert card.name == "安娜" and card.sex == "女"
    assert card.name_en == Y23.name_en[:46]
    assert (card.nationality, card.renewal_count, card.previous_number_link) == ("POL", "00", "001")
    assert card.id_number.startswith("9") and card.issues == ()


def test_fingerprint_layout_30_10():
    frame = samples.build_read_reply(RES, fingerprint=b"C" + bytes(1023))
    assert len(frame) == 2321
    reply = codec.parse_reply(frame)
    card = parser.parse_read_data(reply.data, today=TODAY)
    assert card.fingerprint[:1] == b"C" and len(card.fingerprint) == 1024
    assert card.name == "张建国"
    assert len(samples.build_read_reply(RES, fingerprint=bytes(512))) == 1809


@pytest.mark.parametrize("change,code", [
    (dict(birth="19520308"), "birth_mismatch"),
    (dict(sex_code="2"), "sex_mismatch"),
    (dict(valid_to="20201231"), "expired"),
    (dict(valid_from="20270101"), "not_yet_valid"),
    (dict(id_number=RES.id_number[:17] + "1"), "id_number_invalid"),
    (dict(nation_code="77"), "unknown_nation"),
    (dict(sex_code="5"), "unknown_sex"),
    (dict(valid_to="2030-13-1"), "bad_date"),
])
def test_consistency_problems_are_surfaced_not_fixed(change, code):
    card = parse(replace(RES, **change))
    assert code in [i.code for i in card.issues]
    assert all(i.message_zh for i in card.issues)
    if "birth" in change:
        assert card.birth_date == "1952-03-08"  # kept as on the chip


def test_unknown_nation_shown_with_code():
    card = parse(replace(RES, nation_code="77"))
    assert card.nation == "其他(77)" and card.nation_code == "77"


def test_hk_permit_with_mainland_number_is_flagged():
    number = make_number("110101", date(1960, 5, 20), 31)
    card = parse(replace(HK, id_number=number))
    assert "id_number_invalid" in [i.code for i in card.issues]


def test_tables_are_complete():
    assert len([c for c in tables.NATION if int(c) <= 56]) == 56
    assert tables.NATION["46"] == "德昂"
    assert tables.sex_name("0") == "未知" and tables.sex_name("9") == "未说明"


def test_length_fields_are_used_not_constants():
    data = samples.build_read_data(RES)
    with pytest.raises(CardDataError):
        parser.parse_read_data(data[:-1])
    with pytest.raises(CardDataError):
        parser.split_read_data(data + b"\0", fingerprint=False)
    short = b"\x00\x80\x04\x00" + samples.encode_text(RES)[:128] + bytes(1024)
    with pytest.raises(CardDataError):
        parser.parse_read_data(short)


def test_repr_never_shows_name_or_full_number():
    card = parse(RES)
    text = repr(card) + str(card)
    assert RES.id_number not in text and "张建国" not in text and card.masked_number in text


def test_appended_addresses():
    data = ("新地址一号".encode("utf-16-le") + b" \x00" * 35)[:70] * 2
    assert parser.parse_appended_addresses(data) == ("新地址一号", "新地址一号")
