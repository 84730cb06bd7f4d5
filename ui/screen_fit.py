"""Windows that fit the counter's screen: 1366×768 is the commonest counter monitor, 1024×768 is
still found in county halls, and 1920×1080 at 150 % scaling leaves 1280×720 logical pixels.

* :data:`MIN_WINDOW` is the main window's minimum size: below every one of those screens.
* :func:`fit_to_screen` sizes a dialog or preview to the screen its parent is on (a preferred size,
  never more than the available area) and centres it there.
* :class:`DialogFitter`, installed once on the application by :func:`ui.app.setup_application`,
  does the same for every dialog as it is shown — including message boxes and dialogs built by
  pages that never call :func:`fit_to_screen` — so none drifts to a screen edge or hides its
  buttons below the task bar.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QWidget

MIN_WINDOW = QSize(960, 640)   # logical pixels; the bound is 1000×700
MARGIN = 16                    # kept free around a dialog on a small screen


def available_area(widget: QWidget | None = None) -> QRect:
    """The available geometry (without task bars) of the screen ``widget`` (or its parent
    window) is on, else of the primary screen."""
    screen = None
    w = widget
    while w is not None and screen is None:
        if w.isVisible() or w.parentWidget() is None:
            screen = w.screen()
        w = w.parentWidget()
    screen = screen or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1024, 768)


def _frame_extra(widget: QWidget) -> QSize:
    """Title bar and borders the window manager adds (0 before the window was first shown)."""
    frame, geo = widget.frameGeometry(), widget.geometry()
    return QSize(max(0, frame.width() - geo.width()), max(0, frame.height() - geo.height()))


def fit_to_screen(widget: QWidget, preferred: QSize | tuple[int, int] | None = None, *, centre: bool = True) -> None:
    """Resize ``widget`` (a top-level dialog) to ``preferred`` but never beyond the available area,
    then centre it over its parent window (or the screen) so that it lies wholly on the screen."""
    area = available_area(widget.parentWidget() or widget)
    extra = _frame_extra(widget)
    limit = QSize(area.width() - 2 * MARGIN - extra.width(), area.height() - 2 * MARGIN - extra.height())
    if preferred is None:
        preferred = widget.size()
    elif isinstance(preferred, tuple):
        preferred = QSize(*preferred)
    size = preferred.boundedTo(limit).expandedTo(widget.minimumSizeHint().boundedTo(limit))
    if widget.minimumWidth() > limit.width() or widget.minimumHeight() > limit.height():
        widget.setMinimumSize(widget.minimumSize().boundedTo(limit))
    widget.resize(size)
    if centre:
        place_on_screen(widget, area)


def place_on_screen(widget: QWidget, area: QRect | None = None) -> None:
    """Centre ``widget`` over its parent window when that keeps it on screen, else on the screen."""
    area = area or available_area(widget.parentWidget() or widget)
    extra = _frame_extra(widget)
    w, h = widget.width() + extra.width(), widget.height() + extra.height()
    parent = widget.parentWidget().window() if widget.parentWidget() is not None else None
    centre = parent.frameGeometry().center() if parent is not None and parent.isVisible() else area.center()
    x = min(max(area.left(), centre.x() - w // 2), area.right() + 1 - w)
    y = min(max(area.top(), centre.y() - h // 2), area.bottom() + 1 - h)
    widget.move(max(area.left(), x), max(area.top(), y))


class DialogFitter(QObject):
    """Application event filter: every dialog, when shown, is shrunk to the available screen area
    if it is larger, and moved back onto the screen if any part of it is off."""

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Show and isinstance(obj, QDialog) and obj.isWindow():
            area = available_area(obj.parentWidget() or obj)
            frame = obj.frameGeometry()
            if frame.width() > area.width() or frame.height() > area.height():
                fit_to_screen(obj)
            elif not area.contains(frame):
                place_on_screen(obj, area)
        return False


_fitter: DialogFitter | None = None


def install(app) -> None:
    """Once per application (``setup_application``)."""
    global _fitter
    if _fitter is None:
        _fitter = DialogFitter(app)
        app.installEventFilter(_fitter)
