"""Idle lock: any key or mouse input restarts the timer; after ``minutes`` without input the
callback locks the screen (settings ``idle_lock_minutes``; 0 disables it)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer

INPUT_EVENTS = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
                QEvent.Type.TouchBegin}


class IdleWatcher(QObject):
    def __init__(self, app, on_idle, parent=None):
        super().__init__(parent)
        self._on_idle = on_idle
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)
        self._app = app
        self._installed = False

    def start(self, minutes: float) -> None:
        if minutes <= 0:
            self._timer.stop()
            return
        self._timer.setInterval(int(minutes * 60_000))
        if not self._installed:
            self._app.installEventFilter(self)
            self._installed = True
        self._timer.start()

    def poke(self) -> None:
        if self._timer.interval() > 0 and self._installed:
            self._timer.start()

    def _fire(self) -> None:
        self._on_idle()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() in INPUT_EVENTS and self._installed:
            self._timer.start()
        return False
