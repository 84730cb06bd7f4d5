"""培训模式 (issue 19 §6): a trainee runs every path of the counter from the training panel — sample
cards (on the roster, expired, not on the roster, foreign permanent residents), the reader pulled
out, the camera off, a face check made to fail — and nothing of it reaches production data."""

from __future__ import annotations

from datetime import date

import pytest

from tests.ui.test_counter_flow import AS_OF, certs, world  # noqa: F401 - world is a fixture

pytestmark = pytest.mark.gui


@pytest.fixture
def trainee(qtbot, styled_qapp, world):
    """The counter in the main window with the demo kit and the training cards of this roster."""
    from desktop.services.counter import training_cards
    from desktop.counter.station import build_demo_station
    from ui.main_window import MainWindow
    from ui.models.backend import Backend

    db, services, people = world
    kit = build_demo_station(pace_fps=60)
    kit.training_cards = training_cards(services, AS_OF)
    kit.training = True
    window = MainWindow(training=True)
    qtbot.addWidget(window)
    window.show()
    window.set_backend(Backend(services.persons, services.lists, AS_OF, True, "test", services, station=kit))
    page = window.extra_pages["counter"]
    page.set_operator(services.operators.login("zhangmin", "Counter2026", "ws-test"), "ws-test")
    window.show_page("counter")
    qtbot.waitUntil(lambda: page.reader_ok and page.camera_ready, timeout=5000)
    yield window, page, page.training_panel
    page.shutdown()


def _choose(panel, words: str) -> str:
    for i in range(panel.cards.count()):
        if words in panel.cards.itemText(i):
            panel.cards.setCurrentIndex(i)
            return panel.cards.itemText(i)
    raise AssertionError(f"no sample card with {words!r}: {[panel.cards.itemText(i) for i in range(panel.cards.count())]}")


def _put(qtbot, page, panel, words, state):
    panel.remove_button.click()
    qtbot.wait(200)
    label = _choose(panel, words)
    panel.place_button.click()
    qtbot.waitUntil(lambda: page.state == state, timeout=5000)
    return label


def test_the_panel_is_shown_and_says_training(trainee):
    window, page, panel = trainee
    assert panel is not None and panel.isVisible()
    assert "培训模式" in window.windowTitle() and "不计入正式数据" in window.db_label.text()
    labels = [panel.cards.itemText(i) for i in range(panel.cards.count())]
    for words in ("在册", "已暂停", "证件已过期", "非本地待遇人员", "外国人永久居留身份证（2023版）",
                  "外国人永久居留身份证（2017版）", "港澳台居民居住证"):
        assert any(words in label for label in labels), (words, labels)


def test_sample_cards_take_the_counter_down_every_path(qtbot, trainee):
    window, page, panel = trainee
    _put(qtbot, page, panel, "非本地待遇人员", "not_found")
    assert "非本地待遇领取人员" in page.banner.text()
    _put(qtbot, page, panel, "证件已过期", "person")
    assert page.warn_label.isVisible() and "证件已过有效期" in page.warn_label.text()
    _put(qtbot, page, panel, "外国人永久居留身份证（2023版）", "not_found")
    from desktop.devices.idcard.model import FOREIGN_2023

    assert page.card.card_type == FOREIGN_2023 and page.lookup is not None and not page.lookup.found
    _put(qtbot, page, panel, "已暂停", "person")
    assert page.lookup.found and page.resume_label.isVisible()
    panel.remove_button.click()
    qtbot.wait(200)
    panel.fail_read_button.click()
    _choose(panel, "在册")
    panel.place_button.click()
    qtbot.waitUntil(lambda: "读卡失败" in page.banner.text(), timeout=5000)


def test_the_reader_pulled_out_and_back(qtbot, trainee):
    window, page, panel = trainee
    panel.reader_button.click()
    qtbot.waitUntil(lambda: not page.reader_ok, timeout=5000)
    assert page.side.device_text("reader") == "未连接" and panel.reader_button.text() == "插回读卡器"
    panel.reader_button.click()
    qtbot.waitUntil(lambda: page.reader_ok, timeout=5000)
    assert page.side.device_text("reader") == "已连接"


def test_the_camera_turned_off_and_on(qtbot, trainee):
    window, page, panel = trainee
    _put(qtbot, page, panel, "在册", "person")
    panel.camera_button.click()
    qtbot.waitUntil(lambda: page.side.device_ok("camera") is False, timeout=8000)
    assert page.primary_button.text() == "人工核验 F9" and "摄像头不可用，请按 F9" in page.banner.text()
    panel.camera_button.click()
    qtbot.waitUntil(lambda: page.side.device_ok("camera") is True, timeout=5000)
    assert page.primary_button.text() == "开始人脸认证 Enter"


def test_the_next_face_check_fails_as_chosen_then_passes(qtbot, trainee, world):
    db, services, people = world
    window, page, panel = trainee
    _put(qtbot, page, panel, "在册", "person")
    panel.set_next_face("challenge_not_done")
    assert page.kit.face_script == ["challenge_not_done"]
    page.primary_action()
    qtbot.waitUntil(lambda: page.state == "face_failed", timeout=8000)
    assert "没有完成指定动作" in page.face_result.text()
    assert panel.face.currentData() == "pass"  # used up: the next one passes
    page.primary_action()
    qtbot.waitUntil(lambda: page.result is not None, timeout=8000)
    assert len(certs(db)) == 1  # recorded in this (training) database


def test_training_never_opens_or_syncs_the_production_database(qtbot, styled_qapp, tmp_path, monkeypatch):
    """Whatever CERTDESK_DB and CERTDESK_CENTRAL say, 培训模式 opens its own database and builds no
    sync service; the demo builds none either."""
    from desktop.platform import paths, runmode
    from ui.app import open_backend, training_db_url

    production = tmp_path / "production.sqlite"
    monkeypatch.setenv("CERTDESK_DB", str(production))
    monkeypatch.setenv("CERTDESK_CENTRAL", "postgresql://certdesk@central.invalid/certdesk")
    monkeypatch.setattr(runmode, "_override", runmode.DEMO)
    backend = open_backend(str(production), False, AS_OF, lambda *a: None, 200, training=True)
    try:
        assert "certdesk-training.sqlite" in backend.location and training_db_url().endswith("certdesk-training.sqlite")
        assert str(paths.data_dir()) in backend.location
        assert backend.sync is None and backend.startup.training is True
        assert not production.exists(), "the production database was opened"
        assert backend.services.persons.search("1522", 5), "the training database has demo residents"
    finally:
        backend.services.db.dispose()
    demo = open_backend(str(tmp_path / "demo.sqlite"), True, date(2026, 11, 29), lambda *a: None, 200)
    try:
        assert demo.sync is None
    finally:
        demo.services.db.dispose()
