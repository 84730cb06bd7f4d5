"""A counter state the clerk can trust (issue 19 §3): every resident starts from an empty face
panel, nothing technical in view unless 详情 is pressed, Esc cancels the step and stays on the
counter, a card read on another page brings the counter forward, and a missing camera is said,
shown and routed to 人工核验 with the right reason. The counter runs inside the real MainWindow."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.ui.test_counter_flow import AS_OF, card_for, certs, reader, world  # noqa: F401 - world is a fixture

pytestmark = pytest.mark.gui


def _window(qtbot, world, *, frames_per_step=2, camera_fails=False):
    from desktop.devices.idcard import samples
    from desktop.counter.station import build_demo_station
    from ui.main_window import MainWindow
    from ui.models.backend import Backend

    db, services, people = world
    cards = [card_for(people["normal"], "王秀英", date(1950, 3, 1)),
             card_for(people["two"], "赵淑芬", date(1951, 1, 5)),
             samples.demo_cards()[0]]  # 张建国: not on this roster
    kit = build_demo_station(cards=cards, pace_fps=60, frames_per_step=frames_per_step)
    if camera_fails:
        from desktop.devices.cameras.base import FrameSourceError

        def no_camera():
            raise FrameSourceError("未找到摄像头")

        kit.camera_factory = no_camera
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.set_backend(Backend(services.persons, services.lists, AS_OF, True, "test", services, station=kit))
    page = window.extra_pages["counter"]
    page.set_operator(services.operators.login("zhangmin", "Counter2026", "ws-test"), "ws-test")
    window.show_page("counter")
    qtbot.waitUntil(lambda: page.reader_ok and page.camera_ready, timeout=5000)
    return window, page


@pytest.fixture
def counter_window(qtbot, styled_qapp, world):
    window, page = _window(qtbot, world)
    yield window, page
    page.shutdown()


def _take_off(qtbot, page):
    reader(page).remove_card()
    qtbot.wait(300)  # the reader session polls every 50 ms: let it see the empty reader


def _place(qtbot, page, i, state="person"):
    reader(page).place_card(i)
    qtbot.waitUntil(lambda: page.state == state, timeout=5000)


def _visible_texts(widget) -> list[str]:
    return [lab.text() for lab in widget.findChildren(QLabel) if lab.isVisible() and lab.text()]


def test_each_new_card_and_next_resident_start_from_an_empty_face_panel(qtbot, counter_window):
    window, page = counter_window
    panel = page.panel
    assert not panel.suggestions.isVisible(), "idle: no empty list"
    page.kit.face_script[:] = ["not_matching"]
    _place(qtbot, page, 0)
    page.primary_action()
    qtbot.waitUntil(lambda: page.state == "face_failed", timeout=8000)
    assert "未通过" in page.face_result.text() and panel.suggestions.isVisible()
    assert panel.details.text()  # the figures are kept, behind 详情
    _take_off(qtbot, page)
    _place(qtbot, page, 2, state="not_found")  # the next resident, not on the roster
    assert page.face_result.text() == ""
    assert panel.result is None and not panel.suggestions.isVisible() and panel.suggestions.count() == 0
    assert panel.details.text() == "" and panel.progress.value() == 0
    assert not any("未通过" in t or "认证通过" in t for t in _visible_texts(page.face_box))
    # the same after a pass and 下一位
    _take_off(qtbot, page)
    page.next_resident()
    _place(qtbot, page, 0)
    page.primary_action()
    qtbot.waitUntil(lambda: page.state in ("done", "printed"), timeout=8000)
    qtbot.waitUntil(lambda: page.preview is not None and page.preview.isVisible(), timeout=8000)
    page.preview.reject()
    assert "认证通过" in page.face_result.text()
    page.next_resident()
    assert page.state == "idle" and page.face_result.text() == "" and panel.details.text() == ""
    assert not any("认证通过" in t for t in _visible_texts(page.face_box))


def test_distances_and_face_counts_only_behind_the_details_toggle(qtbot, counter_window):
    window, page = counter_window
    page.kit.face_script[:] = ["not_matching"]
    _place(qtbot, page, 0)
    page.primary_action()
    qtbot.waitUntil(lambda: page.state == "face_failed", timeout=8000)
    technical = ("距离", "人脸数", "阈值", "帧")
    assert not any(w in t for t in _visible_texts(window) for w in technical), _visible_texts(window)
    page.panel.details_button.click()
    assert page.panel.details.isVisible() and "比对距离：0.710" in page.panel.details.text()
    page.panel.details_button.click()
    assert not page.panel.details.isVisible()


def test_esc_cancels_the_face_check_and_stays_on_the_counter(qtbot, styled_qapp, world):
    db, services, people = world
    window, page = _window(qtbot, world, frames_per_step=400)  # a check that takes a while
    try:
        _place(qtbot, page, 0)
        page.primary_action()
        qtbot.waitUntil(lambda: page.state == "face" and page.panel.running, timeout=3000)
        qtbot.wait(200)
        qtbot.keyClick(window, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: page.state == "person", timeout=5000)
        assert window.stack.currentWidget() is page, "Esc left the counter"
        assert "已取消人脸认证" in page.banner.text()
        qtbot.waitUntil(lambda: not page.panel.running, timeout=5000)
        qtbot.wait(300)
        assert page.preview is None and certs(db) == [], "a cancelled check recorded or printed something"
        assert page.face_attempts == 0
        # Esc again: the resident is let go, still on the counter
        qtbot.keyClick(window, Qt.Key.Key_Escape)
        assert page.state == "idle" and window.stack.currentWidget() is page
        assert page.banner.text().startswith("已取消本次办理")
    finally:
        page.shutdown()


def test_a_card_read_on_another_page_brings_the_counter_forward(qtbot, counter_window):
    window, page = counter_window
    window.show_search()
    assert window.stack.currentWidget() is window.search_page
    reader(page).place_card(0)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is page, timeout=5000)
    qtbot.waitUntil(lambda: page.state == "person", timeout=5000)
    assert page.lookup.person.name == "王秀英"
    assert window.nav.currentItem().data(Qt.ItemDataRole.UserRole) == "counter"


def test_no_camera_is_said_shown_and_routed_to_attestation(qtbot, styled_qapp, world):
    from ui.dialogs.counter_dialogs import ApprovalDialog

    window, page = _window(qtbot, world, camera_fails=True)
    try:
        assert page.camera is None and page.panel is None
        assert page.side.device_text("camera") == "不可用" and page.side.device_ok("camera") is False
        assert "摄像头不可用，请按 F9" in page.banner.text()
        _place(qtbot, page, 0)
        assert "摄像头不可用，请按 F9" in page.banner.text()
        assert page.primary_button.text() == "人工核验 F9" and page.primary_button.isEnabled()
        qtbot.keyClick(window, Qt.Key.Key_Return)  # the main button
        qtbot.waitUntil(lambda: isinstance(page.dialog, ApprovalDialog) and page.dialog.isVisible(), timeout=3000)
        assert page.dialog.reason.currentData() == "camera_fault"
        assert page.dialog.reason.currentText() == "摄像头故障"
        page.dialog.reject()
    finally:
        page.shutdown()


def test_a_camera_lost_during_the_check_ends_it_and_offers_attestation(qtbot, styled_qapp, world):
    db, services, people = world
    window, page = _window(qtbot, world, frames_per_step=400)
    try:
        _place(qtbot, page, 0)
        page.primary_action()
        qtbot.waitUntil(lambda: page.state == "face", timeout=3000)
        page.camera.stop()  # unplugged
        qtbot.waitUntil(lambda: page.state == "person", timeout=8000)
        # the device column hears of the lost camera through its own signal (may come a moment later)
        qtbot.waitUntil(lambda: page.side.device_ok("camera") is False, timeout=5000)
        assert page.side.device_text("camera") == "无画面"
        assert "摄像头不可用，请按 F9" in page.banner.text()
        assert page.primary_button.text() == "人工核验 F9"
        page.open_attestation()
        assert page.dialog.reason.currentData() == "camera_fault"
        page.dialog.reject()
        assert certs(db) == []
    finally:
        page.shutdown()
