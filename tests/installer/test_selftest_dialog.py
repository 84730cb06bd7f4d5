"""The start-up self-test dialog (pytest-qt, offscreen)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop import selftest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

WQY = Path(__file__).resolve().parents[2] / "resources" / "fonts" / "wqy-microhei.ttc"  # committed


def _report(*checks):
    return selftest.SelfTestReport(tuple(checks), 0.1, {})


def test_failures_are_shown_errors_first(qtbot):
    from ui.dialogs import selftest_dialog

    report = _report(
        selftest.Check("camera", "摄像头", False, selftest.WARNING, "未检测到摄像头"),
        selftest.Check("cpu_avx", "处理器（AVX 指令）", False, selftest.ERROR, "本机处理器不支持 AVX 指令"),
        selftest.Check("cjk_font", "中文打印字体", True, selftest.ERROR, "已找到"),
    )
    dialog = selftest_dialog.show_report(report)
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and not dialog.isModal()
    texts = [row.text() for row in dialog.rows]
    assert len(texts) == 2 and "AVX" in texts[0] and "摄像头" in texts[1]
    dialog.accept()


def test_nothing_shown_when_all_pass(qtbot):
    from ui.dialogs import selftest_dialog

    ok = _report(selftest.Check("cpu_avx", "处理器", True, selftest.ERROR, "ok"))
    assert selftest_dialog.show_report(ok) is None


def test_bundled_font_is_registered_with_qt(qtbot, tmp_path, monkeypatch):
    from ui.dialogs import selftest_dialog

    (tmp_path / "fonts").mkdir()
    shutil.copy(WQY, tmp_path / "fonts" / WQY.name)
    monkeypatch.setattr("desktop.platform.paths.resource_root", lambda: tmp_path)
    assert "WenQuanYi Micro Hei" in selftest_dialog.add_bundled_fonts()


def test_attach_runs_the_selftest_when_the_backend_is_ready(qtbot, monkeypatch):
    from PySide6.QtCore import QObject, Signal

    from ui.dialogs import selftest_dialog

    class FakeWindow(QObject):
        backend_ready = Signal()

    shown = []
    failing = _report(selftest.Check("database", "数据库", False, selftest.ERROR, "数据库文件只读"))
    monkeypatch.setattr(selftest_dialog, "run_selftest", lambda **kw: failing)
    monkeypatch.setattr(selftest_dialog, "show_report", lambda report, parent: shown.append(report))
    window = FakeWindow()
    selftest_dialog.attach(window, None, False)
    window.backend_ready.emit()
    window.backend_ready.emit()  # once only
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    qtbot.wait(100)
    assert shown == [failing]


def test_window_font_falls_back_to_the_bundled_one(qtbot, monkeypatch):
    """No Chinese family on the machine: setup_application registers resources/fonts with Qt."""
    from PySide6.QtWidgets import QApplication

    from ui import startup as ui_app  # setup_application and choose_font_family live in ui.startup

    real, looks = ui_app.choose_font_family, []

    def choose(families):  # the first look finds no CJK family (a fresh machine)
        looks.append(families)
        return None if len(looks) == 1 else real(families)

    monkeypatch.setattr(ui_app, "choose_font_family", choose)
    qt_app = QApplication.instance()
    ui_app.setup_application(qt_app)
    assert len(looks) == 2
    assert qt_app.font().family() == "WenQuanYi Micro Hei"
