"""Pages built once the services and the signed-in operator are known, plugged into the main
window: assist forms (issue 6) and home visits (issue 7). Their widgets take the service and the
operator's Actor in the constructor; these wrappers create them on sign-in and keep the Actor
current when another operator unlocks the screen."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop.platform.workstation import Actor


class _OperatorPage(QWidget):
    person_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.backend = None
        self.inner = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._placeholder = QLabel("请先登录", self)
        self._layout.addWidget(self._placeholder)

    def set_backend(self, backend) -> None:
        self.backend = backend

    def set_operator(self, operator, workstation: str) -> None:
        actor = Actor(operator.username, workstation, operator.role)
        if self.inner is None and self.backend is not None:
            self.inner = self.build(self.backend, actor, operator)
            if hasattr(self.inner, "person_requested"):
                self.inner.person_requested.connect(self.person_requested)
            self._placeholder.hide()
            self._layout.addWidget(self.inner)
        elif self.inner is not None:
            self.inner.actor = actor

    def activated(self) -> None:
        """Shown again: its lists refresh themselves (no empty tab until someone presses 刷新)."""
        inner = self.inner
        for name in ("reload", "refresh"):
            fn = getattr(inner, name, None)
            if callable(fn):
                fn()
                return

    def build(self, backend, actor: Actor, operator) -> QWidget:  # pragma: no cover - abstract
        raise NotImplementedError


class AssistFormsPage(_OperatorPage):
    def build(self, backend, actor, operator):
        from ui.dialogs.qr_camera_dialog import camera_factory_for
        from ui.pages.forms_page import FormsPage

        station = backend.services.station
        return FormsPage(backend.services.forms, actor, backend.as_of, parent=self, operators=backend.services.operators,
                         printer_name=lambda: station.get("printer_name"),
                         camera_factory=camera_factory_for(station, backend.demo))


class HomeVisitsPage(_OperatorPage):
    def build(self, backend, actor, operator):
        from ui.pages.visits_page import VisitsPage

        return VisitsPage(backend.services.visits, backend.services.persons, actor, staff=operator.username, parent=self)


PAGE_SPECS = [
    {"key": "forms", "title": "异地协助认证", "shortcut": "Ctrl+5", "order": 20, "cls": AssistFormsPage},
    {"key": "visits", "title": "上门认证", "shortcut": "Ctrl+6", "order": 21, "cls": HomeVisitsPage},
]
