"""Sign-in at the counter: the login dialog at start, the lock screen (Ctrl+L, or after
``idle_lock_minutes`` without input: :class:`ui.idle.IdleWatcher`), and what a sign-in changes —
every page acts as the signed-in operator, the resident screen is placed. Built by the
composition root (:func:`ui.app.start_counter`)."""

from __future__ import annotations

from desktop.platform.workstation import Actor, workstation_id
from ui.idle import IdleWatcher


class SignIn:
    """GUI thread only. ``operator`` is the signed-in OperatorView (None before the first login)."""

    def __init__(self, app, window, services, as_of, *, demo: bool, info, page=None, on_sign_in=None):
        self.app, self.window, self.services, self.as_of = app, window, services, as_of
        self.demo, self.info, self.page, self.on_sign_in = demo, info, page, on_sign_in
        self.ws = workstation_id()
        self.operator = None
        self.lock_dialog = None
        self.resident = None
        self.watcher = IdleWatcher(app, self.lock)
        window._idle_watcher = self.watcher
        window.lock_requested.connect(self.lock)
        window.settings_requested.connect(self.open_settings)
        if page is not None:
            page.lock_requested.connect(self.lock)
            page.settings_requested.connect(self.open_settings)

    def ask(self) -> None:
        """The login dialog; closing it quits the application."""
        from desktop.counter.station import DEMO_HINT
        from ui.dialogs.login import LoginDialog

        login = LoginDialog(self.services.operators, self.ws, bureau=self.services.settings.get("bureau_name"),
                            first_start_password=self.info.first_start_password,
                            demo_hint=DEMO_HINT if self.demo else "", parent=self.window)
        login.logged_in.connect(self.signed_in)
        login.rejected.connect(self.app.quit)
        self.window._login = login
        login.open()

    def resident_ready(self, resident, *, place: bool) -> None:
        """The resident screen exists: placed now if someone is signed in, else at sign-in."""
        self.resident = resident if place else None
        if self.operator is not None:
            self._place_resident()

    def _place_resident(self) -> None:
        """Full screen on the second monitor; on a single one, docked in the counter page."""
        if self.resident is None:
            return
        self.resident.place(dock=self.page.dock_resident_screen if self.page is not None else None)
        self.resident.follow_screens()

    def signed_in(self, op) -> None:
        self.operator = op
        window = self.window
        for extra in window.extra_pages.values():  # every page acts as the signed-in operator
            if hasattr(extra, "set_operator"):
                extra.set_operator(op, self.ws)
        if self.on_sign_in is not None:
            self.on_sign_in(op)
        window.setEnabled(True)
        window.set_locked(False)
        window.date_label.setText(f"{op.display_name}（{op.role_zh}） · 业务日期：{self.as_of.isoformat()}")
        self._place_resident()
        self.watcher.start(self.services.settings.get("idle_lock_minutes"))

    def lock(self) -> None:
        from ui.dialogs.login import LockScreen

        if self.operator is None or (self.lock_dialog is not None and self.lock_dialog.isVisible()):
            return
        if self.page is not None and self.page.state in ("face", "recording"):
            self.watcher.poke()  # never in the middle of a resident's face check; try again after it
            return
        self.window.set_locked(True)  # nothing of the last resident stays on the screen
        dlg = LockScreen(self.services.operators, self.operator, self.ws, parent=self.window)
        dlg.unlocked.connect(self.signed_in)
        self.lock_dialog = dlg
        dlg.open()

    def open_settings(self) -> None:
        from ui.dialogs.settings_dialog import SettingsDialog

        op = self.operator
        if op is not None:
            SettingsDialog(self.services.settings, self.services.station, Actor(op.username, self.ws, op.role),
                           parent=self.window).open()
