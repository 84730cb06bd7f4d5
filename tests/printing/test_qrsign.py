from __future__ import annotations

import os
import stat
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from desktop.formats import qrsign
from desktop.domain.idnumber import make_number

ID = make_number("152202", date(1948, 5, 17), 123)
OTHER_ID = make_number("152202", date(1948, 5, 17), 125)


def test_round_trip(key_provider):
    text = qrsign.make_payload("xz2026-000123", ID, date(2026, 12, 31), key_provider)
    assert text.startswith("CD1.XZ2026-000123.")
    assert ID not in text and ID[-4:] not in text.split(".")[2]  # the number itself is not carried
    # every character is in the QR alphanumeric set (compact symbol)
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    res = qrsign.verify(text, key_provider)
    assert res.ok and res.reason == "ok" and res.message_zh == "二维码有效"
    assert res.payload == qrsign.QrPayload("XZ2026-000123", res.payload.id_ref, date(2026, 12, 31))
    assert res.serial == "XZ2026-000123"
    assert res.matches_id(ID, key_provider)
    assert res.matches_id(" " + ID.lower() + " ", key_provider)  # normalised like typed input
    assert not res.matches_id(OTHER_ID, key_provider)  # a form for someone else


def test_surrounding_whitespace_is_tolerated(key_provider):
    text = qrsign.make_payload("A1", ID, date(2026, 6, 30), key_provider)
    assert qrsign.verify(f"  {text}\r\n", key_provider).ok


@pytest.mark.parametrize("field, new", [(1, "XZ2026-000124"), (3, "20271231")])
def test_tampered_fields_are_refused(key_provider, field, new):
    text = qrsign.make_payload("XZ2026-000123", ID, date(2026, 12, 31), key_provider)
    parts = text.split(".")
    parts[field] = new
    res = qrsign.verify(".".join(parts), key_provider)
    assert not res.ok and res.reason == "bad_signature" and res.payload is None
    assert "伪造" in res.message_zh or "篡改" in res.message_zh


def test_swapped_id_reference_is_refused(key_provider):
    a = qrsign.make_payload("XZ2026-000123", ID, date(2026, 12, 31), key_provider).split(".")
    b = qrsign.make_payload("XZ2026-000123", OTHER_ID, date(2026, 12, 31), key_provider).split(".")
    assert a[2] != b[2]
    a[2] = b[2]
    assert qrsign.verify(".".join(a), key_provider).reason == "bad_signature"


def test_wrong_key_is_refused(key_provider):
    text = qrsign.make_payload("XZ2026-000123", ID, date(2026, 12, 31), key_provider)
    other = qrsign.static_key_provider(b"\x01" * 32)
    assert qrsign.verify(text, other).reason == "bad_signature"
    # and the id reference is keyed too
    assert qrsign.id_reference(ID, key_provider) != qrsign.id_reference(ID, other)


@pytest.mark.parametrize("text, reason", [
    ("", "empty"),
    ("   ", "empty"),
    ("https://example.com/x", "not_certdesk"),
    ("XZ2026-000123", "not_certdesk"),
    ("CD", "malformed"),
    ("CDX.A.B", "malformed"),
    ("CD3.XZ2026-000123.ABCDEFGH.20261231.ABCDEFGHIJKLMNOPQRSTUVWX", "unknown_version"),  # version 2 has a key id
    ("CD2.XZ2026-000123.ABCDEFGH.20261231.ABCDEFGHIJKLMNOPQRSTUVWX", "malformed"),
    ("CD1.XZ2026-000123.ABCDEFGH.20261231", "malformed"),
    ("CD1.XZ2026-000123.ABCDEFGH.20261232.ABCDEFGHIJKLMNOPQRSTUVWX", "malformed"),  # no such day
    ("CD1.xz2026-000123.ABCDEFGH.20261231.ABCDEFGHIJKLMNOPQRSTUVWX", "malformed"),
    ("CD1.XZ2026-000123.ABCDEFGH.20261231.ABCDEFGHIJKLMNOPQRSTUVW", "malformed"),  # short sig
    ("CD1.XZ2026-000123.ABCDEFGH.20261231.ABCDEFGHIJKLMNOPQRSTUVWX.EXTRA", "malformed"),
    ("CD1.XZ2026-000123.ABCDEFGH.20261231.ABCDEFGHIJKLMNOPQRSTUVWX", "bad_signature"),
])
def test_bad_inputs_have_stable_reasons(key_provider, text, reason):
    res = qrsign.verify(text, key_provider)
    assert not res.ok
    assert res.reason == reason
    assert res.message_zh == qrsign.REASONS[reason]


def test_missing_key_gives_no_key(tmp_path):
    text = "CD1.XZ2026-000123.ABCDEFGH.20261231.ABCDEFGHIJKLMNOPQRSTUVWX"
    res = qrsign.verify(text, qrsign.file_key_provider(tmp_path / "nokey", create=False))
    assert res.reason == "no_key"


def test_bad_serial_cannot_be_signed(key_provider):
    for bad in ("", "编号1", "A.B", "X" * 33):
        with pytest.raises(ValueError):
            qrsign.make_payload(bad, ID, date(2026, 12, 31), key_provider)


def test_short_key_refused():
    with pytest.raises(qrsign.QrKeyError):
        qrsign.static_key_provider(b"short")


@settings(max_examples=200, deadline=None)
@given(pos=st.integers(min_value=0, max_value=200), ch=st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-."))
def test_any_single_character_change_is_refused(pos, ch):
    kp = qrsign.static_key_provider(bytes(range(32)))
    text = qrsign.make_payload("XZ2026-000123", ID, date(2026, 12, 31), kp)
    pos %= len(text)
    if text[pos] == ch:
        return
    res = qrsign.verify(text[:pos] + ch + text[pos + 1:], kp)
    assert not res.ok and res.reason in {"bad_signature", "malformed", "unknown_version",
                                         "not_certdesk"}


def test_key_file_is_created_private_and_stable(tmp_path):
    path = tmp_path / "keys" / "qr.key"
    provider = qrsign.file_key_provider(path)
    text = qrsign.make_payload("XZ2026-000001", ID, date(2026, 12, 31), provider)
    assert path.is_file()
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = qrsign.load_key_file(path)
    assert len(key) == 32
    # a second provider (another process, a restart) reads the same key
    assert qrsign.verify(text, qrsign.file_key_provider(path, create=False)).ok
    with pytest.raises(qrsign.QrKeyError) as ei:
        qrsign.generate_key_file(path)
    assert ei.value.code == "qr_key_exists"
    assert qrsign.load_key_file(path) == key


def test_corrupt_key_file(tmp_path):
    path = tmp_path / "qr.key"
    path.write_text("not hex")
    with pytest.raises(qrsign.QrKeyError) as ei:
        qrsign.load_key_file(path)
    assert ei.value.code == "qr_key_corrupt"
    with pytest.raises(qrsign.QrKeyError) as ei:
        qrsign.load_key_file(tmp_path / "missing.key")
    assert ei.value.code == "qr_key_missing"
