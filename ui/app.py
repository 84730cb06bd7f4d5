"""Composition root of the window: QApplication, font, style sheet, services, main window.

``run_gui(argv)`` is called by ``certdesk`` (no command, ``gui`` or ``demo``):

    certdesk [gui] [--db URL] [--as-of YYYY-MM-DD]
    certdesk demo [--db URL] [--as-of YYYY-MM-DD]   # separate demo database, built on first use

The window is shown before the database is touched; opening it (migrations included) and, for
the demo, building a few thousand synthetic residents run in the background through
``ui.workers``, with progress in the status bar. Nothing in ``ui/`` imports ``db`` or SQLAlchemy:
the services are built here from ``desktop.services`` and injected into the window.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

from desktop import paths, runmode

_T0 = time.perf_counter()

CJK_FONTS_LINUX = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Droid Sans Fallback"]
CJK_FONTS_WINDOWS = ["Microsoft YaHei UI", "Microsoft YaHei", "SimHei", "SimSun"]
CJK_FONTS_MAC = ["PingFang SC", "Heiti SC"]
BASE_POINT_SIZE = 13  # large, readable at arm's length
STARTUP_SERVICES = ("settings", "station", "operators", "counter", "evidence")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="certdesk", description="社保待遇资格认证柜台系统")
    p.add_argument("command", nargs="?", choices=["gui", "demo"], default="gui")
    p.add_argument("--db", metavar="URL", help="SQLAlchemy URL or SQLite file (default: CERTDESK_DB or the local file)")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", type=date.fromisoformat,
                   help="business date instead of today (reproducible screens)")
    p.add_argument("--demo-persons", type=int, default=3000, help=argparse.SUPPRESS)
    # measurement and screenshots: quit once the window is usable, print the start-up time
    p.add_argument("--exit-when-ready", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)
    p.add_argument("--drill", metavar="N", type=int, help="demo only: run N counter certifications and report timings")
    p.add_argument("--json", action="store_true", help="with --drill: print the result as JSON")
    return p.parse_args(argv)


def choose_font_family(available: list[str]) -> str | None:
    """The first installed CJK family we prefer (Noto needs the SC name, else Qt picks JP forms)."""
    if sys.platform.startswith("win"):
        wanted = CJK_FONTS_WINDOWS
    elif sys.platform == "darwin":
        wanted = CJK_FONTS_MAC
    else:
        wanted = CJK_FONTS_LINUX
    have = set(available)
    return next((f for f in wanted if f in have), None)


def load_stylesheet() -> str:
    path = paths.resource_path("styles", "app.qss")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def setup_application(app) -> None:
    """Font and style for a QApplication (shared by ``run_gui`` and the tests)."""
    from PySide6.QtGui import QFont, QFontDatabase

    from ui.qt_compat import guard_none_refcount

    guard_none_refcount()  # every page that paints from Python, not only the face preview
    app.setApplicationName("CertDesk")
    app.setApplicationDisplayName("社保待遇资格认证柜台系统")
    app.setStyle("Fusion")  # same look on the counter PCs and under Xvfb
    family = choose_font_family(QFontDatabase.families())
    if family is None:
        # no Chinese font on this machine: the one that comes with CertDesk (resources/fonts)
        from ui.dialogs.selftest_dialog import add_bundled_fonts

        added = add_bundled_fonts()
        family = choose_font_family(QFontDatabase.families()) or next(iter(added), None)
    font = QFont(family) if family else QFont()
    font.setPointSize(BASE_POINT_SIZE)
    app.setFont(font)
    app.setStyleSheet(load_stylesheet())
    from ui import screen_fit

    screen_fit.install(app)  # every dialog sized to, and placed on, the screen it opens on


# --- the back end, built off the GUI thread ---------------------------------------------------------


def _demo_marker() -> Path:
    return paths.data_dir() / "demo-ready.json"


def _demo_is_built(url: str) -> bool:
    try:
        return url in json.loads(_demo_marker().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def _mark_demo_built(url: str, as_of: date) -> None:
    try:
        data = json.loads(_demo_marker().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data[url] = as_of.isoformat()
    _demo_marker().write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def describe_location(url: str) -> str:
    if url.startswith("sqlite"):
        return "本机数据库：" + url.split("///", 1)[-1]
    host = url.split("@", 1)[-1]  # never show a password
    return "中心数据库：" + host


def training_db_url() -> str:
    """培训模式's own database: never the production one, whatever --db or CERTDESK_DB say."""
    from desktop.services.database import sqlite_url

    return sqlite_url(paths.data_dir() / "certdesk-training.sqlite")


def open_backend(url: str | None, demo: bool, as_of: date, report, demo_persons: int = 3000, *,
                 training: bool = False):
    """Runs on a worker thread: open (and migrate) the database, build demo data on first use,
    and return the services the window needs. Must not touch widgets; ``report`` is the
    thread-safe progress callable from :func:`ui.workers.progress_reporter`.

    Demo and training records never reach production data: ``training`` opens the training
    database only, and neither builds a sync service (even where CERTDESK_CENTRAL is set)."""
    if training:
        url, demo = training_db_url(), True
    from desktop.services.database import Database
    from ui.models.backend import Backend

    report(None, "正在打开数据库…")
    db = Database.open(url, demo=demo)
    if demo and not _demo_is_built(db.url):
        from desktop.demo import build_demo_database

        report(1, "首次使用演示模式：正在生成演示数据…")
        build_demo_database(db, persons=demo_persons, today=as_of,
                            progress=lambda pct, text: report(pct, f"正在生成演示数据：{text}（{pct}%）"))
        _mark_demo_built(db.url, as_of)
    from desktop.services.hub import Services

    services = Services(db)
    # the services the window touches as soon as it is usable (the counter's today panel, the
    # login, the station settings) are built here, so their modules are not imported on the GUI thread
    for name in STARTUP_SERVICES:
        getattr(services, name)
    from desktop.workstation import workstation_id
    from ui.counter_kit import prepare_counter

    report(None, "正在准备柜台…")
    counter_info = prepare_counter(services, demo, workstation_id(), as_of)
    counter_info["training"] = training
    sync = None
    if not demo:  # demo and training data stay on this machine
        from desktop.services.sync import SyncService, resolve_central

        central = resolve_central(None, db)
        sync = SyncService(db, central) if central else None
    # counter_kit holds the start-up info until the GUI thread builds the devices (see run_gui)
    return Backend(services.persons, services.lists, as_of, demo, describe_location(db.url), services,
                   sync=sync, counter_kit=counter_info)


# --- entry point --------------------------------------------------------------------------------------


def run_gui(argv: list[str]) -> int:
    args = parse_args(list(argv))
    demo = args.command == "demo"
    training = False
    if not demo and not args.drill:
        from desktop.services.station import StationSettings

        training = StationSettings().get("training_mode")  # 设置 → 柜台 → 培训模式
        if training and args.db:
            print("培训模式：忽略 --db，使用培训数据库（记录不进入正式数据）", file=sys.stderr)
    if demo or training:
        runmode.set_mode(runmode.DEMO)  # simulated devices allowed
    as_of = args.as_of or date.today()
    if args.drill:
        if not demo:
            print("--drill 只能在演示模式下使用：certdesk demo --drill N", file=sys.stderr)
            return 2
        from ui.drill import run_drill

        out = run_drill(args.drill, db_url=args.db, as_of=as_of, as_json=args.json, demo_persons=args.demo_persons)
        sys.stdout.flush()
        sys.stderr.flush()
        # skip interpreter teardown: PySide6's finalizer can crash after the offscreen drill
        os._exit(0 if out["failed"] == 0 else 1)

    # Start opening the database first: importing SQLAlchemy and checking migrations then runs
    # on the worker while this thread imports the widgets and builds the window.
    from PySide6.QtCore import QCoreApplication, QTimer

    from ui import workers

    state: dict = {"window": None, "backend": None, "error": None, "progress": (None, "正在打开数据库…")}

    def progress(pct, text) -> None:
        state["progress"] = (pct, text)
        if state["window"] is not None:
            state["window"].set_progress(pct, text)

    def opened(backend) -> None:
        state["backend"] = backend
        if state["window"] is not None:
            ready(backend)

    def failed(exc: BaseException) -> None:
        state["error"] = exc
        if state["window"] is not None:
            fail(exc)

    report = workers.progress_reporter(progress)
    workers.run_in_background(lambda: open_backend(args.db, demo, as_of, report, args.demo_persons, training=training),
                              opened, failed)

    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert QCoreApplication.instance() is app
    from ui.dialogs import selftest_dialog  # start-up self-test (issue 10)

    setup_application(app)  # registers the bundled CJK font when the system has none
    window = MainWindow(demo=demo, training=training)
    selftest_dialog.attach(window, training_db_url() if training else args.db, demo or training)
    window.date_label.setText(f"业务日期：{as_of.isoformat()}")
    window.set_progress(*state["progress"])
    window.showMaximized()  # the counter's screen is the clerk's whole screen
    t_shown = time.perf_counter() - _T0

    def ready(backend) -> None:
        from ui.audit_watch import AuditWatch
        from ui.widgets.sync_status import SyncStatusWidget

        state["audit"] = AuditWatch(window, backend.services)
        state["sync"] = SyncStatusWidget(backend.sync, parent=window)
        window.statusBar().addPermanentWidget(state["sync"])
        backend = start_counter(app, window, backend, demo or training, skip_login=bool(args.exit_when_ready or args.screenshot),
                                on_sign_in=state["audit"].signed_in)
        window.set_backend(backend)
        state["audit"].start()
        # the retention job: face images past their keep-until day are dropped at every start
        from desktop.workstation import system_actor

        evidence, today = backend.services.evidence, backend.as_of
        workers.run_in_background(lambda: evidence.purge_expired(system_actor("retention-job"), today),
                                  lambda n: None, lambda exc: None)
        if "counter" in window.extra_pages:
            window.show_page("counter")
        t_ready = time.perf_counter() - _T0
        if args.exit_when_ready or args.screenshot or os.environ.get("CERTDESK_STARTUP_LOG"):
            print(f"window shown {t_shown:.3f}s, usable {t_ready:.3f}s after ui.app import", file=sys.stderr)
        if args.screenshot:
            QTimer.singleShot(300, lambda: (window.grab().save(args.screenshot), app.quit()))
        elif args.exit_when_ready:
            QTimer.singleShot(0, app.quit)

    def fail(exc: BaseException) -> None:
        window.show_fatal(f"无法打开数据库：{exc}")
        if args.exit_when_ready:
            app.exit(1)

    state["window"] = window
    # results that arrived while the window was being built are delivered now
    if state["backend"] is not None:
        ready(state["backend"])
    elif state["error"] is not None:
        fail(state["error"])
    code = app.exec()
    if state.get("sync") is not None:
        state["sync"].stop()
    page = window.extra_pages.get("counter")
    if page is not None and hasattr(page, "shutdown"):
        page.shutdown()
    workers.wait_for_idle(30_000)
    return code


# --- the counter: devices, login, idle lock ------------------------------------------------------------


def start_counter(app, window, backend, demo: bool, *, skip_login: bool = False, on_sign_in=None):
    """GUI thread, once the database is open: build the counter's devices from the station settings,
    then require a login before the window can be used; lock after ``idle_lock_minutes``."""
    from dataclasses import replace

    from PySide6.QtCore import QThreadPool, QTimer

    from desktop.workstation import workstation_id
    from ui.counter_kit import DEMO_HINT, build_kit
    from ui.dialogs.login import LockScreen, LoginDialog
    from ui.idle import IdleWatcher

    services = backend.services
    info = backend.counter_kit if isinstance(backend.counter_kit, dict) else {}
    ws = workstation_id()
    try:
        kit = build_kit(services, demo, info)
    except Exception as exc:  # noqa: BLE001 - e.g. simulated devices refused outside demo mode
        window.db_label.setText(f"柜台设备初始化失败：{exc}")
        kit = None
    backend = replace(backend, counter_kit=kit)
    page = window.extra_pages.get("counter")
    state = {"operator": None, "lock": None, "resident": None}

    def build_resident_screen() -> None:
        # after the window is usable: its module (numpy) and QtTextToSpeech are imported on a
        # worker first, then the widget and the speech engine are built here on the GUI thread
        try:
            from ui.resident_screen import PromptSpeaker, ResidentScreen

            resident = ResidentScreen(PromptSpeaker(use_tts=not skip_login))
        except Exception:  # noqa: BLE001 - the counter works without the second screen
            if page is not None:
                page.show_resident_state(None)
            return
        state["resident"] = resident
        window._resident_screen = resident
        resident.focus_owner = window  # it never takes the clerk's keyboard
        if resident.speaker.problem_zh:  # e.g. no system sound library: visual prompts, and why
            window.statusBar().showMessage(resident.speaker.problem_zh, 30000)
        if kit is not None:
            kit.resident_screen = resident
            if page is not None and page.kit is kit:
                page.set_resident_screen(resident)
        if state["operator"] is not None and not skip_login:
            place_resident()

    def place_resident() -> None:
        """Full screen on the second monitor; on a single one, docked in the counter page."""
        resident = state["resident"]
        if resident is None:
            return
        resident.place(dock=page.dock_resident_screen if page is not None else None)
        resident.follow_screens()

    def preload_resident_modules() -> None:  # worker thread: imports only, no widgets
        import ui.resident_screen  # noqa: F401

        if not skip_login:
            try:
                import PySide6.QtTextToSpeech  # noqa: F401
            except ImportError:
                pass

    try:
        want_resident = bool(services.station.get("resident_screen"))
    except Exception:  # noqa: BLE001
        want_resident = False
    if not want_resident and page is not None:
        page.show_resident_state(None, enabled=False)
    if want_resident:
        from ui import workers

        workers.run_in_background(preload_resident_modules, lambda _: build_resident_screen(),
                                  lambda _: build_resident_screen(), owner=window,
                                  pool=QThreadPool.globalInstance())
    if kit is not None:
        QTimer.singleShot(0, kit.start_loading)  # face models: once the window is usable

    def signed_in(op) -> None:
        state["operator"] = op
        for extra in window.extra_pages.values():  # every page acts as the signed-in operator
            if hasattr(extra, "set_operator"):
                extra.set_operator(op, ws)
        if on_sign_in is not None:
            on_sign_in(op)
        window.setEnabled(True)
        window.set_locked(False)
        window.date_label.setText(f"{op.display_name}（{op.role_zh}） · 业务日期：{backend.as_of.isoformat()}")
        if state["resident"] is not None and not skip_login:
            place_resident()
        watcher.start(services.settings.get("idle_lock_minutes"))

    def lock() -> None:
        if state["operator"] is None or (state["lock"] is not None and state["lock"].isVisible()):
            return
        if page is not None and page.state in ("face", "recording"):
            watcher.poke()  # never in the middle of a resident's face check; try again after it
            return
        window.set_locked(True)  # nothing of the last resident stays on the screen
        dlg = LockScreen(services.operators, state["operator"], ws, parent=window)
        dlg.unlocked.connect(signed_in)
        state["lock"] = dlg
        dlg.open()

    def open_settings() -> None:
        from desktop.workstation import Actor
        from ui.dialogs.settings_dialog import SettingsDialog

        op = state["operator"]
        if op is None:
            return
        SettingsDialog(services.settings, services.station, Actor(op.username, ws, op.role), parent=window).open()

    watcher = IdleWatcher(app, lock)
    window._idle_watcher = watcher
    window.lock_requested.connect(lock)
    window.settings_requested.connect(open_settings)
    if page is not None:
        page.lock_requested.connect(lock)
        page.settings_requested.connect(open_settings)
    if skip_login:
        return backend
    login = LoginDialog(services.operators, ws, bureau=services.settings.get("bureau_name"),
                        first_start_password=info.get("first_start_password"), demo_hint=DEMO_HINT if demo else "",
                        parent=window)
    login.logged_in.connect(signed_in)
    login.rejected.connect(app.quit)
    window._login = login
    login.open()
    return backend
