"""The counter screen end to end (pytest-qt, offscreen): simulated reader and camera, scripted face
check, a fresh database built through the services. Set CERTDESK_SCREENSHOTS=1 to save
screenshots/counter-*.png."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "desktop"))
AS_OF = date(2026, 11, 29)
SHOTS = os.environ.get("CERTDESK_SCREENSHOTS")


def shot(widget, name):
    if SHOTS:
        (ROOT / "screenshots").mkdir(exist_ok=True)
        widget.window().grab().save(str(ROOT / "screenshots" / f"counter-{name}.png"))


@pytest.fixture
def world(tmp_path):
    from scenario import Roster

    from desktop.domain.months import Month
    from desktop.services.database import Database
    from desktop.services.hub import Services
    from desktop.services.operators import OperatorService
    from desktop.platform.workstation import Actor

    db = Database.open(f"sqlite:///{tmp_path / 'counter-ui.sqlite'}")
    r = Roster(db, tmp_path)
    people = {
        "normal": r.add(r.person(date(1950, 3, 1)), "enterprise_retiree", date(2010, 4, 1), date(2026, 1, 10),
                        amount=3200, name="王秀英"),
        "suspended": r.add(r.person(date(1948, 6, 2)), "enterprise_retiree", date(2008, 7, 1), date(2025, 6, 15),
                           amount=2800, name="刘长海"),
        "two": r.add(r.person(date(1951, 1, 5)), "resident_pension", date(2016, 2, 1), date(2026, 8, 2),
                     amount=300, name="赵淑芬"),
    }
    r.add(people["two"], "enterprise_survivor", date(2020, 1, 1), date(2026, 11, 2), amount=1000, name="赵淑芬")
    r.load(today=AS_OF)
    admin = Actor("admin", "ws-test", "admin")
    for m in ("2026-07", "2026-08", "2026-09", "2026-10", "2026-11"):
        from desktop.services.payroll import PayrollService
        from desktop.services.settings import SettingsService

        PayrollService(db, SettingsService(db)).run(Month.parse(m), admin)
    services = Services(db)
    services.__dict__["operators"] = OperatorService(db, hasher=PasswordHasher(time_cost=1, memory_cost=1024,
                                                                               parallelism=1))
    ops = services.operators
    ops.create("zhangmin", "张敏", "clerk", "Counter2026", admin, must_change=False)
    ops.create("lizr", "李主任", "supervisor", "Super2026x", admin, must_change=False)
    yield db, services, people
    db.dispose()


def card_for(number, name, birth, sex=None):
    from desktop.devices.idcard.samples import RESIDENT, CardSpec

    sex = "1" if int(number[16]) % 2 else "2"  # consistent with the number (no warning)

    return CardSpec(RESIDENT, name, sex, "01", birth.strftime("%Y%m%d"), "内蒙古自治区兴安盟阿尔山市林海街道1号",
                    number, "阿尔山市公安局", "20160101", "长期")


@pytest.fixture
def counter(qtbot, styled_qapp, world, tmp_path):
    from desktop.devices.idcard import samples
    from desktop.domain.idnumber import make_number
    from desktop.counter.station import build_demo_station
    from ui.models.backend import Backend
    from ui.pages.counter import CounterPage
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    db, services, people = world
    helper_number = make_number("152201", date(1975, 3, 4), 123)
    cards = [card_for(people["normal"], "王秀英", date(1950, 3, 1), "2"),
             card_for(people["suspended"], "刘长海", date(1948, 6, 2)),
             card_for(people["two"], "赵淑芬", date(1951, 1, 5), "2"),
             card_for(helper_number, "王小明", date(1975, 3, 4)),
             samples.demo_cards()[0]]  # 张建国: not on this roster
    resident = ResidentScreen(PromptSpeaker(use_tts=False, audio_dir=tmp_path))
    qtbot.addWidget(resident)
    resident.resize(800, 600)
    kit = build_demo_station(cards=cards, pace_fps=60)
    backend = Backend(services.persons, services.lists, AS_OF, True, "test", services, station=kit)
    page = CounterPage()
    page.set_resident_screen(resident)
    qtbot.addWidget(page)
    page.resize(1500, 900)
    page.show()
    op = services.operators.login("zhangmin", "Counter2026", "ws-test")
    page.set_operator(op, "ws-test")
    page.set_backend(backend)
    qtbot.waitUntil(lambda: page.reader_ok and page.camera_ready, timeout=5000)  # the camera opens off the GUI thread
    page.helper_number = helper_number
    page.resident_screen = resident
    yield page
    page.shutdown()


def reader(page):
    return page.bridge.session.reader


def place(qtbot, page, i, state="person"):
    reader(page).place_card(i)
    qtbot.waitUntil(lambda: page.state == state, timeout=5000)


def finish_receipt(qtbot, page):
    qtbot.waitUntil(lambda: page.preview is not None and page.preview.isVisible() and page.preview.image is not None,
                    timeout=8000)
    page.preview.print_button.click()
    qtbot.waitUntil(lambda: page.state == "printed", timeout=3000)


def remove(qtbot, page):
    reader(page).remove_card()
    page.primary_action()  # Enter: next resident
    qtbot.waitUntil(lambda: page.state == "idle", timeout=3000)


def certs(db):
    with db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(
            "select c.method, c.operator, c.approver, c.workstation, c.evidence, p.name from certifications c "
            "join persons p on p.id = c.person_id where c.cert_date = '2026-11-29' order by c.created_at"))]


def test_normal_resident_face_check_record_and_receipt(qtbot, counter, world):
    db, services, people = world
    page = counter
    shot(page, "1-waiting")
    place(qtbot, page, 0)
    assert page.lookup.found and page.lookup.person.name == "王秀英"
    assert page.primary_button.isEnabled() and "人脸" in page.primary_button.text()
    shot(page, "2-person")
    page.primary_action()  # Enter: start the face check
    qtbot.waitUntil(lambda: page.state == "face", timeout=2000)
    qtbot.waitUntil(lambda: page.state in ("done", "printed"), timeout=8000)
    assert page.resident_screen.prompt_text.startswith("认证成功")
    assert page.kit.printer.jobs == []
    qtbot.waitUntil(lambda: page.preview is not None and page.preview.image is not None, timeout=8000)
    assert page.preview.image.pixelColor(5, 5).name() == "#ffffff"  # painted onto white
    shot(page.preview, "4-receipt-preview")
    finish_receipt(qtbot, page)
    assert len(page.kit.printer.jobs) == 1
    shot(page, "5-done")
    (c,) = certs(db)
    ev = json.loads(c["evidence"])
    assert (c["method"], c["operator"], c["workstation"], c["name"]) == ("counter", "zhangmin", "ws-test", "王秀英")
    assert ev["face"]["liveness_passed"] and ev["face"]["distance"] > 0 and ev["card"]["source"] == "simulated"
    qtbot.waitUntil(lambda: page.stats is not None and page.stats.certified == 1, timeout=3000)
    remove(qtbot, page)


def test_suspended_resident_sees_resumption(qtbot, counter, world):
    page = counter
    place(qtbot, page, 1)
    assert page.lookup.suspended and page.resume_label.isVisible()
    assert "自2026年12月起恢复发放" in page.resume_label.text()
    assert "2026年7月至2026年11月共5个月" in page.resume_label.text()
    shot(page, "3-suspended")
    page.primary_action()
    qtbot.waitUntil(lambda: page.result is not None, timeout=8000)
    assert "恢复发放" in page.banner.text()
    assert "2026年12月起恢复发放" in page.resident_screen.prompt_text
    (r,) = page.result.receipt.resumptions
    assert r.resume_month == date(2026, 12, 1) and len(r.back_paid_months) == 5
    shot(page, "6-suspended-done")
    finish_receipt(qtbot, page)


def test_failed_face_check_then_staff_attestation_with_supervisor(qtbot, counter, world):
    db, services, people = world
    page = counter
    page.kit.face_script[:] = ["challenge_not_done", "not_matching"]
    place(qtbot, page, 2)
    page.primary_action()
    qtbot.waitUntil(lambda: page.state == "face_failed", timeout=8000)
    assert "未通过" in page.face_result.text()
    page.primary_action()  # retry
    qtbot.waitUntil(lambda: page.state == "face_failed" and page.face_attempts == 2, timeout=8000)
    shot(page, "7-face-failed")
    assert page.attest_button.isEnabled()
    page.open_attestation()
    dlg = page.dialog
    qtbot.waitUntil(dlg.isVisible, timeout=2000)
    # a clerk cannot approve, a wrong password is refused
    dlg.username.setText("zhangmin")
    dlg.password.setText("Counter2026")
    dlg.ok_button.click()
    qtbot.waitUntil(lambda: "经办人本人" in dlg.error.text(), timeout=3000)
    dlg.username.setText("lizr")
    dlg.password.setText("wrong-pass1")
    dlg.ok_button.click()
    qtbot.waitUntil(lambda: "错误" in dlg.error.text(), timeout=3000)
    dlg.password.setText("Super2026x")
    dlg.note.setText("已核对户口簿")
    shot(dlg, "8-approval")
    dlg.ok_button.click()
    qtbot.waitUntil(lambda: page.result is not None, timeout=5000)
    finish_receipt(qtbot, page)
    (c,) = certs(db)
    assert (c["method"], c["approver"], c["operator"]) == ("staff_attestation", "lizr", "zhangmin")
    ev = json.loads(c["evidence"])
    assert ev["attestation"]["face_attempts"] == 2 and ev["attestation"]["note"] == "已核对户口簿"
    qtbot.waitUntil(lambda: page.stats is not None and page.stats.failed == 2, timeout=3000)
    assert {f[0] for f in page.stats.failures} == {"challenge_not_done", "not_matching"}
    shot(page, "9-attested")


def test_helper_card_is_read_and_recorded(qtbot, counter, world):
    db, services, people = world
    page = counter
    place(qtbot, page, 0)
    page.open_helper()
    dlg = page.dialog
    qtbot.waitUntil(dlg.isVisible, timeout=2000)
    reader(page).remove_card()  # the resident takes the card back ...
    qtbot.wait(150)
    reader(page).place_card(3)  # ... and the helper puts down their own
    qtbot.waitUntil(lambda: dlg.number.text() == page.helper_number, timeout=5000)
    assert page.state == "person"  # still the resident's session
    dlg.relationship.setCurrentText("子女")
    shot(dlg, "10-helper")
    dlg.ok_button.click()
    assert page.helper is not None and page.helper_label.isVisible()
    assert page.helper_number not in page.helper_label.text()
    page.primary_action()
    qtbot.waitUntil(lambda: page.result is not None, timeout=8000)
    finish_receipt(qtbot, page)
    (c,) = certs(db)
    ev = json.loads(c["evidence"])
    assert ev["helper"]["id_number"] == page.helper_number and ev["helper"]["relationship"] == "子女"
    assert c["name"] == "王秀英"  # the face check and the record are the resident's
    with db.engine.connect() as conn:
        audit = " ".join(r[0] or "" for r in conn.execute(text("select detail from audit_log")))
    assert page.helper_number not in audit


def test_manual_entry_goes_to_attestation(qtbot, counter, world):
    db, services, people = world
    page = counter
    page.open_manual_entry()
    dlg = page.dialog
    dlg.number.setText(people["two"][:-1] + "0" if people["two"][-1] != "0" else people["two"][:-1] + "1")
    dlg.ok_button.click()
    assert "无效" in dlg.error.text()  # bad check digit
    dlg.number.setText(people["two"])
    dlg.reason.setCurrentIndex(dlg.reason.findData("card_unreadable"))
    shot(dlg, "11-manual")
    dlg.ok_button.click()
    qtbot.waitUntil(lambda: page.state == "person", timeout=5000)
    assert page.primary_button.text() == "人工核验 F9"  # no chip photo: no face check; the main button attests
    assert "人工核验" in page.banner.text()
    page.open_attestation()
    dlg = page.dialog
    assert dlg.reason.currentData() == "no_photo"
    dlg.username.setText("lizr")
    dlg.password.setText("Super2026x")
    dlg.ok_button.click()
    qtbot.waitUntil(lambda: page.result is not None, timeout=5000)
    (c,) = certs(db)
    ev = json.loads(c["evidence"])
    assert c["method"] == "staff_attestation" and ev["card"]["source"] == "manual"
    assert ev["card"]["manual_reason"] == "card_unreadable"


def test_card_not_on_roster_can_be_noted(qtbot, counter, world):
    db, services, people = world
    page = counter
    place(qtbot, page, 4, state="not_found")
    assert "非本地待遇领取人员" in page.banner.text()
    assert "110101********" in page.banner.text()
    shot(page, "12-not-on-roster")
    page.primary_action()
    qtbot.waitUntil(lambda: page.state == "printed", timeout=3000)
    with db.engine.connect() as conn:
        n = conn.execute(text("select count(*) from audit_log where action='counter.not_on_roster'")).scalar()
    assert n == 1 and certs(db) == []


def test_reader_unplugged_in_the_middle(qtbot, counter, world):
    db, services, people = world
    page = counter
    place(qtbot, page, 0)
    reader(page).unplug()
    qtbot.waitUntil(lambda: not page.reader_ok, timeout=5000)
    assert page.state == "person" and "继续办理" in page.banner.text()
    assert page.banner.text().count("连接已断开") == 1, page.banner.text()  # said once, not "断开：读卡器连接已断开"
    shot(page, "13-reader-lost")
    page.primary_action()  # the resident in front of the clerk is still served
    qtbot.waitUntil(lambda: page.result is not None, timeout=8000)
    finish_receipt(qtbot, page)
    page.primary_action()  # next resident; reader still gone
    assert page.state == "idle"
    reader(page).remove_card()  # she took her card (else the reader, once back, reads it again first)
    reader(page).plug()
    qtbot.waitUntil(lambda: page.reader_ok, timeout=5000)
    place(qtbot, page, 2)
    assert page.lookup.person.name == "赵淑芬"
    assert len(certs(db)) == 1


def test_the_clerk_sees_every_device_and_where_the_resident_screen_is(qtbot, counter):
    """Issue 19 §2: reader, camera, resident screen and sound, each with its state in words."""
    page = counter
    side = page.side
    assert side.device_text("reader") == "已连接" and side.device_ok("reader") is True
    assert side.device_text("camera") == "正常"
    resident = page.resident_screen
    page.set_resident_screen(resident)
    assert side.device_text("resident") == "未显示" and side.device_ok("resident") is False
    assert resident.place(dock=page.dock_resident_screen) == "docked"  # the test machine has one screen
    assert side.device_text("resident") == "单屏：右侧预览"
    assert page.side.isAncestorOf(resident) and resident.isVisible()
    assert side.device_text("sound") == "无声音" and side.device_ok("sound") is False  # no WAVs in its folder
    assert "大字" in side.device_labels["sound"].toolTip()
    page.show_resident_state(None, enabled=False)  # the station setting is off
    assert side.device_text("resident") == "未开启" and "设置" in side.device_labels["resident"].toolTip()
    reader(page).unplug()
    qtbot.waitUntil(lambda: side.device_ok("reader") is False, timeout=5000)
    assert side.device_text("reader") == "未连接"
    reader(page).plug()
    qtbot.waitUntil(lambda: side.device_ok("reader") is True, timeout=5000)
