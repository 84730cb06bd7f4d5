"""Clerk-side face-check panel: preview, progress, result, triage, repeat / switch / cancel.

Injected: a frame source (anything with ``latest()`` and ``wait_next(after_index, timeout)``, e.g.
desktop.devices.cameras.*), a session factory returning a fresh ``FaceCheckSession`` and optionally
the :class:`ResidentScreen`. Threads: the camera captures on its own thread; the face session runs on
a :func:`ui.workers.stream` thread (:func:`desktop.counter.stream.feed_newest`: always the newest
frame, dropping the rest); the GUI thread only paints the
newest frame and never waits for face work. The timer polls at twice the camera rate (a 30 Hz
poll of a 30 Hz camera drops every frame that lands just after a tick) and paints only new frames.
"""

from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from desktop.face.session import FaceCheckResult, Progress, Prompt
from desktop.face.triage import NEXT_STEP_ZH, REASON_ZH
from ui.qt_compat import guard_none_refcount
from ui.resident_screen import ResidentScreen, bgr_to_qimage



PHASE_ZH = {"find_face": "寻找人脸", "baseline": "采集基准", "challenge": "动作", "final": "比对中", "done": "完成"}
CHALLENGE_ZH = {"blink": "眨眼", "open_mouth": "张嘴", "turn_left": "向左转头", "turn_right": "向右转头"}

def details_zh(ev) -> str:
    """The technical figures of a check, for the 详情 toggle (never in front of the resident)."""
    dist = "—" if ev.distance is None else f"{ev.distance:.3f}"
    lines = [f"比对距离：{dist}（不大于 {ev.settings_accept:.2f} 判定为本人，大于 {ev.settings_reject:.2f} 判定为非本人）",
             f"活体检测：{'通过' if ev.liveness_passed else '未通过'}",
             f"分析画面：{ev.frames_used} / {ev.frames_seen} 帧"]
    if ev.challenges_done:
        lines.append("完成动作：" + "、".join(CHALLENGE_ZH.get(c, c) for c in ev.challenges_done))
    return "\n".join(lines)


CAMERA_STALL_S = 3.0  # no new frame for this long: the camera counts as lost (unplugged, driver hung)


class FaceCheckPanel(QWidget):
    check_finished = Signal(object)     # FaceCheckResult
    check_aborted = Signal()            # the check ended without a result (camera lost, or stopped)
    next_step_chosen = Signal(str)      # a NextStep value chosen by the clerk
    camera_state_changed = Signal(bool)  # frames arrive (True) / stopped arriving (False)

    def __init__(self, source, session_factory: Callable[[], object], *,
                 resident_screen: ResidentScreen | None = None, preview_hz: int = 60, parent=None):
        super().__init__(parent)
        guard_none_refcount()   # PySide6 6.12 + Python 3.11: painting leaks None references
        self.source = source
        self.session_factory = session_factory
        self.resident = resident_screen
        self.session = None
        self.result: FaceCheckResult | None = None
        self._thread = None  # the running check's ui.workers.Stream
        self._last_index = 0
        self.frames_painted = 0
        self.camera_ok = True
        self._last_frame_t = time.monotonic()

        # the preview takes whatever room there is and never asks for more: a pixmap scaled to
        # the label's size must not become the label's size hint (the window grew with each frame)
        self.preview = QLabel("摄像头未启动")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(200, 150)
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.show_result = True  # False where the owner shows the result itself (the counter)
        self.prompt = self._wrapping("faceprompt")
        self.status = self._wrapping()
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(10)
        self.result_label = self._wrapping()
        # technical figures (faces in view, distance, thresholds, frames) only behind 详情
        self.details = self._wrapping("faceDetails")
        self.details.hide()
        self.details_button = QPushButton("详情")
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("显示比对距离、人脸数等技术细节")
        self.details_button.toggled.connect(lambda on: self.details.setVisible(on and bool(self.details.text())))
        self.suggestions = QListWidget()
        self.suggestions.setMaximumHeight(84)
        self.suggestions.setWordWrap(True)
        self.suggestions.hide()  # only when there is something to suggest
        self.start_button = QPushButton("开始人脸认证")
        self.repeat_button = QPushButton("重复提示")
        self.switch_button = QPushButton("换动作")
        self.switch_button.setToolTip("换一组动作")
        self.cancel_button = QPushButton("取消")
        self.start_button.clicked.connect(self.start_check)
        self.repeat_button.clicked.connect(lambda: self._request("repeat"))
        self.switch_button.clicked.connect(lambda: self._request("switch"))
        self.cancel_button.clicked.connect(lambda: self._request("cancel"))
        self.suggestions.itemActivated.connect(lambda item: self.next_step_chosen.emit(item.data(256)))
        if self.resident is not None:
            self.resident.repeat_requested.connect(lambda: self._request("repeat"))

        from ui.widgets.flow import FlowRow

        self.buttons_row = FlowRow(self, spacing=6)
        self.buttons_row.add(self.start_button, self.repeat_button, self.switch_button, self.cancel_button,
                             self.details_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.preview, 1)
        for w in (self.prompt, self.status, self.progress, self.result_label, self.suggestions, self.details):
            layout.addWidget(w)
        layout.addWidget(self.buttons_row)
        for label in (self.prompt, self.status, self.result_label, self.details):
            self._say(label, "")
        self._set_running(False)

        self._timer = QTimer(self)
        self._timer.setInterval(max(1, 1000 // preview_hz))
        self._timer.timeout.connect(self._paint_newest)
        self._timer.start()

    def _say(self, label: QLabel, text: str) -> None:
        """Set a line's text; an empty line takes no room (the panel must fit a 768-pixel screen),
        the details only show while 详情 is pressed, the result only where :attr:`show_result`."""
        label.setText(text)
        if label is self.details:
            label.setVisible(bool(text) and self.details_button.isChecked())
        elif label is self.result_label:
            label.setVisible(bool(text) and self.show_result)
        else:
            label.setVisible(bool(text))

    @staticmethod
    def _wrapping(name: str = "") -> QLabel:
        """A label that wraps within the panel's width instead of widening it."""
        label = QLabel("")
        label.setWordWrap(True)
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        if name:
            label.setObjectName(name)
        return label

    # -- preview (GUI thread, never waits for face work)
    def set_resident_screen(self, screen: ResidentScreen | None) -> None:
        """Attach the resident screen once it exists (the counter builds it after start-up)."""
        if screen is None or screen is self.resident:
            return
        self.resident = screen
        screen.repeat_requested.connect(lambda: self._request("repeat"))

    def _paint_newest(self) -> None:
        frame = self.source.latest()
        now = time.monotonic()
        if frame is None or frame.index == self._last_index:
            lost = (getattr(self.source, "ended", False) or getattr(self.source, "error", None) is not None
                    or now - self._last_frame_t > CAMERA_STALL_S)
            if lost and self.camera_ok:
                self._set_camera_ok(False)
            return
        self._last_index = frame.index
        self._last_frame_t = now
        if not self.camera_ok:
            self._set_camera_ok(True)
        img = bgr_to_qimage(frame.image)
        self.preview.setPixmap(QPixmap.fromImage(img).scaled(self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio))
        self.frames_painted += 1
        if self.resident is not None:
            self.resident.show_frame(frame.image)

    # -- the check
    def start_check(self) -> None:
        if self._thread is not None:
            return
        self.result = None
        self.suggestions.clear()
        self.suggestions.hide()
        self._say(self.result_label, "")
        self._say(self.details, "")
        from desktop.counter.stream import feed_newest
        from ui.workers import stream

        self.session = session = self.session_factory()
        source = self.source
        self._set_running(True)
        self._thread = stream(lambda emit, running: feed_newest(source, session, emit, running),
                              self._on_event, self._on_thread_done, name="face-check")

    def _set_camera_ok(self, ok: bool) -> None:
        self.camera_ok = ok
        if not ok:
            self.preview.clear()
            self.preview.setText("摄像头无画面")
            self.abort_check()
        self.camera_state_changed.emit(ok)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def abort_check(self) -> None:
        """End a running check without a result (:attr:`check_aborted` follows)."""
        if self.session is not None and not self.session.finished:
            self.session.request("cancel")
        if self._thread is not None:
            self._thread.stop()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread.wait(5.0)
            self._on_thread_done()
        self._timer.stop()

    def _request(self, action: str) -> None:
        if self.session is not None and not self.session.finished:
            self.session.request(action)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        for b in (self.repeat_button, self.switch_button, self.cancel_button):
            b.setEnabled(running)

    @Slot()
    def _on_thread_done(self) -> None:
        if self._thread is None:
            return
        self._thread.deleteLater()
        self._thread = None
        self._set_running(False)
        if self.result is None:
            if self.session is not None and not self.session.finished:
                self._say(self.status, "视频已结束，未完成认证")
            source_gone = getattr(self.source, "ended", False) or getattr(self.source, "error", None) is not None
            if source_gone and self.camera_ok:  # the check ended because the camera did: say so first
                self._set_camera_ok(False)
            self.check_aborted.emit()

    @Slot(object)
    def _on_event(self, ev) -> None:
        if isinstance(ev, Prompt):
            self._say(self.prompt, ev.text_zh)
            if self.resident is not None:
                self.resident.show_prompt(ev.code, ev.text_zh)
        elif isinstance(ev, Progress):
            self.progress.setValue(int(ev.fraction * 100))
            issues = "、".join(REASON_ZH.get(i, getattr(i, "value", str(i))) for i in ev.issues)
            step = (f"动作 {ev.challenge_index + 1}/{ev.challenge_total}" if ev.phase.value == "challenge"
                    else PHASE_ZH.get(ev.phase.value, ev.phase.value))
            self._say(self.status, f"{step}  {issues}".strip())
            self._say(self.details, f"画面中人脸数：{ev.face_count}")
            if self.resident is not None:
                self.resident.set_progress(ev.fraction)
        elif isinstance(ev, FaceCheckResult):
            self._show_result(ev)

    def reset(self, hint: str = "") -> None:
        """Back to an empty panel for the next resident (nothing of the previous one stays);
        ``hint`` in the prompt line says what comes next."""
        if self._thread is not None:
            return
        self.result = None
        self.session = None
        for label in (self.status, self.result_label, self.details):
            self._say(label, "")
        self._say(self.prompt, hint)
        self.suggestions.clear()
        self.suggestions.hide()
        self.progress.setValue(0)
        if self.resident is not None:
            self.resident.set_progress(0.0)

    def _show_result(self, result: FaceCheckResult) -> None:
        self.result = result
        self._say(self.status, "")
        self._say(self.prompt, "")  # "认证动作已完成，请稍候" is over
        self._say(self.details, details_zh(result.evidence))
        if result.passed:
            self._say(self.result_label, "认证通过（活体检测通过）")
        else:
            t = result.triage
            self._say(self.result_label, f"未通过：{t.title_zh}\n{t.advice_zh}")
            for step in t.next_steps:
                item = QListWidgetItem(NEXT_STEP_ZH[step])
                item.setData(256, step.value)
                self.suggestions.addItem(item)
            self.suggestions.setVisible(self.suggestions.count() > 0)
        self.progress.setValue(100)
        self.check_finished.emit(result)
