"""The SAM serial driver against a fake reader speaking the real protocol on a pty."""

from __future__ import annotations

import threading
import time

import pytest

from desktop.devices.base import (
    CardPlaced,
    CardRead,
    CardReadError,
    CardRemoved,
    ReaderDisconnected,
    ReaderFound,
    ReaderLost,
    ReaderNotFound,
    ReaderTimeout,
    ReadFailed,
)
from desktop.devices.idcard import codec, samples
from desktop.devices.idcard.sam_serial import SamSerialReader, probe_port
from desktop.devices.idcard.session import IDLE, PRESENT, ReaderSession

CARD = samples.demo_cards()[0]
SAM_ID = "05.01-20101129-0001228293-0296863149"


@pytest.fixture
def reader(fake_sam, today):
    r = SamSerialReader(fake_sam.link_path, timeout_scale=0.25, today=lambda: today)
    yield r
    r.close()


def test_open_checks_status_and_reads_sam_id(fake_sam, reader):
    info = reader.open()
    assert info.sam_id == SAM_ID and info.driver == "sam_serial"
    assert fake_sam.requests[:2] == ["sam_status", "sam_id"]


def test_no_card_then_card_then_fragmented_read(fake_sam, reader):
    fake_sam.max_chunk = 7  # the 1295-byte reply arrives in ~300 pieces
    reader.open()
    assert reader.find_card() is False
    fake_sam.place_card(CARD)
    assert reader.find_card() is True
    card = reader.read_card()
    assert card.name == "张建国" and card.id_number == CARD.id_number and card.source == "sam_serial"
    assert fake_sam.requests[-3:] == ["select_card", "read_base", "read_appended_address"]


def test_noise_before_every_preamble_is_skipped(fake_sam, reader):
    fake_sam.noise = b"\x00\xff\xaa\xaa\x96"  # looks almost like a preamble
    fake_sam.place_card(CARD)
    reader.open()
    assert reader.find_card() is True
    assert reader.read_card().name == "张建国"
    assert reader.stats["noise_bytes"] >= 5 * 4


def test_bad_checksum_is_retried(fake_sam, reader):
    fake_sam.place_card(CARD)
    reader.open()
    fake_sam.corrupt_next(1, codec.CMD_READ)
    assert reader.read_card().name == "张建国"
    assert reader.stats["bad_checksums"] == 1 and reader.stats["resends"] == 1
    assert fake_sam.requests.count("read_base") == 2


def test_persistent_bad_checksums_fail_the_read(fake_sam, reader):
    fake_sam.place_card(CARD)
    reader.open()
    fake_sam.corrupt_next(5, codec.CMD_READ)
    with pytest.raises(CardReadError):
        reader.read_card()


def test_card_removed_mid_read(fake_sam, reader):
    fake_sam.place_card(CARD)
    reader.open()
    assert reader.find_card()
    fake_sam.remove_card_during_read()
    with pytest.raises(CardReadError) as info:
        reader.read_card()
    assert "重新放置" in info.value.message_zh
    assert reader.find_card() is False


def test_select_fails_without_card(fake_sam, reader):
    reader.open()
    with pytest.raises(CardReadError) as info:
        reader.read_card()
    assert info.value.data["sw3"] == 0x81


def test_dead_port_raises_disconnected(fake_sam, reader):
    reader.open()
    fake_sam.unplug()
    with pytest.raises(ReaderDisconnected) as info:
        reader.find_card()
    assert "断开" in info.value.message_zh
    assert not reader.is_open
    with pytest.raises(ReaderNotFound):
        reader.open()


def test_mute_reader_times_out(fake_sam, reader):
    reader.open()
    fake_sam.mute = True
    t0 = time.monotonic()
    with pytest.raises(ReaderTimeout):
        reader.find_card()
    assert time.monotonic() - t0 < 1.0


def test_probe_port_reports_what_answered(fake_sam, tmp_path):
    result = probe_port(fake_sam.link_path)
    assert result["answered"] and result["sam_status"] == "0x90" and result["sam_id"] == SAM_ID
    missing = probe_port(str(tmp_path / "nothing"))
    assert missing["answered"] is False and missing["error"] == "reader_not_found"
    fake_sam.mute = True
    silent = probe_port(fake_sam.link_path, timeout=0.1)
    assert silent["answered"] is False and silent["error"] == "reader_timeout"


# ---------------------------------------------------------------- the session over the pty
class Recorder:
    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def kinds(self):
        return [type(e).__name__ for e in self.events]


def run_until(session, pred, limit=200):
    for _ in range(limit):
        if pred():
            return
        time.sleep(min(session.step(), 0.02))
    raise AssertionError("condition not reached")


def test_session_walks_every_state(fake_sam, reader):
    rec = Recorder()
    s = ReaderSession(reader, rec, poll_interval=0.01, failure_backoff=0.01, reconnect_interval=0.01)
    run_until(s, lambda: s.state == IDLE)
    assert isinstance(rec.events[0], ReaderFound) and rec.events[0].info.sam_id == SAM_ID
    fake_sam.place_card(CARD)
    run_until(s, lambda: s.state == PRESENT)
    assert rec.kinds()[-2:] == ["CardPlaced", "CardRead"]
    card = rec.events[-1].card
    assert card.name == "张建国" and card.photo_status == "unavailable"
    assert "照片" in card.photo_message_zh and len(card.photo_wlt) == 1024
    fake_sam.remove_card()
    run_until(s, lambda: s.state == IDLE)
    assert isinstance(rec.events[-1], CardRemoved)

    # removed mid-read: a clear failure, then back to idle; a new card reads normally
    fake_sam.place_card(CARD)
    fake_sam.remove_card_during_read()
    run_until(s, lambda: any(isinstance(e, ReadFailed) for e in rec.events))
    run_until(s, lambda: s.state == IDLE)
    fake_sam.place_card(CARD)
    run_until(s, lambda: s.state == PRESENT)
    assert isinstance(rec.events[-1], CardRead)

    # unplugged: reader lost (once), then found again when it is back
    fake_sam.unplug()
    run_until(s, lambda: isinstance(rec.events[-1], ReaderLost))
    for _ in range(5):
        s.step()
    assert sum(isinstance(e, ReaderLost) for e in rec.events) == 1
    assert "断开" in rec.events[-1].message_zh
    fake_sam.replug()
    run_until(s, lambda: isinstance(rec.events[-1], (ReaderFound, CardPlaced, CardRead)))
    assert any(isinstance(e, ReaderFound) for e in rec.events[-3:])


def test_session_unplug_mid_read_reports_read_failure_and_loss(fake_sam, reader):
    rec = Recorder()
    s = ReaderSession(reader, rec, poll_interval=0.01, failure_backoff=0.01)
    run_until(s, lambda: s.state == IDLE)
    fake_sam.place_card(CARD)
    s.step()  # find → READING
    assert isinstance(rec.events[-1], CardPlaced)
    fake_sam.unplug()
    s.step()
    assert rec.kinds()[-2:] == ["ReadFailed", "ReaderLost"]


def test_session_mute_reader_becomes_lost_after_repeated_timeouts(fake_sam, reader):
    rec = Recorder()
    s = ReaderSession(reader, rec, poll_interval=0.01, failure_backoff=0.01, lost_after_timeouts=2)
    run_until(s, lambda: s.state == IDLE)
    fake_sam.mute = True
    s.step()
    assert not any(isinstance(e, ReaderLost) for e in rec.events)
    s.step()
    assert isinstance(rec.events[-1], ReaderLost)
