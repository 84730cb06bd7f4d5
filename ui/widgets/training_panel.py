"""培训模式: the panel a trainee (or a newcomer in ``certdesk demo``) drives the simulated devices
with, so every path of the counter can be tried without a card reader, a camera or a resident:

* put one of the sample cards on the reader (people on the demo roster, an expired card, a person
  not on the roster, a Hong Kong/Macao/Taiwan permit, the foreign permanent-resident cards) and
  take it off; make the next read fail;
* unplug the reader and plug it in again;
* turn the camera off and on (the counter notices after a few seconds, as with a real webcam);
* choose how the next face check ends (pass, or one of the failure reasons).

It only talks to the simulated devices of the kit (``desktop.devices.idcard.simulated``,
``desktop.devices.cameras.simulated``, the scripted face check): there is nothing here that a
production counter could reach — those devices refuse to exist outside demo and training mode.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFrame, QLabel, QPushButton, QSizePolicy, QVBoxLayout

from desktop.domain.labels import FAILURE_REASON_ZH
from ui.widgets.flow import FlowRow

FACE_OUTCOMES = [("pass", "通过")] + [(code, FAILURE_REASON_ZH[code]) for code in (
    "not_matching", "challenge_not_done", "review_needed", "flat_photo_suspected", "face_lost", "no_face",
    "too_dark", "multiple_faces")]

CSS = """
QFrame#trainingPanel { background: #fff8e1; border: 2px dashed #f0b429; border-radius: 8px; }
QFrame#trainingPanel QLabel#trainingTitle { color: #8d2b0b; font-weight: bold; font-size: 12pt; }
QFrame#trainingPanel QPushButton { font-size: 11pt; padding: 3px 8px; }
QFrame#trainingPanel QComboBox { font-size: 11pt; }
QFrame#trainingPanel QLabel { font-size: 11pt; }
"""


class TrainingPanel(QFrame):
    """Drives ``page``'s simulated devices (a :class:`ui.pages.counter.CounterPage` with a demo kit)."""

    acted = Signal(str)  # what was just done, in words (the tests and the status line read it)

    def __init__(self, page, cards: list, *, training: bool = False, parent=None):
        super().__init__(parent)
        self.page = page
        self.setObjectName("trainingPanel")
        self.setStyleSheet(CSS)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)  # its row wraps on a narrow screen: it grows, nothing is cut
        self.setSizePolicy(policy)
        title = QLabel("培训模式" if training else "演示模式", self)
        title.setObjectName("trainingTitle")
        title.setToolTip("模拟的读卡器和摄像头由这里操作；办理的记录只存在培训/演示数据库中，"
                         "不进入正式数据，也不会同步到中心数据库")
        self.cards = QComboBox(self)
        self.cards.setObjectName("trainingCards")
        self.cards.setToolTip("选择要放到读卡器上的样卡")
        self.cards.setMinimumContentsLength(10)
        self.cards.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        # the specs stay in Python: a frozen slots dataclass is no QVariant (PySide6 refuses it)
        self._specs = [spec for _label, spec in cards]
        for k, (label, _spec) in enumerate(cards):
            self.cards.addItem(label, k)
        self.place_button = self._button("放上证件", self.place_card, "把所选样卡放到读卡器上")
        self.remove_button = self._button("拿走证件", self.remove_card, "把证件从读卡器上拿走")
        self.fail_read_button = self._button("读卡失败", self.fail_next_read, "让下一次读卡失败一次（证件没放好）")
        self.reader_button = self._button("拔出读卡器", self.toggle_reader, "模拟读卡器的连接线被拔出 / 插回")
        self.camera_button = self._button("关闭摄像头", self.toggle_camera,
                                          "模拟摄像头断开 / 恢复（柜台几秒后发现）")
        self.face = QComboBox(self)
        self.face.setObjectName("trainingFace")
        self.face.setMinimumContentsLength(8)
        self.face.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.face.setToolTip("下一次人脸认证的结果（用过一次后恢复为“通过”）")
        for code, text in FACE_OUTCOMES:
            self.face.addItem(f"人脸：{text}", code)
        self.face.activated.connect(lambda _i: self.set_next_face(self.face.currentData()))
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row = FlowRow(self, spacing=6)
        row.add(title, self.cards, self.place_button, self.remove_button, self.fail_read_button, self.reader_button,
                self.camera_button, self.face)
        v = QVBoxLayout(self)
        v.setContentsMargins(8, 4, 8, 4)
        v.setSpacing(2)
        v.addWidget(row)
        v.addWidget(self.status)
        self.status.hide()
        page.state_changed.connect(lambda _s: self._sync_face())

    def _sync_face(self) -> None:
        """The scripted outcome is used up by a check: the choice shows what comes next."""
        kit = self.page.kit
        code = kit.face_script[0] if kit is not None and kit.face_script else "pass"
        idx = self.face.findData(code)
        if idx >= 0 and idx != self.face.currentIndex():
            self.face.setCurrentIndex(idx)
            if code == "pass" and self.status.text().startswith("下一次人脸认证"):
                self._say("")  # used up

    def _button(self, text: str, slot, tip: str) -> QPushButton:
        b = QPushButton(text, self)
        b.setToolTip(tip)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Enter and the F-keys stay the counter's
        b.clicked.connect(slot)
        return b

    # --- the simulated devices -------------------------------------------------------------------
    @property
    def reader(self):
        bridge = self.page.bridge
        session = getattr(bridge, "session", None) if bridge is not None else None
        return getattr(session, "reader", None)

    @property
    def camera(self):
        return self.page.camera

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.acted.emit(text)

    def place_card(self) -> None:
        k = self.cards.currentData()
        spec, label = (self._specs[k] if isinstance(k, int) and 0 <= k < len(self._specs) else None), \
            self.cards.currentText()
        if self.reader is None or spec is None:
            return
        self.reader.place_card(spec)
        self._say(f"已放上：{label}")

    def remove_card(self) -> None:
        if self.reader is not None:
            self.reader.remove_card()
            self._say("证件已拿走")

    def fail_next_read(self) -> None:
        if self.reader is not None:
            self.reader.fail_next_read()
            self._say("下一次读卡将失败")

    def toggle_reader(self) -> None:
        reader = self.reader
        if reader is None:
            return
        if getattr(reader, "_plugged", True):
            reader.unplug()
            self.reader_button.setText("插回读卡器")
            self._say("读卡器已拔出")
        else:
            reader.plug()
            self.reader_button.setText("拔出读卡器")
            self._say("读卡器已插回")

    def toggle_camera(self) -> None:
        camera = self.camera
        if camera is None or not hasattr(camera, "set_available"):
            self._say("没有模拟摄像头")
            return
        on = not camera.available
        camera.set_available(on)
        self.camera_button.setText("关闭摄像头" if on else "打开摄像头")
        self._say("摄像头已打开" if on else "摄像头已关闭（柜台几秒后会提示摄像头不可用）")

    def set_next_face(self, code: str) -> None:
        kit = self.page.kit
        if kit is None:
            return
        kit.face_script[:] = [] if code == "pass" else [code]
        idx = self.face.findData(code)
        if idx >= 0:
            self.face.setCurrentIndex(idx)
        self._say("下一次人脸认证将通过" if code == "pass"
                  else f"下一次人脸认证将不通过：{FAILURE_REASON_ZH.get(code, code)}")
