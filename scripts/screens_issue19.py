"""Screenshots of the counter as a clerk sees it (issue 19 §8): the whole screen, window manager
included, at the size of the display this runs on — meant for Xvfb + openbox:

    Xvfb :91 -screen 0 1366x768x24 &  DISPLAY=:91 openbox &
    DISPLAY=:91 uv run python scripts/screens_issue19.py --out screenshots/issue19/1366x768

It starts the window as ``certdesk`` does in 培训模式 (maximised, the training database with a few
hundred synthetic residents, the simulated devices, the resident screen docked on a single
monitor), signs in through the login dialog and drives the counter from the training panel:
waiting, a resident whose payment is suspended, a failed face check, the receipt preview, the
camera turned off, a Mongolian resident (and the resident screen as her monitor shows it), the
lock screen, 设置, and a few other pages. Each step is saved as ``NN-name.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
AS_OF = date(2026, 11, 29)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--persons", type=int, default=400)
    args = ap.parse_args()
    os.environ.setdefault("CERTDESK_HOME", tempfile.mkdtemp(prefix="certdesk-screens-"))
    from desktop.platform import runmode

    runmode.set_mode(runmode.DEMO)
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from desktop.services.station import StationSettings

    station = StationSettings()
    station.set("training_mode", True)
    station.set("window_no", "3")
    app = QApplication(sys.argv[:1])
    from ui import workers
    from ui.app import open_backend, setup_application, start_counter
    from ui.main_window import MainWindow

    setup_application(app)
    window = MainWindow(demo=True, training=True)
    window.showMaximized()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    shots: list[str] = []

    def settle(seconds: float = 0.4) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        workers.wait_for_idle(20_000)
        app.processEvents()
        # no app.exec() here: widgets given deleteLater() are deleted only when asked
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    def until(pred, timeout: float = 20.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end and not pred():
            app.processEvents()
            time.sleep(0.01)
        if not pred():
            raise SystemExit(f"timed out at step {len(shots) + 1}")

    def shot(name: str, widget=None) -> None:
        settle(0.6)
        if widget is None:  # the whole screen, as the clerk sees it (decorations and all)
            image = QGuiApplication.primaryScreen().grabWindow(0)
        else:
            image = widget.grab()
        path = out / f"{len(shots) + 1:02d}-{name}.png"
        image.save(str(path))
        shots.append(path.name)

    backend = open_backend(None, True, AS_OF, lambda *a: None, args.persons, training=True)
    window.set_progress(None, "")
    backend = start_counter(app, window, backend, True)
    window.set_backend(backend)
    login = window._login
    until(login.isVisible)
    shot("login")
    login.username.setText("zhangmin")
    login.password.setText("Demo2026")
    login.ok_button.click()
    until(lambda: not login.isVisible())
    window.activateWindow()
    page = window.extra_pages["counter"]
    window.show_page("counter")
    until(lambda: page.camera_ready and page.reader_ok)
    until(lambda: getattr(window, "_resident_screen", None) is not None)
    resident = window._resident_screen
    panel = page.training_panel

    def choose(words: str) -> None:
        for i in range(panel.cards.count()):
            if words in panel.cards.itemText(i):
                panel.cards.setCurrentIndex(i)
                return
        raise SystemExit(f"no sample card {words!r}")

    def put(words: str, state: str) -> None:
        panel.remove_card()
        settle(0.3)
        page.next_resident()
        choose(words)
        panel.place_card()
        until(lambda: page.state == state)

    shot("counter-waiting-training-mode")
    put("已暂停", "person")
    shot("counter-suspended-resident")
    panel.set_next_face("not_matching")
    page.primary_action()
    until(lambda: page.state == "face_failed")
    shot("counter-face-check-failed")
    page.panel.details_button.click()
    shot("counter-face-details")
    page.panel.details_button.click()
    page.primary_action()
    until(lambda: page.preview is not None and page.preview.isVisible() and page.preview.image is not None)
    shot("receipt-preview")
    page.preview.print_button.click()
    until(lambda: page.state == "printed")
    shot("counter-printed")
    put("非本地待遇人员", "not_found")
    shot("counter-not-on-roster")
    put("外国人永久居留身份证（2023版）", "not_found")
    shot("counter-foreign-permanent-resident-card")
    put("在册", "person")
    panel.toggle_camera()
    until(lambda: page.side.device_ok("camera") is False, timeout=10)
    shot("counter-no-camera")
    panel.toggle_camera()
    until(lambda: page.side.device_ok("camera") is True, timeout=10)
    page.language_button.click()  # 蒙古语 F8
    settle(0.3)
    shot("counter-mongolian-resident")
    # what the resident's own monitor shows (full screen on a second monitor)
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    screen = QGuiApplication.primaryScreen().geometry()
    big = ResidentScreen(PromptSpeaker(use_tts=False, use_audio=False))
    big.resize(screen.width(), screen.height())
    frame = page.camera.latest() if page.camera is not None else None
    for code, text in (("get_ready", "请看屏幕，准备进行人脸认证"), ("turn_left", "请慢慢向左转头，然后转回来")):
        big.show_prompt(code, text, speak=False)
        big.set_language("mn", say_again=False)
        if frame is not None:
            big.show_frame(frame.image)
        shot(f"resident-screen-mongolian-{code}", big)
    big.set_language("zh", say_again=False)
    shot("resident-screen-mandarin-turn_left", big)
    page.language_button.click()
    window.lock_requested.emit()
    settle(0.5)
    shot("lock-screen")
    from ui.dialogs.login import LockScreen

    lock = next(w for w in window.findChildren(LockScreen) if w.isVisible())
    lock.password.setText("Demo2026")
    lock.ok_button.click()
    until(lambda: not lock.isVisible())
    window.settings_requested.emit()
    settle(0.5)
    from ui.dialogs.settings_dialog import SettingsDialog

    dlg = next(w for w in QApplication.topLevelWidgets() if isinstance(w, SettingsDialog) and w.isVisible())
    dlg.tabs.setCurrentIndex(next(i for i in range(dlg.tabs.count()) if dlg.tabs.tabText(i) == "柜台"))
    shot("settings-counter")
    dlg.reject()
    for key, name in (("search", "search"), ("due", "due-next-month"), ("outreach", "outreach"),
                      ("dashboards", "dashboards")):
        {"search": window.show_search, "due": window.show_due}.get(key, lambda k=key: window.show_page(k))()
        settle(1.0)
        shot(f"page-{name}")
    # issue 21: the 导入名单 page and its column-mapping dialog on the provincial export
    from tests.ui.fit_probe import open_import_dialog, write_provincial_export

    window.show_page("imports")
    settle(1.0)
    shot("page-imports")
    sample = write_provincial_export(Path(tempfile.mkdtemp(prefix="screens-")) / "省系统花名册.csv")
    dialog, shown = open_import_dialog(backend.services, window, sample)
    until(lambda: bool(shown))
    shot("import-mapping-dialog")
    dialog.reject()
    page.shutdown()
    workers.wait_for_idle(20_000)
    print("\n".join(shots))
    sys.stdout.flush()
    os._exit(0)  # PySide6's teardown can crash after a run like this (see ui/app.py)


if __name__ == "__main__":
    raise SystemExit(main())
