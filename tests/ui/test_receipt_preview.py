"""The counter receipt preview prints through the shared spooler (fake ``lp`` on PATH), and only
falls back to a QPrinter dialog where there is no system queue."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from desktop.domain.idnumber import make_number
from desktop.printing.data import BureauInfo, EntitlementLine, ReceiptData
from desktop.printing.receipt import receipt_pdf_bytes
from tests import fake_lp
from desktop.counter.station import ReceiptPrinter
from ui.dialogs import receipt_preview
from ui.dialogs.receipt_preview import ReceiptPreviewDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def pdf(tmp_path) -> Path:
    data = ReceiptData(receipt_no="R20261129-0001", name="张秀兰", id_number=make_number("152202", date(1950, 3, 1), 7),
                       certified_on=date(2026, 11, 29), method="counter",
                       covers=(EntitlementLine("企业职工基本养老金", date(2027, 11, 29)),),
                       clerk="李娜", workstation="窗口3", printed_on=date(2026, 11, 29))
    out = tmp_path / "receipt.pdf"
    out.write_bytes(receipt_pdf_bytes(data, BureauInfo(return_address="阿尔山市新城街", return_postcode="137800")))
    return out


def test_receipt_goes_to_the_station_printer_through_lp(qtbot, tmp_path, monkeypatch, pdf):
    log = fake_lp.install(tmp_path, monkeypatch)
    printer = ReceiptPrinter("窗口3-回执")
    dlg = ReceiptPreviewDialog(pdf, printer)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.image is not None, timeout=10_000)
    assert dlg.image.pixelColor(5, 5).name() == "#ffffff"
    with qtbot.waitSignal(dlg.printed, timeout=5_000) as blocker:
        dlg.print_now()
    assert blocker.args[0] == "已发送到打印机“窗口3-回执”（作业 窗口3-回执-101）"
    (call,) = fake_lp.calls(log)
    assert call["args"][:2] == ["-d", "窗口3-回执"] and call["args"][-1] == str(pdf)
    assert Path(call["copy"]).read_bytes() == pdf.read_bytes()
    assert printer.jobs == ["窗口3-回执-101"]


def test_receipt_print_failure_is_shown_and_retryable(qtbot, tmp_path, monkeypatch, pdf):
    fake_lp.install(tmp_path, monkeypatch, fail="lp: Error - no default destination available.")
    dlg = ReceiptPreviewDialog(pdf, ReceiptPrinter(""))
    qtbot.addWidget(dlg)
    dlg.print_now()
    assert "没有设置默认打印机" in dlg.info.text() and dlg.print_button.isEnabled()


def test_receipt_falls_back_to_qprinter_only_without_a_queue(qtbot, tmp_path, monkeypatch, pdf):
    empty = tmp_path / "no-lp"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    used = []
    monkeypatch.setattr(receipt_preview, "print_with_dialog", lambda p, parent: used.append(p) or "已发送 1 页到打印机")
    dlg = ReceiptPreviewDialog(pdf, ReceiptPrinter("窗口3-回执"))
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.printed, timeout=5_000):
        dlg.print_now()
    assert used == [pdf]
    # a demo printer (dry run) never needs the fallback
    demo = ReceiptPrinter(dry_run=True)
    dlg2 = ReceiptPreviewDialog(pdf, demo)
    qtbot.addWidget(dlg2)
    dlg2.print_now()
    assert used == [pdf] and len(demo.jobs) == 1
