"""pytest-qt fixtures for the main window: a fresh SQLite database per test, built through the
services (roster import), and a window wired to it exactly as ``ui.app`` wires it.

Fixtures here are opt-in (no autouse), so other tests under tests/ui are unaffected.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from desktop.services.database import Database
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.platform.workstation import Actor

AS_OF = date(2026, 11, 29)  # the business date of every GUI test (--as-of)
ACTOR = Actor("test", "ws-test", "supervisor")
SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "roster-sample.csv"


def build_db(path: Path, roster: Path) -> Database:
    db = Database.open(str(path))
    report = ImportService(db).import_roster(roster, ACTOR, today=AS_OF)
    assert not report.rejected, report.rejected
    return db


def write_roster(path: Path, rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        w.writerows(rows)
    return path


@pytest.fixture(scope="session")
def styled_qapp(qapp):
    from ui.app import setup_application

    setup_application(qapp)
    return qapp


@pytest.fixture
def no_dangling_threads(qapp):
    """Fail the test if a background job is still running or its callback never arrived."""
    from ui import workers

    yield
    assert workers.wait_for_idle(10_000), "a background job is still running"
    qapp.processEvents()
    assert workers.db_pool().activeThreadCount() == 0
    assert workers.pending_jobs() == 0, "a background result was never delivered to the GUI thread"


@pytest.fixture
def sample_db(tmp_path) -> Database:
    if not SAMPLE.exists():
        pytest.skip("../shared/fixtures/roster-sample.csv is not available")
    db = build_db(tmp_path / "certdesk-test.sqlite", SAMPLE)
    yield db
    db.dispose()


def make_backend(db: Database):
    from desktop.services.hub import Services
    from ui.models.backend import Backend

    services = Services(db)
    return Backend(services.persons, services.lists, AS_OF, False, "test")


@pytest.fixture
def make_window(qtbot, styled_qapp, no_dangling_threads):
    """``make_window(db)`` → a shown MainWindow on ``db``, services injected."""
    from ui.main_window import MainWindow

    def make(db: Database) -> MainWindow:
        window = MainWindow()
        qtbot.addWidget(window)
        window.show()
        window.activateWindow()  # shortcuts (F3, Esc) need the active window
        qtbot.waitUntil(window.isActiveWindow, timeout=2000)
        window.set_backend(make_backend(db))
        return window

    return make


@pytest.fixture
def outreach_page(qtbot, backend, styled_qapp):
    """The outreach page on the module's ``backend`` fixture, shown at a counter's size; after
    the test its background work is waited for and the paged list's connection given back."""
    from ui import long_task, workers
    from ui.pages.outreach import OutreachPage

    p = OutreachPage()
    qtbot.addWidget(p)
    p.set_backend(backend)
    p.resize(1200, 700)
    p.show()
    yield p
    assert long_task.wait_for_long_tasks(10_000) and workers.wait_for_idle(10_000)
    if p.model.source() is not None:
        p.model.source().close()
