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
import os
import sys
import time
from datetime import date

from desktop.platform import runmode
from ui.startup import (STARTUP_SERVICES, choose_font_family, open_backend, setup_application,  # noqa: F401
                        training_db_url)

_T0 = time.perf_counter()

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
        from desktop.platform.workstation import system_actor

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
    for name in ("long", "devices"):  # an export, a print job or a camera still opening
        workers.wait_for_idle(10_000, name)
    return code


# --- the counter: the station, the resident screen, then sign-in ----------------------------------------


def start_counter(app, window, backend, demo: bool, *, skip_login: bool = False, on_sign_in=None):
    """GUI thread, once the database is open: build the counter's station from the station
    settings (or the demo cards) and hand it to the pages, build the resident screen once the window
    is usable, then require a sign-in (:class:`ui.signin.SignIn`: login, lock screen, idle lock).
    Returns the backend the pages get (with the station)."""
    from dataclasses import replace

    from PySide6.QtCore import QTimer

    from desktop.counter.station import StartupInfo, build_station
    from ui import workers
    from ui.signin import SignIn

    services = backend.services
    info = backend.startup or StartupInfo()
    try:
        station = build_station(services, demo, info)
    except Exception as exc:  # noqa: BLE001 - e.g. simulated devices refused outside demo mode
        window.db_label.setText(f"柜台设备初始化失败：{exc}")
        station = None
    backend = replace(backend, station=station)
    page = window.extra_pages.get("counter")
    signin = SignIn(app, window, services, backend.as_of, demo=demo, info=info, page=page, on_sign_in=on_sign_in)
    window._signin = signin

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
        window._resident_screen = resident
        resident.focus_owner = window  # it never takes the clerk's keyboard
        if resident.speaker.problem_zh:  # e.g. no system sound library: visual prompts, and why
            window.statusBar().showMessage(resident.speaker.problem_zh, 30000)
        if page is not None:
            page.set_resident_screen(resident)
        signin.resident_ready(resident, place=not skip_login)

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
        workers.run_in_background(preload_resident_modules, lambda _: build_resident_screen(),
                                  lambda _: build_resident_screen(), owner=window, pool=workers.device_pool())
    if station is not None and not demo:
        QTimer.singleShot(0, station.start_loading)  # face models: once the window is usable
    if not skip_login:
        signin.ask()
    return backend
