"""Start-up of the window, shared by ``certdesk``, the drill and the tests: the application's font
and style (:func:`setup_application`) and the back end opened off the GUI thread
(:func:`open_backend`: database, migrations, demo data, services, the counter's start-up info).
The composition root (:mod:`ui.app`) then builds the station and hands everything to the pages."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from desktop.platform import paths

CJK_FONTS_LINUX = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Droid Sans Fallback"]
CJK_FONTS_WINDOWS = ["Microsoft YaHei UI", "Microsoft YaHei", "SimHei", "SimSun"]
CJK_FONTS_MAC = ["PingFang SC", "Heiti SC"]
BASE_POINT_SIZE = 13  # large, readable at arm's length
STARTUP_SERVICES = ("settings", "station", "operators", "counter", "evidence")


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
    from desktop.counter.station import prepare_counter
    from desktop.platform.workstation import workstation_id

    report(None, "正在准备柜台…")
    startup = prepare_counter(services, demo, workstation_id(), as_of, training=training)
    sync = None
    if not demo:  # demo and training data stay on this machine
        from desktop.services.sync import SyncService, resolve_central

        central = resolve_central(None, db)
        sync = SyncService(db, central) if central else None
    # the station is built by the composition root on the GUI thread (ui.app.start_counter)
    return Backend(services.persons, services.lists, as_of, demo, describe_location(db.url), services,
                   sync=sync, startup=startup)
