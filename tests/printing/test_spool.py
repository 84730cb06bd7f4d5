"""The shared spooler against a fake ``lp`` on PATH: the vector PDF itself reaches the queue, on the
station's printer, and every failure is a Chinese PrintError."""

from __future__ import annotations

import pytest

from desktop.printing import spool
from tests import fake_lp

PDF = b"%PDF-1.4\n% a vector page\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def pdf(tmp_path):
    p = tmp_path / "协助认证表 批次.pdf"  # spaces and Chinese in the name
    p.write_bytes(PDF)
    return p


def test_sends_the_pdf_itself_to_the_named_printer(tmp_path, monkeypatch, pdf):
    log = fake_lp.install(tmp_path, monkeypatch)
    assert spool.queue_available()
    job = spool.send_pdf(pdf, "前台-HP-M404", title="认证表")
    assert job == "前台-HP-M404-101"
    (call,) = fake_lp.calls(log)
    args = call["args"]
    assert args[args.index("-d") + 1] == "前台-HP-M404" and args[args.index("-t") + 1] == "认证表"
    assert args[-1] == str(pdf)
    assert open(call["copy"], "rb").read() == PDF  # not rasterised, not re-encoded


def test_default_printer_and_copies(tmp_path, monkeypatch, pdf):
    log = fake_lp.install(tmp_path, monkeypatch)
    assert spool.send_pdf(pdf) == "Default-101"
    assert spool.send_pdf(pdf, "  ", copies=2) == "Default-102"
    first, second = fake_lp.calls(log)
    assert "-d" not in first["args"] and "-n" not in first["args"]
    assert "-d" not in second["args"] and second["args"][second["args"].index("-n") + 1] == "2"


def test_station_printer_name_reaches_lp(tmp_path, monkeypatch, pdf):
    from desktop.services.station import StationSettings

    log = fake_lp.install(tmp_path, monkeypatch)
    station = StationSettings(tmp_path / "station.json")
    station.set("printer_name", "柜台2-激光")
    spool.send_pdf(pdf, station.get("printer_name"))
    (call,) = fake_lp.calls(log)
    assert call["args"][:2] == ["-d", "柜台2-激光"]


@pytest.mark.parametrize("stderr, expected", [
    ("lp: The printer or class does not exist.", "找不到打印机“X1”"),
    ("lp: Error - no default destination available.", "没有设置默认打印机"),
    ("lp: Destination \"X1\" is not accepting jobs.", "不接受打印任务"),
    ("lp: something odd happened", "打印队列拒绝了任务（lp: something odd happened）"),
])
def test_refusals_are_chinese_errors(tmp_path, monkeypatch, pdf, stderr, expected):
    fake_lp.install(tmp_path, monkeypatch, fail=stderr)
    with pytest.raises(spool.PrintError) as exc:
        spool.send_pdf(pdf, "X1")
    assert expected in exc.value.message_zh and exc.value.code == "print_refused"


def test_no_queue_and_missing_file(tmp_path, monkeypatch, pdf):
    fake_lp.install(tmp_path, monkeypatch)  # skips on Windows, where the shell verb is the queue
    with pytest.raises(spool.PrintError) as exc:
        spool.send_pdf(tmp_path / "gone.pdf")
    assert exc.value.code == "print_file_missing" and "找不到" in exc.value.message_zh
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert not spool.queue_available()
    with pytest.raises(spool.PrintError) as exc:
        spool.send_pdf(pdf)
    assert exc.value.code == "no_print_queue" and "lp" in exc.value.message_zh
