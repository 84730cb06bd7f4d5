"""SettingsDialog (pytest-qt, offscreen) on a real database and a real station file: one tab per
group declared in OPTIONS / STATION_OPTIONS; an admin changes the bureau's phone (stored, audited,
queued for the central database); a clerk or supervisor sees bureau settings read-only and the
service refuses them; device and printer choices go to this workstation's file.
CERTDESK_SCREENSHOTS=1 saves screenshots/settings-*.png."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFormLayout, QLabel, QPushButton
from sqlalchemy import text

from desktop.errors import PermissionDenied
from desktop.services.database import Database
from desktop.services.settings import OPTIONS, SettingsService
from desktop.services.station import STATION_OPTIONS, StationSettings
from desktop.platform.workstation import Actor

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
WS = "ws-test"
ADMIN = Actor("boss", WS, "admin")
CLERK = Actor("zhangmin", WS, "clerk")
SUPERVISOR = Actor("lizr", WS, "supervisor")


@pytest.fixture
def db(tmp_path):
    db = Database.open(str(tmp_path / "settings.sqlite"))
    yield db
    db.dispose()


@pytest.fixture
def station(tmp_path):
    return StationSettings(tmp_path / "station.json")


@pytest.fixture
def open_dialog(qtbot, styled_qapp, db, station, no_dangling_threads):
    from ui.dialogs.settings_dialog import SettingsDialog

    def make(actor):
        dlg = SettingsDialog(SettingsService(db), station, actor)
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.waitExposed(dlg)
        return dlg

    return make


def tab_titles(dlg):
    return [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())]


def save(qtbot, dlg):
    button = next(b for b in dlg.findChildren(QPushButton) if b.text() == "保存")
    with qtbot.waitSignal(dlg.finished, timeout=10_000):
        button.click()


def audit(db, action):
    with db.engine.connect() as conn:
        return conn.execute(text("select operator, workstation, detail from audit_log where action = :a order by seq"),
                            {"a": action}).all()


def test_tabs_are_generated_from_the_declarations(open_dialog):
    from ui.dialogs.settings_dialog import GROUP_ZH

    dlg = open_dialog(ADMIN)
    groups = list(dict.fromkeys(o.group for o in [*OPTIONS.values(), *STATION_OPTIONS.values()]))
    assert tab_titles(dlg) == [GROUP_ZH[g] for g in groups]
    assert set(dlg.editors) == set(OPTIONS) | set(STATION_OPTIONS)
    for i, group in enumerate(groups):  # every option sits on its group's tab with its Chinese title
        page = dlg.tabs.widget(i).widget()  # each tab's form sits in a scroll area
        labels = {lab.text() for lab in page.findChildren(QLabel)}
        for o in [*OPTIONS.values(), *STATION_OPTIONS.values()]:
            if o.group == group:
                assert o.title_zh in labels
                assert dlg.editors[o.key].parent() is page
    assert dlg.editors["bureau_phone"].text() == OPTIONS["bureau_phone"].default
    assert dlg.editors["idle_lock_minutes"].value() == 5
    assert all(dlg.editors[k].isEnabled() for k in OPTIONS)


def test_admin_changes_the_bureau_phone_stored_and_audited(qtbot, open_dialog, db):
    dlg = open_dialog(ADMIN)
    if os.environ.get("CERTDESK_SCREENSHOTS"):
        (ROOT / "screenshots").mkdir(exist_ok=True)
        dlg.grab().save(str(ROOT / "screenshots" / "settings-bureau.png"))
    phone = dlg.editors["bureau_phone"]
    phone.clear()
    QTest.keyClicks(phone, "0482-7126000")
    dlg.editors["idle_lock_minutes"].setValue(10)
    assert dlg.changes() == ({"bureau_phone": "0482-7126000", "idle_lock_minutes": 10}, {})
    save(qtbot, dlg)
    assert dlg.result() == dlg.DialogCode.Accepted and dlg.error.text() == ""
    fresh = SettingsService(db)  # read back from the database, not a cache
    assert fresh.get("bureau_phone") == "0482-7126000" and fresh.get("idle_lock_minutes") == 10
    rows = audit(db, "settings.change")
    assert [(r.operator, r.workstation, json.loads(r.detail)) for r in rows] == [
        ("boss", WS, {"key": "bureau_phone", "value": "0482-7126000"}),
        ("boss", WS, {"key": "idle_lock_minutes", "value": 10})]
    with db.engine.connect() as conn:  # shared with the other counters through the central database
        assert conn.execute(text("select count(*) from outbox where entity = 'setting' and entity_id = 'bureau_phone'")
                            ).scalar() == 1


def test_face_thresholds_must_be_in_order(qtbot, open_dialog, db):
    dlg = open_dialog(ADMIN)
    dlg.editors["face_accept"].setValue(0.7)
    dlg.editors["face_reject"].setValue(0.6)
    dlg.save()
    assert dlg.error.text() == "人脸比对的通过标准不能大于不通过标准" and dlg.isVisible()
    assert SettingsService(db).get("face_accept") == 0.5 and audit(db, "settings.change") == []


@pytest.mark.parametrize("actor", [CLERK, SUPERVISOR], ids=["clerk", "supervisor"])
def test_non_admin_sees_bureau_settings_read_only(qtbot, open_dialog, db, station, actor):
    dlg = open_dialog(actor)
    if os.environ.get("CERTDESK_SCREENSHOTS") and actor is CLERK:
        dlg.tabs.setCurrentIndex(0)
        dlg.grab().save(str(ROOT / "screenshots" / "settings-clerk.png"))
    for key in OPTIONS:
        assert not dlg.editors[key].isEnabled(), key
    for key in STATION_OPTIONS:
        assert dlg.editors[key].isEnabled(), key
    note = dlg.tabs.widget(0).widget().layout().itemAt(0, QFormLayout.ItemRole.SpanningRole).widget()
    assert "仅系统管理员可修改" in note.text()
    # even if an editor were changed, nothing of the bureau's is written
    dlg.editors["bureau_phone"].setText("110")
    assert dlg.changes() == ({}, {})
    save(qtbot, dlg)
    assert SettingsService(db).get("bureau_phone") == OPTIONS["bureau_phone"].default
    # and the service itself refuses, with an audit record of the attempt
    with pytest.raises(PermissionDenied, match="系统管理员"):
        SettingsService(db).set("bureau_phone", "110", actor)
    assert SettingsService(db).get("bureau_phone") == OPTIONS["bureau_phone"].default
    denied = audit(db, "permission.denied")
    assert len(denied) == 1 and denied[0].operator == actor.operator
    assert json.loads(denied[0].detail)["action"] == "settings.change"
    assert audit(db, "settings.change") == []


def test_station_devices_and_printer_go_to_the_station_file(qtbot, open_dialog, db, station, tmp_path):
    dlg = open_dialog(CLERK)  # this PC's devices: any signed-in operator may set them
    driver = dlg.editors["reader_driver"]
    assert driver.currentData() == "auto" and driver.currentText() == "自动检测"
    driver.setCurrentIndex(driver.findData("sam_serial"))
    port = dlg.editors["reader_port"]
    QTest.keyClicks(port, "COM3")
    dlg.editors["camera_kind"].setCurrentIndex(dlg.editors["camera_kind"].findData("webcam"))
    dlg.editors["camera_index"].setValue(1)
    dlg.editors["print_after_record"].setChecked(False)
    printer = dlg.editors["printer_name"]
    assert printer.currentText() == "（系统默认打印机）"
    dlg.tabs.setCurrentIndex(next(i for i in range(dlg.tabs.count()) if dlg.tabs.widget(i).isAncestorOf(printer)))
    printer.lineEdit().selectAll()
    QTest.keyClicks(printer.lineEdit(), "HP LaserJet 1020")
    QTest.keyClick(printer.lineEdit(), Qt.Key.Key_Return)  # Enter in the editable box
    if dlg.isVisible():
        save(qtbot, dlg)
    stored = json.loads((tmp_path / "station.json").read_text(encoding="utf-8"))
    assert stored == {"reader_driver": "sam_serial", "reader_port": "COM3", "camera_index": 1,
                      "print_after_record": False, "printer_name": "HP LaserJet 1020"}
    again = StationSettings(tmp_path / "station.json")
    assert again.get("printer_name") == "HP LaserJet 1020" and again.get("camera_index") == 1
    cfg = again.reader_config(demo=False)
    assert (cfg.driver, cfg.port) == ("sam_serial", "COM3")
    assert audit(db, "settings.change") == []  # nothing of the bureau's was touched

    # the dialog opened again shows the stored values; choosing the system default clears the printer
    dlg2 = open_dialog(CLERK)
    assert dlg2.editors["reader_driver"].currentText() == "串口 SAM 模块"
    assert dlg2.editors["reader_port"].text() == "COM3"
    assert dlg2.editors["printer_name"].currentText() == "HP LaserJet 1020"
    dlg2.editors["printer_name"].setCurrentIndex(0)
    save(qtbot, dlg2)
    assert StationSettings(tmp_path / "station.json").get("printer_name") == ""


def test_every_hint_is_plain_chinese():
    """Issue 19 §4: no "auto=…, sam_serial=…", file names or code words in front of a clerk."""
    import re

    for o in [*OPTIONS.values(), *STATION_OPTIONS.values()]:
        for text in (o.title_zh, o.description_zh):
            assert "=" not in text and not re.search(r"[A-Za-z_]+\.(dll|so)|\b[a-z]+_[a-z]+\b|\bauto\b", text), \
                (o.key, text)
