"""设置: pages generated from the declarations (desktop.services.settings.OPTIONS for the bureau,
desktop.services.station.STATION_OPTIONS for this workstation's devices and printer), one tab per
group. Bureau settings are shared by every counter and only an admin may change them
(desktop.domain.permissions "settings.change", the same rule SettingsService.set enforces)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QScrollArea, QSpinBox, QTabWidget, QVBoxLayout, QWidget)

from desktop.domain.permissions import allowed
from desktop.services.settings import OPTIONS
from desktop.services.station import CAMERA_KINDS_ZH, READER_DRIVERS_ZH, STATION_OPTIONS
from ui.dialogs.login import DIALOG_CSS
from ui.workers import run_in_background

GROUP_ZH = {"bureau": "经办机构", "payroll": "发放与提醒", "printing": "表格打印", "face": "人脸识别",
            "security": "安全", "counter": "柜台", "devices": "设备", "printer": "打印机"}
CHOICES = {"reader_driver": READER_DRIVERS_ZH, "camera_kind": CAMERA_KINDS_ZH}


def _printers() -> list[str]:
    try:
        from PySide6.QtPrintSupport import QPrinterInfo

        return list(QPrinterInfo.availablePrinterNames())
    except Exception:  # noqa: BLE001
        return []


def editor_for(option, value, parent=None):
    if option.key in CHOICES:
        w = QComboBox(parent)
        for code, text in CHOICES[option.key].items():
            w.addItem(text, code)
        w.setCurrentIndex(max(0, w.findData(value)))
        return w, lambda: w.currentData()
    if option.key == "printer_name":
        w = QComboBox(parent)
        w.setEditable(True)
        w.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)  # a typed name is read back from the text
        w.addItem("（系统默认打印机）", "")
        for name in _printers():
            w.addItem(name, name)
        idx = w.findData(value)
        if idx >= 0:
            w.setCurrentIndex(idx)
        else:
            w.setEditText(value)
        # the items' data equal their text except the first (system default = "")
        return w, lambda: "" if w.currentText().strip() in ("", w.itemText(0)) else w.currentText().strip()
    if option.type is bool:
        w = QCheckBox(parent)
        w.setChecked(bool(value))
        return w, w.isChecked
    if option.type is int:
        w = QSpinBox(parent)
        w.setRange(0, 100000)
        w.setValue(int(value))
        return w, w.value
    if option.type is float:
        w = QDoubleSpinBox(parent)
        w.setDecimals(3)
        w.setSingleStep(0.01)
        w.setRange(0.0, 2.0)
        w.setValue(float(value))
        return w, w.value
    w = QLineEdit(str(value), parent)
    return w, lambda: w.text().strip()


class SettingsDialog(QDialog):
    saved = Signal()

    def __init__(self, settings, station, actor, parent=None):
        super().__init__(parent)
        self.settings, self.station, self.actor = settings, station, actor
        self.can_edit_bureau = allowed(actor.role, "settings.change")  # the service's rule, not a copy
        self.setWindowTitle("设置")
        self.setStyleSheet(DIALOG_CSS)
        self.resize(820, 560)
        self.tabs = QTabWidget(self)
        self.getters: dict[str, tuple[str, object]] = {}  # key -> (scope, getter)
        self.editors: dict[str, QWidget] = {}
        groups: dict[str, list] = {}
        for scope, opts in (("bureau", OPTIONS), ("station", STATION_OPTIONS)):
            for o in opts.values():
                groups.setdefault(o.group, []).append((scope, o))
        values = {**settings.all(), **station.all()}
        for group, items in groups.items():
            page = QWidget(self)
            form = QFormLayout(page)
            form.setContentsMargins(20, 18, 20, 18)
            form.setVerticalSpacing(12)
            shared = items[0][0] == "bureau"
            note = QLabel("本页设置由本局所有柜台共用" + ("" if self.can_edit_bureau else "（仅系统管理员可修改）")
                          if shared else "本页设置只对这台电脑有效", page)
            note.setObjectName("dlgSub")
            form.addRow(note)
            for scope, o in items:
                w, get = editor_for(o, values[o.key], page)
                w.setToolTip(o.description_zh)
                if scope == "bureau" and not self.can_edit_bureau:
                    w.setEnabled(False)
                self.getters[o.key] = (scope, get)
                self.editors[o.key] = w
                label = QLabel(o.title_zh, page)
                label.setToolTip(o.description_zh)
                form.addRow(label, w)
                if o.description_zh and (o.type is not bool or o.group == "counter"):
                    hint = QLabel(o.description_zh, page)
                    hint.setObjectName("dlgSub")
                    hint.setWordWrap(True)
                    form.addRow("", hint)
            scroll = QScrollArea(self)  # a tall tab scrolls inside a dialog fitted to a small screen
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(page)
            self.tabs.addTab(scroll, GROUP_ZH.get(group, group))
        self.error = QLabel("", self)
        self.error.setObjectName("dlgError")
        save = QPushButton("保存", self)
        save.setObjectName("primaryButton")
        save.clicked.connect(self.save)
        cancel = QPushButton("取消", self)
        cancel.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.error, 1)
        row.addWidget(cancel)
        row.addWidget(save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(row)

    def changes(self) -> tuple[dict, dict]:
        bureau, station = {}, {}
        current = {**self.settings.all(), **self.station.all()}
        for key, (scope, get) in self.getters.items():
            value = get()
            if value != current[key]:
                (bureau if scope == "bureau" else station)[key] = value
        if not self.can_edit_bureau:
            bureau = {}
        return bureau, station

    def save(self) -> None:
        bureau, station = self.changes()
        if bureau.get("face_accept", self.settings.get("face_accept")) > bureau.get("face_reject", self.settings.get("face_reject")):
            self.error.setText("人脸比对的通过标准不能大于不通过标准")
            return
        for k, v in station.items():
            self.station.set(k, v)

        def write():
            for k, v in bureau.items():
                self.settings.set(k, v, self.actor)

        run_in_background(write, lambda _: (self.saved.emit(), self.accept()),
                          lambda exc: self.error.setText(f"保存失败：{exc}"), owner=self)
