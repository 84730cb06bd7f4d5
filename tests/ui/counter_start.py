"""Helpers for the sign-in tests: a real database and MainWindow wired by ``ui.app.start_counter``
exactly as ``run_gui`` wires them (demo devices, so no hardware or face models are needed)."""

from __future__ import annotations

from datetime import date

from argon2 import PasswordHasher

AS_OF = date(2026, 11, 29)
FAST_HASHER = dict(time_cost=1, memory_cost=1024, parallelism=1)


def make_services(path):
    """A fresh SQLite database with its services; argon2 made cheap so the tests stay quick."""
    from desktop.services.database import Database
    from desktop.services.hub import Services
    from desktop.services.operators import OperatorService

    db = Database.open(str(path))
    services = Services(db)
    services.__dict__["operators"] = OperatorService(db, hasher=PasswordHasher(**FAST_HASHER))
    services.station.set("resident_screen", False)  # no second screen (and no speech) in the tests
    return services


def start(qtbot, app, services, *, first_start_password=None):
    """A shown MainWindow after ``start_counter``: the login dialog is open over it."""
    from ui.app import start_counter
    from ui.main_window import MainWindow
    from ui.models.backend import Backend

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    from desktop.counter.station import StartupInfo

    info = StartupInfo(first_start_password)
    backend = Backend(services.persons, services.lists, AS_OF, False, "test", services, startup=info)
    backend = start_counter(app, window, backend, True)
    return window, backend


def stop(window, app) -> None:
    """Closing the test window must not quit the shared QApplication."""
    login = getattr(window, "_login", None)
    if login is not None:
        try:
            login.rejected.disconnect(app.quit)
        except (RuntimeError, TypeError):
            pass
    watcher = getattr(window, "_idle_watcher", None)
    if watcher is not None:
        watcher.start(0)  # stop the timer
        app.removeEventFilter(watcher)


def submit(qtbot, dialog, username: str, password: str) -> None:
    """Type into a LoginDialog / LockScreen, press the button, wait for the background check."""
    dialog.username.setText(username)
    dialog.password.setText(password)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.ok_button.isEnabled() or not dialog.isVisible(), timeout=10_000)
