"""The counter's right-hand column: who is working at which window, the state of every device the
clerk depends on (reader, camera, resident screen, sound) and today's figures.

Every text wraps: the column is narrow on a 1024-pixel screen and must never widen the window.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout

DEVICES = (("reader", "读卡器"), ("camera", "摄像头"), ("resident", "居民屏幕"), ("sound", "语音提示"))
COLOURS = {True: "#1e7a34", False: "#b23c17", None: "#8a6d00"}   # working / not working / attention
SIDE_WIDTH = (170, 240)


def _wrapping(text: str, parent, name: str = "") -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    if name:
        label.setObjectName(name)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


class CounterSidePanel(QFrame):
    """``set_device(key, ok, text)`` for each of :data:`DEVICES`; ``show_today(lines, count)``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("todayBox")
        self.setMinimumWidth(SIDE_WIDTH[0])
        self.setMaximumWidth(SIDE_WIDTH[1])
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        v = QVBoxLayout(self)
        v.setContentsMargins(12, 10, 12, 10)
        v.setSpacing(4)
        self.operator_label = _wrapping("", self, "muted")
        v.addWidget(self.operator_label)
        v.addSpacing(4)
        title = QLabel("设备状态", self)
        title.setObjectName("sideTitle")
        v.addWidget(title)
        self.device_labels: dict[str, QLabel] = {}
        self.device_state: dict[str, tuple[bool | None, str]] = {}
        for key, name in DEVICES:
            label = _wrapping("", self, "deviceLine")
            label.setTextFormat(Qt.TextFormat.RichText)
            self.device_labels[key] = label
            v.addWidget(label)
            self.set_device(key, None, "检查中")
        # on a single monitor the resident screen is docked here, as a preview of what it shows
        self.dock_title = QLabel("居民屏幕（预览）", self)
        self.dock_title.setObjectName("sideTitle")
        self.dock_title.hide()
        v.addWidget(self.dock_title)
        self.dock_layout = QVBoxLayout()
        self.dock_layout.setContentsMargins(0, 0, 0, 0)
        v.addLayout(self.dock_layout)
        self.docked = None
        v.addSpacing(8)
        t = QLabel("今日办理", self)
        t.setObjectName("sideTitle")
        v.addWidget(t)
        v.addWidget(_wrapping("已完成认证（人）", self))
        self.today_count = QLabel("0", self)
        self.today_count.setObjectName("todayBig")
        v.addWidget(self.today_count)
        self.today_detail = _wrapping("", self)
        self.today_detail.setTextFormat(Qt.TextFormat.RichText)
        v.addWidget(self.today_detail)
        v.addStretch(1)

    def set_device(self, key: str, ok: bool | None, text: str, detail: str = "") -> None:
        """``ok`` True = working, False = not available, None = starting / needs attention;
        ``text`` a few words, ``detail`` (the device's name, the reason) in the tooltip."""
        name = dict(DEVICES)[key]
        self.device_state[key] = (ok, text)
        self.device_labels[key].setToolTip(detail or text)
        dot = "●" if ok is not False else "✖"
        self.device_labels[key].setText(f'<span style="color:{COLOURS[ok]}">{dot}</span> '
                                        f'{name}：<b style="color:{COLOURS[ok]}">{escape(text)}</b>')

    def dock(self, widget) -> None:
        """Show ``widget`` (the resident screen) in the column, 4:3, as wide as the column."""
        if self.docked is not widget:
            self.dock_layout.addWidget(widget)
            self.docked = widget
        widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        widget.setFixedHeight(max(90, (SIDE_WIDTH[1] - 24) * 3 // 4))
        self.dock_title.show()

    def undock(self) -> None:
        if self.docked is not None:
            self.dock_layout.removeWidget(self.docked)
            self.docked = None
        self.dock_title.hide()

    def device_text(self, key: str) -> str:
        return self.device_state.get(key, (None, ""))[1]

    def device_ok(self, key: str) -> bool | None:
        return self.device_state.get(key, (None, ""))[0]
