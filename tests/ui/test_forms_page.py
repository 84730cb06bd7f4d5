"""FormsPage offscreen: batch with progress and preview, receive flow, tracking with reprint."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from desktop.domain.idnumber import make_number
from desktop.services.database import Database
from desktop.services.forms import FormService
from desktop.services.hub import Services
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.services.operators import OperatorService
from desktop.platform.workstation import Actor
from ui import workers
from ui.pages.forms_page import FormsPage

pytestmark = pytest.mark.gui

ACTOR = Actor("clerk1", "ws-ui", "clerk")
TODAY = date(2026, 11, 29)


@pytest.fixture
def service(tmp_path):
    db = Database.open(f"sqlite:///{tmp_path / 'ui.sqlite'}")
    people = [("张秀兰", "2025-12-10", "异地"), ("欧阳建国", "2025-12-20", "异地"), ("李本地", "2025-12-05", "本地"),
              ("王德福", "2026-05-01", "异地")]
    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        for i, (name, last, res) in enumerate(people, 1):
            w.writerow([name, make_number("152202", date(1950, 1, 1), i), "企业离退休人员", "2010-01-01", last,
                        "13900000000", "辽宁省大连市沙河口区西安路街道", res, "2500"])
    assert ImportService(db).import_roster(path, Actor("sup1", "ws-ui", "supervisor"), today=TODAY).rejected == []
    yield Services(db).forms
    workers.wait_for_idle()
    db.dispose()


@pytest.fixture
def page(qtbot, service, tmp_path):
    p = FormsPage(service, ACTOR, TODAY, operators=OperatorService(service.db), output_dir=tmp_path / "out")
    (tmp_path / "out").mkdir()
    qtbot.addWidget(p)
    p.show()
    yield p
    workers.wait_for_idle()


def test_batch_with_progress_and_white_preview(qtbot, page):
    page.days.setValue(30)
    page.count_button.click()
    qtbot.waitUntil(lambda: "共 2 人" in page.count_label.text(), timeout=10_000)

    seen = []
    page.progress.valueChanged.connect(seen.append)
    with qtbot.waitSignal(page.batch_finished, timeout=30_000) as blocker:
        qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    res = blocker.args[0]
    assert len(res.forms) == 2 and not res.cancelled
    assert page.progress.value() == 100 and 50 in seen
    assert "已生成 2 份" in page.batch_label.text()
    assert page.preview_button.isEnabled() and page.labels_button.isEnabled()

    page.preview_button.click()
    dlg = page.preview
    qtbot.waitUntil(lambda: dlg.total == 4, timeout=20_000)  # two forms, two pages each
    img = dlg.images[0]
    assert img.pixelColor(2, 2) == QColor("white")  # painted onto white, not transparent
    dark = sum(1 for x in range(0, img.width(), 3) for y in range(0, img.height(), 3)
               if img.pixelColor(x, y).lightness() < 80)
    assert dark > 100  # text and the QR are there
    saved = dlg.save_as(page.output_dir / "copy.pdf")
    assert saved.read_bytes() == Path(res.pdf).read_bytes()
    dlg.close()

    # nobody left to print
    with qtbot.waitSignal(page.batch_finished, timeout=10_000) as blocker:
        page.generate_button.click()
    assert blocker.args[0].forms == () and "没有需要打印" in page.batch_label.text()


def test_print_to_pdf_printer(qtbot, page, tmp_path, service):
    from PySide6.QtPrintSupport import QPrinter

    from ui.dialogs.forms_preview import print_pdf

    number = make_number("152202", date(1950, 1, 1), 1)
    pdf = service.issue(number, ACTOR, tmp_path / "one.pdf", today=TODAY).pdf
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    assert print_pdf(pdf, printer) == 2
    assert (tmp_path / "printed.pdf").stat().st_size > 10_000


def test_receive_flow(qtbot, page, service, tmp_path):
    number = make_number("152202", date(1950, 1, 1), 1)
    other = make_number("152202", date(1950, 1, 1), 2)
    pdf = service.issue(number, ACTOR, tmp_path / "one.pdf", today=date(2026, 11, 2)).pdf
    page.tabs.setCurrentIndex(1)

    # someone else's person is open: refused in plain Chinese
    page.set_expected_person(other)
    page.scan_edit.setText(pdf)
    with qtbot.waitSignal(page.check_finished, timeout=20_000) as blocker:
        page.check_button.click()
    assert not blocker.args[0].ok and "不是当前人员" in page.verdict.text()
    assert not page.accept_button.isEnabled()

    page.set_expected_person(number)
    with qtbot.waitSignal(page.check_finished, timeout=20_000) as blocker:
        page.check_button.click()
    chk = blocker.args[0]
    assert chk.ok and chk.serial == service.serial_prefix(2026) + "000001"
    assert "张秀兰" in page.verdict.text() and number not in page.verdict.text()
    assert page.accept_button.isEnabled()

    # (QTest cannot type CJK characters; an input method would commit them like setText)
    page.body_edit.setText("大连市沙河口区西安路街道社区服务中心")
    page.certifier_edit.setText("王芳")
    page.date_edit.setDate(page.date_edit.date().addDays(-4))
    with qtbot.waitSignal(page.receive_finished, timeout=20_000) as blocker:
        qtbot.mouseClick(page.accept_button, Qt.MouseButton.LeftButton)
    res = blocker.args[0]
    assert res.accepted and res.cert_date == date(2026, 11, 25)
    assert "已登记" in page.result_label.text() and not page.accept_button.isEnabled()

    # the same form again
    with qtbot.waitSignal(page.check_finished, timeout=20_000):
        page.check_button.click()
    assert "已经登记过" in page.verdict.text()

    # a typed serial that does not exist
    page.scan_edit.clear()
    qtbot.keyClicks(page.serial_edit, service.serial_prefix(2026) + "009999")
    with qtbot.waitSignal(page.check_finished, timeout=10_000):
        qtbot.keyClick(page.serial_edit, Qt.Key.Key_Return)
    assert "没有这个表格编号" in page.verdict.text()


def test_tracking_and_reprint(qtbot, page, service, tmp_path):
    number = make_number("152202", date(1950, 1, 1), 1)
    service.issue(number, ACTOR, tmp_path / "one.pdf", today=TODAY)
    page.tabs.setCurrentIndex(2)
    with qtbot.waitSignal(page.list_loaded, timeout=10_000) as blocker:
        page.reload()
    (row,) = blocker.args[0]
    assert page.track_model.rowCount() == 1
    shown = [page.track_model.index(0, c).data() for c in range(page.track_model.columnCount())]
    assert service.serial_prefix(2026) + "000001" in shown and number not in shown and row.masked_id in shown

    page.which.setCurrentIndex(1)  # overdue: none yet
    qtbot.waitUntil(lambda: page.track_model.rowCount() == 0 and "共 0 份" in page.track_label.text(),
                    timeout=10_000)
    page.which.setCurrentIndex(0)
    qtbot.waitUntil(lambda: page.track_model.rowCount() == 1, timeout=10_000)
    page.track_table.selectRow(0)
    with qtbot.waitSignal(page.reprinted, timeout=20_000) as blocker:
        page.reprint_button.click()
    assert blocker.args[0].endswith(f"补打-{service.serial_prefix(2026)}000001.pdf")
    qtbot.waitUntil(lambda: page.preview is not None and page.preview.total == 2, timeout=20_000)
    qtbot.waitUntil(lambda: page.track_model.rowCount() == 1 and
                    page.track_model.index(0, 6).data() == "2", timeout=10_000)
    page.preview.close()


def test_preview_prints_the_vector_pdf_to_the_station_printer(qtbot, service, tmp_path, monkeypatch):
    from tests import fake_lp

    log = fake_lp.install(tmp_path, monkeypatch)
    station = {"printer_name": "二楼-HP-M404"}
    (tmp_path / "out").mkdir()
    page = FormsPage(service, ACTOR, TODAY, operators=OperatorService(service.db), output_dir=tmp_path / "out",
                     printer_name=lambda: station["printer_name"])
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.batch_finished, timeout=30_000) as blocker:
        page.generate_button.click()
    res = blocker.args[0]
    page.preview_button.click()
    dlg = page.preview
    qtbot.waitUntil(lambda: dlg.total == 4, timeout=20_000)
    with qtbot.waitSignal(dlg.printed, timeout=10_000) as sent:
        qtbot.mouseClick(dlg.print_button, Qt.MouseButton.LeftButton)
    assert sent.args[0] == "二楼-HP-M404-101"
    assert "二楼-HP-M404" in dlg.info.text() and "二楼-HP-M404-101" in dlg.info.text()
    (call,) = fake_lp.calls(log)
    assert call["args"][:2] == ["-d", "二楼-HP-M404"] and call["args"][-1] == res.pdf
    assert Path(call["copy"]).read_bytes() == Path(res.pdf).read_bytes()  # the vector PDF, not pixels

    # the labels go the same way; a refused job is reported in Chinese and nothing is lost
    fake_lp.install(tmp_path, monkeypatch, fail="lp: The printer or class does not exist.", name="broken")
    station["printer_name"] = "不存在的打印机"
    page.labels_button.click()
    labels = page.preview
    qtbot.waitUntil(lambda: labels.total > 0, timeout=20_000)
    with qtbot.waitSignal(labels.print_failed, timeout=10_000):
        labels.print_button.click()
    assert "找不到打印机“不存在的打印机”" in labels.info.text() and labels.print_button.isEnabled()
    labels.close()
    dlg.close()


def test_without_a_system_queue_the_preview_falls_back_to_qprinter(qtbot, service, tmp_path, monkeypatch):
    from ui.dialogs import forms_preview

    empty = tmp_path / "no-lp"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    used = []
    monkeypatch.setattr(forms_preview, "print_with_dialog", lambda pdf, parent: used.append(pdf) or "已发送 2 页到打印机")
    number = make_number("152202", date(1950, 1, 1), 1)
    pdf = service.issue(number, ACTOR, tmp_path / "one.pdf", today=TODAY).pdf
    dlg = forms_preview.FormsPreviewDialog(pdf, "打印预览", printer_name="无")
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.printed, timeout=5_000):
        dlg.print_button.click()
    assert used == [Path(pdf)] and dlg.info.text() == "已发送 2 页到打印机"


def test_overdue_tab_reprint_from_the_ui_then_print(qtbot, service, tmp_path, monkeypatch):
    """跟踪 → 已逾期 → 补打所选: same serial, count 2 in the list, and the reprint goes to the queue."""
    from desktop.formats import scan
    from tests import fake_lp

    log = fake_lp.install(tmp_path, monkeypatch)
    number = make_number("152202", date(1950, 1, 1), 1)  # deadline 2026-12-10
    first = service.issue(number, ACTOR, tmp_path / "one.pdf", today=TODAY)
    later = date(2027, 1, 15)
    (tmp_path / "out").mkdir()
    page = FormsPage(service, ACTOR, later, operators=OperatorService(service.db), output_dir=tmp_path / "out", printer_name="柜台A4")
    qtbot.addWidget(page)
    page.show()
    page.tabs.setCurrentIndex(2)
    with qtbot.waitSignal(page.list_loaded, timeout=10_000):
        page.which.setCurrentIndex(1)  # 已逾期
    assert page.track_model.rowCount() == 1
    assert page.track_model.index(0, 4).data() == "36"  # days overdue on 2027-01-15

    page.reprint_button.click()  # nothing selected
    assert "请先选择" in page.track_label.text()
    page.track_table.selectRow(0)
    with qtbot.waitSignal(page.reprinted, timeout=20_000) as blocker:
        qtbot.mouseClick(page.reprint_button, Qt.MouseButton.LeftButton)
    pdf = blocker.args[0]
    assert scan.find_payload(scan.decode_file(pdf)).text == scan.find_payload(scan.decode_file(first.pdf)).text
    qtbot.waitUntil(lambda: page.track_model.rowCount() == 1 and page.track_model.index(0, 6).data() == "2"
                    and page.which.currentData() == "overdue", timeout=10_000)
    dlg = page.preview
    qtbot.waitUntil(lambda: dlg.total == 2, timeout=20_000)
    assert dlg.images[0].pixelColor(2, 2) == QColor("white")
    with qtbot.waitSignal(dlg.printed, timeout=10_000):
        dlg.print_button.click()
    (call,) = fake_lp.calls(log)
    assert call["args"][:2] == ["-d", "柜台A4"] and call["args"][-1] == pdf
    dlg.close()


def test_a_typed_serial_is_confirmed_by_a_supervisor_off_the_gui_thread(qtbot, page):
    """Issue 15 §4 / 18 §4: the supervisor's password is checked on the database pool (argon2 and
    an audit write); a wrong one is refused in the dialog, the right one returns the supervisor."""
    import threading

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLabel, QLineEdit

    page.operators.create("wangzr", "王主任", "supervisor", "Super2026x", Actor("admin", "ws-ui", "admin"),
                          must_change=False)
    gui = threading.get_ident()
    checked_on = []
    real = page.operators.verify_second_officer

    def spy(*a, **kw):
        checked_on.append(threading.get_ident())
        return real(*a, **kw)

    page.operators.verify_second_officer = spy
    seen = []

    def dialog():
        return next(w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible())

    def fill(password, then):
        dlg = dialog()
        user, pw = dlg.findChildren(QLineEdit)
        user.setText("wangzr")
        pw.setText(password)
        dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
        QTimer.singleShot(50, then)

    def after_wrong():
        dlg = dialog()
        if not any("密码" in lab.text() or "错误" in lab.text() for lab in dlg.findChildren(QLabel)
                   if lab.text() not in ("审核主管", "密码")):
            QTimer.singleShot(50, after_wrong)  # still checking
            return
        seen.append([lab.text() for lab in dlg.findChildren(QLabel)])
        fill("Super2026x", lambda: None)

    QTimer.singleShot(0, lambda: fill("wrong-password", after_wrong))
    who = page.confirm_typed_serial()
    assert who is not None and (who.operator, who.role) == ("wangzr", "supervisor")
    assert len(checked_on) == 2 and gui not in checked_on  # both checks off the GUI thread
    assert seen  # the wrong password was refused in the dialog before the right one
