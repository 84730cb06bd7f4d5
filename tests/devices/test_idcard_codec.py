"""The frames documented in idcard-protocol.md §1.4–1.5 build and decode as documented."""

from __future__ import annotations

import pytest

from desktop.devices.idcard import codec
from desktop.devices.idcard.inspect import describe_frame

H = bytes.fromhex

DOCUMENTED_REQUESTS = [
    ((0x10, 0xFF, b""), "AA AA AA 96 69 00 03 10 FF EC"),
    ((0x11, 0xFF, b""), "AA AA AA 96 69 00 03 11 FF ED"),
    ((0x12, 0xFF, b""), "AA AA AA 96 69 00 03 12 FF EE"),
    ((0x20, 0x01, b""), "AA AA AA 96 69 00 03 20 01 22"),
    ((0x20, 0x02, b""), "AA AA AA 96 69 00 03 20 02 21"),
    ((0x30, 0x01, b""), "AA AA AA 96 69 00 03 30 01 32"),
    ((0x30, 0x03, b""), "AA AA AA 96 69 00 03 30 03 30"),
    ((0x30, 0x10, b""), "AA AA AA 96 69 00 03 30 10 23"),
    ((0x30, 0x05, b""), "AA AA AA 96 69 00 03 30 05 36"),
    ((0x60, 0x00, b""), "AA AA AA 96 69 00 03 60 00 63"),
    ((0x61, 0xFF, b"\x50"), "AA AA AA 96 69 00 04 61 FF 50 CA"),
]


@pytest.mark.parametrize("args,frame", DOCUMENTED_REQUESTS)
def test_documented_requests_build_byte_for_byte(args, frame):
    assert codec.build_request(*args) == H(frame)
    assert codec.parse_request(H(frame)) == codec.Request(*args)


def test_copied_third_party_frames_with_wrong_checksums_are_rejected():
    # §1.4 note: U5 sends find-card with CHK 0x21
    with pytest.raises(codec.BadChecksum):
        codec.parse_request(H("AA AA AA 96 69 00 03 20 01 21"))


def test_sam_id_example_decodes_to_documented_string():
    data = H("05 00 01 00 09 B8 32 01 05 BE 12 00 AD C5 B1 11")
    assert codec.decode_sam_id(data) == "05.01-20101129-0001228293-0296863149"
    assert codec.encode_sam_id("05.01-20101129-0001228293-0296863149") == data
    frame = codec.build_reply(0x90, data)
    assert len(frame) == 27 and frame[5:7] == b"\x00\x14"  # LEN=0x0014 (27 B), §1.5
    assert describe_frame(frame)["sam_id"] == "05.01-20101129-0001228293-0296863149"


@pytest.mark.parametrize("frame,sw3,data,result", [
    ("AA AA AA 96 69 00 04 00 00 90 94", 0x90, b"", "ok"),  # 11 FF / 10 FF success
    ("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", 0x9F, b"\0\0\0\0", "card_found"),
    ("AA AA AA 96 69 00 04 00 00 80 84", 0x80, b"", "no_card"),
    ("AA AA AA 96 69 00 04 00 00 81 85", 0x81, b"", "error"),  # select failed
    ("AA AA AA 96 69 00 04 00 00 41 45", 0x41, b"", "error"),  # read failed
])
def test_documented_replies(frame, sw3, data, result):
    reply = codec.parse_reply(H(frame))
    assert (reply.sw3, reply.data) == (sw3, data)
    assert describe_frame(H(frame))["result"] == result


def test_select_reply_is_19_bytes_with_8_byte_serial():
    frame = codec.build_reply(0x90, bytes(range(8)))
    assert len(frame) == 19 and frame[5:7] == b"\x00\x0c"
    assert describe_frame(frame) | {"card_sn": "0001020304050607"} == describe_frame(frame)


def test_describe_request_frame():
    assert describe_frame(H("AA AA AA 96 69 00 03 20 01 22"))["command"] == "find_card"


@pytest.mark.parametrize("frame,error", [
    ("AA AA AA 96 69 00 04 00 00 80 85", codec.BadChecksum),
    ("AA AA AB 96 69 00 04 00 00 80 84", codec.BadPreamble),
    ("AA AA AA 96 69 00 04 00 00 80", codec.Truncated),
    ("AA AA AA 96 69 00", codec.Truncated),
    ("AA AA AA 96 69 00 02 00 02", codec.BadLength),
    ("AA AA AA 96 69 00 04 00 00 80 84 00", codec.BadLength),
])
def test_bad_frames_raise_an_error_naming_the_fault(frame, error):
    with pytest.raises(error) as info:
        codec.parse_reply(H(frame))
    assert info.value.code == error.code and info.value.message_zh


def test_decoder_reassembles_byte_by_byte_after_noise():
    frames = [codec.build_reply(0x9F, b"\0" * 4), codec.build_reply(0x90, bytes(1280))]
    stream = b"\x00\xaa\xaa\x96\x69\xff" + frames[0] + b"\xaa\xaa" + frames[1]
    dec = codec.FrameDecoder()
    out = []
    for b in stream:
        dec.feed(bytes([b]))
        while (f := dec.next_frame()) is not None:
            out.append(f)
    assert out == frames
    assert dec.discarded == 8
    assert dec.pending == 0


def test_decoder_reports_bad_checksum_then_recovers():
    good = codec.build_reply(0x90)
    bad = good[:-1] + bytes([good[-1] ^ 1])
    dec = codec.FrameDecoder()
    dec.feed(bad + good)
    with pytest.raises(codec.BadChecksum):
        dec.next_frame()
    assert dec.next_frame() == good


def test_decoder_skips_impossible_length_and_resyncs():
    good = codec.build_reply(0x90)
    dec = codec.FrameDecoder()
    dec.feed(codec.PREAMBLE + b"\xff\xff" + good)
    assert dec.next_frame() == good


def test_decoder_keeps_partial_preamble_and_caps_buffer():
    dec = codec.FrameDecoder(max_buffer=100)
    dec.feed(b"\x01" * 500 + b"\xaa\xaa")
    assert dec.next_frame() is None
    dec.feed(codec.build_reply(0x90)[2:])
    assert dec.next_frame() == codec.build_reply(0x90)


def test_xor_matches_naive_fold():
    import functools
    import operator
    import os

    for n in (0, 1, 2, 3, 7, 8, 9, 255, 1288, 2314):
        data = os.urandom(n)
        assert codec.xor(data) == functools.reduce(operator.xor, data, 0)


def test_parse_hex_accepts_spaces_newlines_and_rejects_junk():
    assert codec.parse_hex("aa AA\n0x96,69\t") == H("AAAA9669")
    with pytest.raises(Exception) as info:
        codec.parse_hex("AA ZZ")
    assert info.value.code == "bad_hex"
