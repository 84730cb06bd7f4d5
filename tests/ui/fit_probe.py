"""Runs the whole window on one emulated counter screen and reports everything that does not fit.

    uv run python -m tests.ui.fit_probe 1024x768 [--dpr 1.5] [--screens 2] [--shots DIR]

Qt's offscreen platform is given a screen of that size (``offscreen:configfile=…``; a
QApplication cannot change its screens later, so ``tests/ui/test_screen_fit.py`` runs this once
per screen in a subprocess). On a demo database it starts the window as ``ui.app.run_gui`` does
(maximised, signed in through the real login dialog), visits every page of the navigation, runs a
resident through the counter (card, failed face check, attestation dialog, retry, receipt preview,
print, manual entry, helper, a card that is not on the roster) and opens the settings (every tab),
the lock screen and a forms print preview. After each step it checks:

* the main window lies wholly on the screen and has not grown;
* every open dialog lies wholly on the screen;
* every visible button lies on the screen — a button inside a scroll area may be below the fold
  (the clerk scrolls to it) but never beside it: no page needs sideways scrolling.

Prints one JSON document: ``{"screen", "min_size", "steps", "problems"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 29)


def configure(width: int, height: int, dpr: float, screens: int) -> None:
    """Before Qt is imported: the emulated screens (side by side), test mode, a private home."""
    cfg = Path(tempfile.mkdtemp(prefix="fit-probe-")) / "screens.json"
    w, h = round(width * dpr), round(height * dpr)  # the config is in device pixels
    cfg.write_text(json.dumps({"windowFrameMargins": True, "screens": [
        {"name": f"screen{i}", "x": i * w, "y": 0, "width": w, "height": h, "logicalDpi": 96,
         "logicalBaseDpi": 96, "dpr": dpr} for i in range(screens)]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={cfg}"
    os.environ["CERTDESK_MODE"] = "test"
    os.environ.setdefault("CERTDESK_HOME", str(cfg.parent / "home"))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


class Probe:
    def __init__(self, app, window, shots: Path | None = None, tag: str = ""):
        self.app, self.window = app, window
        self.problems: list[str] = []
        self.steps: list[str] = []
        self.size = None
        self.shots, self.tag = shots, tag

    # --- waiting -------------------------------------------------------------------------------
    def settle(self, seconds: float = 0.3) -> None:
        from ui import workers

        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)
        workers.wait_for_idle(10_000)
        self.app.processEvents()

    def until(self, pred, timeout: float = 10.0, what: str = "") -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.app.processEvents()
            if pred():
                return True
            time.sleep(0.01)
        self.problems.append(f"timed out waiting for {what or pred}")
        return False

    # --- checking ------------------------------------------------------------------------------
    def check(self, step: str, *extra, strict: bool | None = None) -> None:
        """Everything shown now: the main window, every visible top-level dialog, their buttons.
        ``strict`` (default: on the counter page): the buttons must be in view without scrolling."""
        from PySide6.QtWidgets import QApplication, QDialog

        self.settle(0.15)
        self.steps.append(step)
        window = self.window
        area = window.screen().availableGeometry()
        frame = window.frameGeometry()
        if not area.contains(frame):
            self.problems.append(f"{step}: window {_r(frame)} not within the screen {_r(area)}")
        if self.size is None:
            self.size = frame.size()
        elif frame.size() != self.size:
            self.problems.append(f"{step}: the window changed size {self.size.width()}x{self.size.height()}"
                                 f" -> {frame.width()}x{frame.height()}")
        tops = [window] + [w for w in QApplication.topLevelWidgets()
                           if isinstance(w, QDialog) and w.isVisible()] + [w for w in extra if w is not None]
        for top in dict.fromkeys(tops):
            scr = top.screen().availableGeometry()
            if top is not window and not scr.contains(top.frameGeometry()):
                self.problems.append(f"{step}: dialog {top.windowTitle()!r} {_r(top.frameGeometry())} "
                                     f"not within the screen {_r(scr)}")
            if strict is None:
                strict = step.startswith("counter")
            self._buttons(step, top, scr, strict=strict and top is window)
        if self.shots is not None:
            from PySide6.QtGui import QPainter, QPixmap

            shot = QPixmap(area.size())
            shot.fill()
            p = QPainter(shot)
            for top in dict.fromkeys(tops):
                p.drawPixmap(top.geometry().topLeft() - area.topLeft(), top.grab())
            p.end()
            name = step.replace(" ", "-").replace("/", "-")
            shot.save(str(self.shots / f"{self.tag}{len(self.steps):02d}-{name}.png"))

    def _buttons(self, step: str, top, area, *, strict: bool = False) -> None:
        from PySide6.QtCore import QRect, Qt
        from PySide6.QtWidgets import QAbstractButton, QScrollArea

        off = Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        for sa in top.findChildren(QScrollArea):  # content cut at the right where nothing scrolls sideways
            inner = sa.widget()
            if (sa.isVisible() and inner is not None and sa.horizontalScrollBarPolicy() == off
                    and inner.minimumSizeHint().width() > sa.viewport().width() + 1):
                self.problems.append(f"{step}: {sa.objectName() or type(inner).__name__} needs "
                                     f"{inner.minimumSizeHint().width()} px, shows {sa.viewport().width()}")

        for b in top.findChildren(QAbstractButton):
            if not b.isVisible() or b.window() is not top or b.width() <= 0:
                continue
            r = QRect(b.mapToGlobal(b.rect().topLeft()), b.size())
            scroll, w = None, b.parentWidget()
            while w is not None and w is not top:
                if isinstance(w, QScrollArea) and w.verticalScrollBarPolicy() != off:
                    scroll = w  # the outermost scroll area wins
                w = w.parentWidget()
            label = f"{step}: button {b.text() or b.toolTip() or b.objectName()!r} {_r(r)}"
            if scroll is None:
                if not area.contains(r):
                    self.problems.append(f"{label} not within the screen {_r(area)}")
                continue
            vp = scroll.viewport()
            view = QRect(vp.mapToGlobal(vp.rect().topLeft()), vp.size())
            if r.left() < view.left() or r.right() > view.right():
                self.problems.append(f"{label} beside its page's visible width {_r(view)} (sideways scrolling)")
            if not area.contains(view):
                self.problems.append(f"{label}: its scroll area {_r(view)} is not within the screen")
            if strict and not view.contains(r):
                self.problems.append(f"{label} is not in view without scrolling ({_r(view)})")


def _r(r) -> str:
    return f"{r.x()},{r.y()} {r.width()}x{r.height()}"


def build_database(path: Path):
    from desktop.demo import build_demo_database
    from desktop.demo_bureau import add_counter_history, add_outreach
    from desktop.services.database import Database

    db = Database.open(str(path))
    build_demo_database(db, persons=300, today=AS_OF)
    add_counter_history(db, AS_OF, visits=200)
    add_outreach(db, AS_OF)
    return db


def run(width: int, height: int, dpr: float = 1.0, screens: int = 1, shots: Path | None = None) -> dict:
    configure(width, height, dpr, screens)
    from desktop.services.hub import Services

    db = build_database(Path(os.environ["CERTDESK_HOME"]) / "fit.sqlite")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from ui.app import setup_application, start_counter
    from desktop.counter.station import prepare_counter
    from ui.main_window import MainWindow
    from ui.models.backend import Backend

    setup_application(app)
    services = Services(db)
    services.station.set("resident_screen", True)  # docked on one screen, full screen on a second
    services.station.set("print_after_record", True)
    info = prepare_counter(services, True, "ws-fit", AS_OF)
    window = MainWindow(demo=True)
    window.showMaximized()  # as run_gui does
    probe = Probe(app, window, shots, tag=f"{width}x{height}-")
    backend = Backend(services.persons, services.lists, AS_OF, True,
                      "本机数据库：" + str(db.url).split("///")[-1], services, startup=info)
    backend = start_counter(app, window, backend, True)
    window.set_backend(backend)
    login = window._login
    probe.check("login")
    login.username.setText("admin")
    login.password.setText("Admin2026")
    login.ok_button.click()
    probe.until(lambda: not login.isVisible(), what="sign-in")
    window.activateWindow()  # what a window manager does when the login dialog closes (offscreen has none)
    counter = window.extra_pages["counter"]
    probe.until(lambda: counter.camera_ready and counter.reader_ok, what="counter devices")
    probe.until(lambda: getattr(window, "_resident_screen", None) is not None
                and window._resident_screen.placement != "hidden", what="resident screen placed")
    window.show_page("counter")
    probe.check("counter idle")
    resident = _resident(probe, window, counter)
    min_size = window.minimumSize()
    hint = window.minimumSizeHint()

    for key in ["search", "due"] + [k for k in window.extra_pages if k != "counter"]:
        {"search": window.show_search, "due": window.show_due}.get(key, lambda k=key: window.show_page(k))()
        probe.settle(0.4)
        probe.check(f"page {key}")
    window.show_search()
    probe.settle(0.2)
    rows = services.persons.search("1522", 5)
    if rows:
        window.open_person(rows[0].id)
        probe.settle(0.6)
        probe.check("page person")
    window.show_page("counter")
    _counter_flow(probe, window, counter)
    _dialogs(probe, window, services)
    from ui import workers

    counter.shutdown()
    workers.wait_for_idle(10_000)
    active = app.activeWindow()
    resident["active_after_flow"] = "main" if active is window else (active.windowTitle() if active else None)
    return {"screen": f"{width}x{height}@{dpr}", "resident": resident, "min_size": [min_size.width(), min_size.height()],
            "min_hint": [hint.width(), hint.height()], "steps": probe.steps, "problems": probe.problems}


def _resident(probe: Probe, window, counter) -> dict:
    """Where the resident screen went, and whether the clerk still has the keyboard."""
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    screen = window._resident_screen
    probe.settle(0.3)
    screens = QGuiApplication.screens()
    return {"placement": screen.placement, "full_screen": screen.isFullScreen(),
            "on_screen": screens.index(screen.screen()) if screen.screen() in screens else None,
            "window_on_screen": screens.index(window.screen()),
            "geometry_is_screen": screen.geometry() == screen.screen().geometry(),
            "docked_in_counter": screen.parentWidget() is not None and counter.isAncestorOf(screen),
            "active_is_main": QApplication.activeWindow() is window,
            "focus_in_main": QApplication.focusWidget() is not None and QApplication.focusWidget().window() is window,
            "indicator": counter.side.device_text("resident"), "sound": counter.side.device_text("sound")}


def _counter_flow(probe: Probe, window, page) -> None:
    reader = page.bridge.session.reader
    cards = page.kit.demo_cards
    page.kit.face_script[:] = ["not_matching"]
    reader.place_card(0)
    if not probe.until(lambda: page.state == "person", what="card 0 looked up"):
        return
    probe.check("counter person")
    page.open_helper()
    probe.check("counter helper dialog")
    page.dialog.reject()
    page.primary_action()
    probe.until(lambda: page.state == "face_failed", timeout=15, what="failed face check")
    probe.check("counter face failed")
    page.open_attestation()
    probe.check("counter attestation dialog")
    page.dialog.reject()
    page.primary_action()  # retry: passes
    probe.until(lambda: page.preview is not None and page.preview.isVisible() and page.preview.image is not None,
                timeout=15, what="receipt preview")
    if page.preview is not None:
        if not page.preview.print_button.isDefault():
            probe.problems.append("receipt preview: 打印 is not the default button")
        probe.check("counter receipt preview")
        page.preview.print_button.click()
        probe.until(lambda: page.state == "printed", what="printed")
        probe.check("counter printed")
    reader.remove_card()
    page.next_resident()
    page.open_manual_entry()
    probe.check("counter manual entry dialog")
    page.dialog.reject()
    outsider = next((i for i, c in enumerate(cards) if getattr(c, "name", "") == "张建国"), None)
    if outsider is None:
        from desktop.devices.idcard import samples

        reader.place_card(samples.demo_cards()[0])
    else:
        reader.place_card(outsider)
    if probe.until(lambda: page.state in ("not_found", "person"), what="second card"):
        probe.check("counter second card")
    reader.remove_card()
    probe.settle(0.2)
    page.next_resident()


def _dialogs(probe: Probe, window, services) -> None:
    from PySide6.QtWidgets import QApplication

    from ui.dialogs.settings_dialog import SettingsDialog

    window.settings_requested.emit()
    probe.settle(0.2)
    dlg = next((w for w in QApplication.topLevelWidgets() if isinstance(w, SettingsDialog) and w.isVisible()), None)
    if dlg is None:
        probe.problems.append("设置 did not open")
    else:
        for i in range(dlg.tabs.count()):
            dlg.tabs.setCurrentIndex(i)
            probe.check(f"settings tab {dlg.tabs.tabText(i)}")
        dlg.reject()
    from ui.dialogs.login import LockScreen

    window.lock_requested.emit()
    probe.settle(0.2)
    lock = next((w for w in QApplication.topLevelWidgets() if isinstance(w, LockScreen) and w.isVisible()), None)
    if lock is None:
        probe.problems.append("锁屏 did not open")
    else:
        probe.check("lock screen")
        lock.password.setText("Admin2026")
        lock.ok_button.click()
        probe.until(lambda: not lock.isVisible(), what="unlock")
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    pdf = Path(os.environ["CERTDESK_HOME"]) / "sample.pdf"
    c = Canvas(str(pdf), pagesize=A4)  # an A4 form of two pages: the preview is taller than any screen
    for n in (1, 2):
        c.drawString(72, 760, f"page {n}")
        c.showPage()
    c.save()
    from ui.dialogs.forms_preview import FormsPreviewDialog

    preview = FormsPreviewDialog(pdf, "打印预览", parent=window)
    preview.open()
    probe.until(lambda: preview.total > 0, what="forms preview")
    if not preview.print_button.isDefault():
        probe.problems.append("forms preview: 打印 is not the default button")
    probe.check("forms print preview")
    preview.reject()
    _import_dialog(probe, window, services)


def write_provincial_export(path: Path, rows: int = 30) -> Path:
    """A roster as the provincial core system exports it (issue 21): a title row, then the nine
    headers none of which is our own, 年月 dates and an amount with fen."""
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["阿尔山市社会保险待遇领取人员花名册"])
        w.writerow(["姓名", "身份证号码", "人员类别", "待遇开始时间", "上次认证时间", "联系电话", "居住地址",
                    "居住地类型", "月养老金"])
        for i in range(rows):
            w.writerow([f"测试{i}", "15220219500301" + f"{i:03d}X", "企业退休人员", "2010-01", "202306",
                        "13900000000", "阿尔山市林海街道一号楼二单元三零一室", "本地", "3120.50"])
    return path


def open_import_dialog(services, parent, path: Path):
    """The column-mapping dialog on ``path`` (roster), opened; returns it and a flag list that
    becomes non-empty once its preview is shown."""
    from desktop.platform.workstation import Actor
    from ui.dialogs.import_dialog import ImportDialog

    dialog = ImportDialog(services.imports, services.profiles, Actor("admin", "ws-fit", "admin"), path, "roster",
                          today=AS_OF, parent=parent)
    shown: list = []
    dialog.loaded.connect(lambda: shown.append(True))
    dialog.open()
    return dialog, shown


def _import_dialog(probe: Probe, window, services) -> None:
    """The column-mapping dialog (issue 21) on the provincial roster export's nine headers."""
    path = write_provincial_export(Path(os.environ["CERTDESK_HOME"]) / "省系统花名册.csv")
    dialog, shown = open_import_dialog(services, window, path)
    probe.until(lambda: bool(shown), timeout=20, what="the import dialog's preview")
    probe.check("import mapping dialog")
    dialog.reject()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("size", help="WIDTHxHEIGHT in logical pixels, e.g. 1366x768")
    ap.add_argument("--dpr", type=float, default=1.0, help="device pixel ratio (1.5 = 150 %% scaling)")
    ap.add_argument("--screens", type=int, default=1)
    ap.add_argument("--shots", help="save a picture of every step into this folder")
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    shots = Path(args.shots) if args.shots else None
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    out = run(width, height, args.dpr, args.screens, shots)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    sys.stdout.flush()
    os._exit(0)  # skip PySide6's teardown (see ui.app: it can crash after an offscreen run)


if __name__ == "__main__":
    raise SystemExit(main())
