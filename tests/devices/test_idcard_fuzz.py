"""Arbitrary bytes into the codec and parser: only the driver's own errors, never a hang."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.devices.base import ReaderError
from desktop.devices.idcard import codec, parser, samples
from desktop.devices.idcard.inspect import describe_frame
from desktop.errors import DeviceError

SETTINGS = settings(max_examples=300, deadline=500, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.binary(max_size=3000))
def test_parse_reply_and_describe_raise_only_device_errors(data):
    for fn in (codec.parse_reply, codec.parse_request, describe_frame):
        try:
            fn(data)
        except DeviceError:
            pass


@SETTINGS
@given(st.binary(max_size=400))
def test_framed_garbage_is_decoded_or_rejected_cleanly(body):
    frame = codec.build_frame(body)
    try:
        describe_frame(frame)
    except ReaderError:
        pass


@SETTINGS
@given(st.lists(st.binary(max_size=300), max_size=20), st.integers(0, 0x7FF))
def test_stream_decoder_terminates_and_yields_only_valid_frames(chunks, extra):
    dec = codec.FrameDecoder(max_buffer=4096)
    good = codec.build_reply(0x90, bytes(extra % 64))
    for chunk in chunks + [good]:
        dec.feed(chunk)
        for _ in range(len(chunk) + len(good) + 10):  # bounded: each call makes progress
            try:
                frame = dec.next_frame()
            except codec.BadChecksum:
                continue
            if frame is None:
                break
            codec.parse_reply(frame)  # whatever it yields is a valid frame


@SETTINGS
@given(st.binary(min_size=0, max_size=600), st.binary(max_size=64), st.binary(max_size=64))
def test_parser_on_arbitrary_payloads(text, photo, fp):
    for fn in (lambda: parser.parse_text(text, photo, fp),
               lambda: parser.parse_read_data(text),
               lambda: parser.parse_read_data(text, fingerprint=True),
               lambda: parser.parse_appended_addresses(text)):
        try:
            fn()
        except DeviceError:
            pass


@SETTINGS
@given(st.integers(0, 255), st.sampled_from(["I", "Y", "J", " ", "\x00"]), st.binary(min_size=256, max_size=256))
def test_each_layout_with_random_text(flag_byte, flag, text):
    raw = bytearray(text)
    raw[248:250] = flag.encode("utf-16-le")
    raw[30] = flag_byte
    card = parser.parse_text(bytes(raw))
    assert card.card_type in {"resident", "hk_mo_tw", "foreign_2017", "foreign_2023"}
    assert isinstance(card.issues, tuple)


@SETTINGS
@given(st.integers(1, 1294), st.integers(0, 7))
def test_any_single_bit_flip_in_a_read_reply_is_caught(pos, bit):
    frame = bytearray(samples.build_read_reply(samples.demo_cards()[0]))
    frame[pos] ^= 1 << bit
    try:
        codec.parse_reply(bytes(frame))
    except codec.FrameError:
        return
    raise AssertionError("a corrupted frame was accepted")
