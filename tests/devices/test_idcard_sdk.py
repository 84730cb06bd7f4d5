"""ctypes bindings against a gcc-built library with the vendor exports; photo decoder plug-ins."""

from __future__ import annotations

import ctypes

import pytest

from desktop.devices.base import CardReadError, LibraryUnavailable, ReaderDisconnected, ReaderNotFound
from desktop.devices.idcard import photo, samples
from desktop.devices.idcard.model import PHOTO_FAILED, PHOTO_OK, PHOTO_UNAVAILABLE
from desktop.devices.idcard.sdk import SdtApiReader, TermbReader
from tests.devices.test_idcard_contract import termb_place

CARDS = samples.demo_cards()
SAM_ID = "05.01-20101129-0001228293-0296863149"


def test_sdtapi_scans_usb_then_serial_ports(vendor, vendor_lib_path):
    vendor.test_set_port(3)  # COM3: found after 1001..1016 and 1, 2
    reader = SdtApiReader(str(vendor_lib_path))
    info = reader.open()
    assert info.port == "3" and info.sam_id == SAM_ID
    vendor.test_set_port(1001)
    assert SdtApiReader(str(vendor_lib_path)).open().port == "1001"


def test_sdtapi_read_failure_and_port_loss(vendor, vendor_lib_path):
    reader = SdtApiReader(str(vendor_lib_path), port=1001)
    reader.open()
    vendor.test_place(samples.encode_text(CARDS[0]), samples.fake_wlt(CARDS[0]))
    vendor.test_fail_next_read()
    with pytest.raises(CardReadError) as info:
        reader.read_card()
    assert info.value.data["sw3"] == 0x41
    assert reader.read_card().name == CARDS[0].name
    vendor.test_unplug(1)
    with pytest.raises(ReaderDisconnected):
        reader.find_card()


def test_sdtapi_pinned_port_not_present(vendor, vendor_lib_path):
    with pytest.raises(ReaderNotFound):
        SdtApiReader(str(vendor_lib_path), port=1002).open()


def test_missing_or_incomplete_library_is_a_clear_state(tmp_path, incomplete_lib_path):
    with pytest.raises(LibraryUnavailable) as info:
        SdtApiReader(str(tmp_path / "sdtapi.dll")).open()
    assert "不存在" in info.value.message_zh
    with pytest.raises(LibraryUnavailable) as info:
        SdtApiReader(str(incomplete_lib_path)).open()
    assert "SDT_ClosePort" in info.value.message_zh or "缺少函数" in info.value.message_zh
    broken = tmp_path / "broken.so"
    broken.write_bytes(b"not an ELF")
    with pytest.raises(LibraryUnavailable):
        TermbReader(str(broken)).open()


def test_termb_gbk_fields_bmp_photo_and_checks(vendor, vendor_lib_path, today):
    reader = TermbReader(str(vendor_lib_path), today=lambda: today)
    reader.open()
    spec = CARDS[1]
    termb_place(vendor, spec)
    card = reader.read_card()
    assert (card.name, card.sex, card.nation, card.valid_to) == ("乌兰其其格", "女", "蒙古", "长期")
    assert card.birth_date == "1948-11-29" and card.issues == ()
    assert card.photo_status == PHOTO_OK and card.photo_bmp[:2] == b"BM" and len(card.photo_bmp) == 38862
    # a termb card with an expired date is flagged like any other
    from dataclasses import replace

    termb_place(vendor, replace(spec, valid_to="20200101"))
    assert "expired" in [i.code for i in reader.read_card().issues]


# ------------------------------------------------------------------ photo decoder plug-ins
def _card():
    from desktop.devices.idcard import codec, parser

    return parser.parse_read_data(codec.parse_reply(samples.build_read_reply(CARDS[0])).data)


def test_wlt2bmp_decoder_produces_a_bmp(vendor_lib_path):
    decoder = photo.make_decoder("wlt2bmp", str(vendor_lib_path))
    card = photo.attach_photo(_card(), decoder)
    assert card.photo_status == PHOTO_OK
    assert card.photo_bmp[:2] == b"BM" and len(card.photo_bmp) == photo.BMP_SIZE == 38862
    # the last BMP row is the first source row (bottom-up), padded to 308 bytes
    assert card.photo_bmp[54 + 125 * 308 : 54 + 125 * 308 + 3] == bytes([0, 1, 2])


def test_wltrs_getbmp_decoder_uses_files(vendor_lib_path):
    decoder = photo.make_decoder("wltrs", str(vendor_lib_path), interface=2)
    card = photo.attach_photo(_card(), decoder)
    assert card.photo_status == PHOTO_OK and card.photo_bmp[:3] == b"BM\x02"


def test_decoder_refusal_keeps_the_card_and_the_wlt(vendor_lib_path):
    from dataclasses import replace

    card = replace(_card(), photo_wlt=b"\x01" * 1024)  # not licensed / not ours: GetBmp → -5
    out = photo.attach_photo(card, photo.make_decoder("wltrs", str(vendor_lib_path)))
    assert out.photo_status == PHOTO_FAILED and "未授权" in out.photo_message_zh
    assert out.photo_wlt == card.photo_wlt and out.name == card.name


@pytest.mark.parametrize("kind,path", [(None, None), ("wltrs", None), ("wltrs", "/nonexistent/WltRS.dll"),
                                       ("bogus", "/x")])
def test_no_decoder_means_photo_unavailable(kind, path):
    decoder = photo.make_decoder(kind, path)
    assert not decoder.available
    card = photo.attach_photo(_card(), decoder)
    assert card.photo_status == PHOTO_UNAVAILABLE
    assert "无法显示芯片照片" in card.photo_message_zh and len(card.photo_wlt) == 1024


def test_library_is_loaded_through_ctypes_exports(vendor_lib_path):
    lib = ctypes.CDLL(str(vendor_lib_path))
    for name in ("SDT_OpenPort", "SDT_StartFindIDCard", "SDT_SelectIDCard", "SDT_ReadBaseMsg",
                 "CVR_InitComm", "CVR_Authenticate", "CVR_Read_Content", "GetBmp", "wlt2bmp"):
        assert hasattr(lib, name)
