"""Manual entry, run-mode refusal, the device-I/O thread, registry and the CLI commands."""

from __future__ import annotations

import json
import threading
import time
from datetime import date

import pytest

from desktop.platform import runmode
from desktop.cli import main as cli_main
from desktop.devices import registry
from desktop.devices.base import CardRead, ReaderFound
from desktop.devices.idcard import codec, samples
from desktop.devices.idcard.manual import ManualEntryError, make_manual_entry
from desktop.devices.io_thread import DeviceIOThread
from desktop.domain.idnumber import make_number

NUMBER = make_number("110101", date(1952, 3, 7), 123)


def test_manual_entry_validates_and_records_reason():
    entry = make_manual_entry(" " + NUMBER.lower() + " ", "card_unreadable", clerk="王")
    assert entry.id_number == NUMBER and entry.birth_date == date(1952, 3, 7) and entry.sex == "M"
    assert entry.reason_zh.startswith("证件芯片损坏")
    assert NUMBER not in repr(entry)
    card = entry.to_card("张建国")
    assert card.source == "manual" and card.photo_status == "none" and card.birth_date == "1952-03-07"


@pytest.mark.parametrize("number,reason,note,field", [
    (NUMBER[:17] + "0", "reader_fault", "", "number"),
    ("12345", "reader_fault", "", "number"),
    (NUMBER, "because", "", "reason"),
    (NUMBER, "other", "  ", "note"),
])
def test_manual_entry_rejections_are_in_chinese(number, reason, note, field):
    with pytest.raises(ManualEntryError) as info:
        make_manual_entry(number, reason, note)
    assert info.value.data["field"] == field and info.value.message_zh


def test_simulators_refuse_in_production(monkeypatch, tmp_path):
    from desktop.devices.idcard.fake_device import FakeSamDevice
    from desktop.devices.idcard.simulated import SimulatedReader

    monkeypatch.setenv("CERTDESK_MODE", "production")
    with pytest.raises(runmode.SimulationNotAllowed):
        SimulatedReader()
    with pytest.raises(runmode.SimulationNotAllowed):
        FakeSamDevice(str(tmp_path / "tty"))
    with pytest.raises(runmode.SimulationNotAllowed):
        registry.build_reader(registry.ReaderConfig(driver="simulated"))
    assert not (tmp_path / "tty").exists()


def test_device_thread_runs_session_and_submitted_calls():
    events = []
    cfg = registry.ReaderConfig(driver="simulated", options={"read_delay": 0})
    session = registry.build_session(cfg, events.append, poll_interval=0.01)
    io = DeviceIOThread(session.step, on_exit=session.close).start()
    try:
        assert io.submit(threading.current_thread).result(2) is io._thread
        io.submit(session.reader.place_card, 2).result(2)
        deadline = time.monotonic() + 2
        while not any(isinstance(e, CardRead) for e in events) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert isinstance(events[0], ReaderFound)
        card = next(e.card for e in events if isinstance(e, CardRead))
        assert card.card_type == "hk_mo_tw" and card.photo_status == "unavailable"
    finally:
        t0 = time.monotonic()
        io.stop()
        assert time.monotonic() - t0 < 0.05  # stop never blocks the caller
        assert io.join(2)
    assert not session.reader.is_open


def test_registry_config_and_autodetect(fake_sam):
    cfg = registry.ReaderConfig.from_mapping({"driver": "auto", "port": fake_sam.link_path, "x": 1})
    assert cfg.options == {"x": 1}
    assert registry.autodetect(cfg).driver == "sam_serial"
    reader = registry.build_reader(registry.ReaderConfig(port=fake_sam.link_path))
    assert reader.open().sam_id.startswith("05.01")
    reader.close()
    assert registry.autodetect(registry.ReaderConfig(sdk_path="/opt/termb.dll")).driver == "termb"


def run_cli(capsys, *argv):
    rc = cli_main(list(argv))
    return rc, capsys.readouterr().out


def test_cli_decode_card_reply(tmp_path, capsys):
    frame = samples.build_read_reply(samples.demo_cards()[0])
    hex_text = "\n".join(frame[i : i + 32].hex(" ") for i in range(0, len(frame), 32))
    path = tmp_path / "reply.hex"
    path.write_text(hex_text)
    rc, out = run_cli(capsys, "idcard", "decode", "--hex", str(path), "--json", "--today", "2026-11-29")
    doc = json.loads(out)
    assert rc == 0
    assert doc["card_type"] == "resident" and doc["name"] == "张建国" and doc["sex"] == "男"
    assert doc["nation"] == "汉" and doc["birth_date"] == "1952-03-07" and doc["valid_to"] == "长期"
    assert doc["photo_bytes"] == 1024 and doc["id_number"] == NUMBER and doc["issues"] == []


def test_cli_decode_sam_id_no_card_and_bad_frames(tmp_path, capsys):
    path = tmp_path / "f.hex"
    path.write_text(codec.build_reply(0x90, bytes.fromhex("05000100 09B83201 05BE1200 ADC5B111")).hex())
    assert json.loads(run_cli(capsys, "idcard", "decode", "--hex", str(path), "--json")[1])["sam_id"] \
        == "05.01-20101129-0001228293-0296863149"
    path.write_text("AA AA AA 96 69 00 04 00 00 80 84")
    assert json.loads(run_cli(capsys, "idcard", "decode", "--hex", str(path), "--json")[1])["result"] == "no_card"
    for text, code in [("AA AA AA 96 69 00 04 00 00 80 85", "bad_checksum"),
                       ("AA AA AA 96 69 00 04 00", "truncated"), ("hello", "bad_hex")]:
        path.write_text(text)
        rc, out = run_cli(capsys, "idcard", "decode", "--hex", str(path), "--json")
        assert rc == 5 and json.loads(out)["error"] == code  # a device fault (what the reader sent)


def test_cli_decode_a_captured_stream_with_noise_several_frames_and_pieces(tmp_path, capsys):
    """A serial log: line noise before the preamble, a find-card reply, a frame with a bad
    checksum, then the card reply split over many lines, and half a frame at the end. The command
    reads it as the driver does (FrameDecoder) and prints every good frame in order."""
    found = codec.build_reply(codec.SW_FOUND, bytes(4))
    corrupt = bytearray(codec.build_reply(codec.SW_OK, bytes(8)))
    corrupt[-1] ^= 0xFF
    card = samples.build_read_reply(samples.demo_cards()[0])
    noise = bytes.fromhex("00 FF AA AA 13 96 69 AA")  # includes a partial preamble
    stream = noise + found + bytes(corrupt) + b"\x55\x00" + card + codec.PREAMBLE + b"\x00"
    path = tmp_path / "capture.hex"
    path.write_text("\n".join(stream[i:i + 16].hex(" ") for i in range(0, len(stream), 16)))
    rc, out = run_cli(capsys, "idcard", "decode", "--hex", str(path), "--json", "--today", "2026-11-29")
    doc = json.loads(out)
    assert rc == 0 and doc["count"] == 2
    first, second = doc["frames"]
    assert first["result"] == "card_found" and first["offset"] == len(noise)
    assert second["result"] == "card" and second["name"] == "张建国" and second["id_number"] == NUMBER
    assert second["offset"] == len(noise) + len(found) + len(corrupt) + 2
    assert doc["errors"][0] == {"offset": len(noise) + len(found), "error": "bad_checksum",
                                "message": doc["errors"][0]["message"]}
    assert doc["errors"][-1]["error"] == "truncated" and doc["trailing_bytes"] == len(codec.PREAMBLE) + 1
    assert doc["discarded_bytes"] == len(noise) + len(corrupt) + 2
    # the same stream fed in pieces to the driver's decoder gives the same frames
    decoder, frames = codec.FrameDecoder(), []
    for i in range(0, len(stream), 7):
        decoder.feed(stream[i:i + 7])
        while True:
            try:
                frame = decoder.next_frame()
            except codec.BadChecksum:
                continue
            if frame is None:
                break
            frames.append(frame)
    assert frames == [found, card]


def test_cli_decode_noise_before_one_frame_and_nothing_usable(tmp_path, capsys):
    path = tmp_path / "f.hex"
    path.write_text("13 37 00 AA AA AA 96 69 00 04 00 00 80 84")  # noise, then a no-card reply
    rc, out = run_cli(capsys, "idcard", "decode", "--hex", str(path), "--json")
    doc = json.loads(out)
    assert rc == 0 and doc["count"] == 1 and doc["frames"][0]["result"] == "no_card"
    assert doc["frames"][0]["offset"] == 3 and doc["discarded_bytes"] == 3
    path.write_text("13 37 00 42")
    rc, out = run_cli(capsys, "idcard", "decode", "--hex", str(path), "--json")
    err = json.loads(out)
    assert rc == 5 and err["error"] == "bad_preamble" and err["message"]
    rc, out = run_cli(capsys, "idcard", "decode", "--hex", str(path))  # text output, same fault
    assert rc == 5


def test_cli_decode_text_output_lists_every_frame(tmp_path, capsys):
    path = tmp_path / "f.hex"
    two = codec.build_reply(codec.SW_NO_CARD) + codec.build_reply(codec.SW_NO_CARD)
    path.write_text(two.hex())
    rc, out = run_cli(capsys, "idcard", "decode", "--hex", str(path))
    assert rc == 0 and "第 1 帧" in out and "第 2 帧" in out and "共 2 帧" in out


def test_cli_devices_probe(fake_sam, tmp_path, capsys):
    rc, out = run_cli(capsys, "devices", "probe", "--json", "--port", fake_sam.link_path,
                      "--port", str(tmp_path / "none"), "--timeout", "0.2")
    doc = json.loads(out)
    assert rc == 0 and doc["readers"] == [fake_sam.link_path]
    first, second = doc["ports"]
    assert first["answered"] and first["sam_id"].startswith("05.01")
    assert second["answered"] is False
    assert doc["photo_decoder"]["available"] is False


def test_cli_modules_import_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys, desktop.cli.idcard, desktop.cli.devices;"
            "bad=[m for m in ('PySide6','serial','ctypes','hypothesis') if m in sys.modules];"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
