"""Status colours and the status badge: one place decides what 正常/即将到期/… look like."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel

# (background, text) per status of desktop.domain.rules.STATUSES. Green / amber / orange / red / grey,
# dark enough text for a clerk reading at arm's length.
STATUS_COLORS: dict[str, tuple[str, str]] = {
    "valid": ("#2e7d32", "#ffffff"),
    "due_soon": ("#f9a825", "#222222"),
    "overdue": ("#ef6c00", "#ffffff"),
    "suspended": ("#c62828", "#ffffff"),
    "terminated": ("#757575", "#ffffff"),
}


def status_color(status: str) -> QColor:
    return QColor(STATUS_COLORS.get(status, ("#757575", ""))[0])


class StatusBadge(QLabel):
    """A rounded, colour-coded label such as 「已逾期」."""

    def __init__(self, status: str, text: str, parent=None):
        super().__init__(text, parent)
        self.status = status
        bg, fg = STATUS_COLORS.get(status, ("#757575", "#ffffff"))
        self.setObjectName("statusBadge")
        self.setProperty("status", status)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet(
            f"QLabel#statusBadge {{ background: {bg}; color: {fg}; border-radius: 6px;"
            f" padding: 4px 14px; font-weight: bold; }}"
        )
