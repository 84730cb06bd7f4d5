"""用摄像头扫描: a small dialog showing the camera preview while it looks for the QR code of a
returned assist form.

Threads: the frame source captures on its own thread (desktop.devices.cameras); a 30 Hz GUI timer
paints the newest frame and, when no decode is running, hands that frame to
:func:`desktop.formats.scan.decode_frame` on a one-worker pool of this dialog. Frames that arrive while a
decode is running are dropped (``frames_dropped``), never queued. The first read that is a
well-formed CertDesk form payload (``qrsign.parse_unverified``) is emitted as
``payload_found(text, frame)`` and closes the dialog; the signature is checked by the page
(FormService.check). Other QR codes are ignored with a hint. The camera is opened off the GUI
thread (a webcam can take seconds) and stopped when the dialog closes.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from desktop.formats import qrsign
from ui.resident_screen import bgr_to_qimage
from ui.workers import device_pool, run_in_background

PREVIEW_HZ = 30


def camera_factory_for(station, demo: bool) -> Callable[[], Any]:
    """A factory of STARTED frame sources from the station settings (the counter's camera):
    the USB webcam, or the simulated camera in demo mode / when configured (demo/test only)."""

    def factory():
        from desktop.devices.cameras import SimulatedCamera, WebcamSource

        if demo or station.get("camera_kind") == "simulated":
            return SimulatedCamera().start()
        return WebcamSource(station.get("camera_index"), width=1280, height=720).start()

    return factory


def _default_decode(image: np.ndarray):
    from desktop.formats.scan import decode_frame

    return decode_frame(image)


class QrCameraDialog(QDialog):
    payload_found = Signal(str, object)  # (payload text, BGR frame it was read from)
    camera_failed = Signal(str)

    def __init__(self, camera_factory: Callable[[], Any], parent=None, *,
                 decode: Callable[[np.ndarray], list] | None = None, preview_hz: int = PREVIEW_HZ):
        super().__init__(parent)
        self.camera_factory = camera_factory
        self.decode = decode or _default_decode
        self.source = None
        self.payload: str | None = None
        self.frame: np.ndarray | None = None
        self._busy = False
        self._closing = False
        self._closed = threading.Event()
        self._opened = None  # the source, as soon as the worker has opened it
        self._last_painted = 0
        self._last_decoded = 0
        self.frames_painted = 0
        self.frames_decoded = 0
        self.frames_dropped = 0
        self.foreign_codes = 0
        self._pool = device_pool()  # opening the camera and decoding: the named devices pool (ui.workers)

        self.setWindowTitle("用摄像头扫描认证表二维码")
        self.resize(680, 560)
        self.preview = QLabel("正在打开摄像头…", self)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(480, 360)
        self.preview.setStyleSheet("background: #222; color: #ddd;")
        self.status = QLabel("请将认证表右上角的二维码对准摄像头，保持稳定", self)
        self.status.setWordWrap(True)
        close = QPushButton("关闭 (Esc)", self)
        close.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.preview, 1)
        layout.addLayout(row)

        self._timer = QTimer(self)
        self._timer.setInterval(max(1, 1000 // preview_hz))
        self._timer.timeout.connect(self._tick)
        run_in_background(self._open_camera, self._camera_ready, self._camera_error, owner=self, pool=self._pool)

    def _open_camera(self):  # worker thread
        source = self.camera_factory()
        self._opened = source
        if self._closed.is_set():  # closed while the camera was opening
            source.stop()
        return source

    # -- camera
    def _camera_ready(self, source) -> None:
        if self._closing:
            source.stop()
            return
        self.source = source
        self._timer.start()

    def _camera_error(self, exc: BaseException) -> None:
        msg = getattr(exc, "message_zh", None) or str(exc) or "无法打开摄像头"
        self.preview.setText(f"摄像头不可用：{msg}")
        self.status.setText("可改用“选择扫描件”或手工输入表格编号")
        self.camera_failed.emit(msg)

    # -- GUI thread: paint the newest frame, start a decode when none is running
    def _tick(self) -> None:
        src = self.source
        if src is None:
            return
        frame = src.latest()
        if frame is None:
            if getattr(src, "error", None) is not None:
                self._timer.stop()
                self._camera_error(src.error)
            return
        if frame.index != self._last_painted:
            skipped = frame.index - self._last_painted - 1
            self._last_painted = frame.index
            self.frames_painted += 1
            self.preview.setPixmap(QPixmap.fromImage(bgr_to_qimage(frame.image)).scaled(
                self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
            if self._busy:
                self.frames_dropped += 1 + max(0, skipped)
                return
            self.frames_dropped += max(0, skipped)
        if self._busy or frame.index == self._last_decoded or self.payload is not None:
            return
        self._busy = True
        self._last_decoded = frame.index
        image, decode = frame.image, self.decode
        run_in_background(lambda: decode(image), lambda reads: self._decoded(reads, image), self._decode_failed,
                          owner=self, pool=self._pool)

    def _decoded(self, reads, image: np.ndarray) -> None:
        self._busy = False
        self.frames_decoded += 1
        if self.payload is not None or self._closing:
            return
        for r in reads or ():
            text = getattr(r, "text", r)
            if qrsign.parse_unverified(text) is not None:
                self.payload, self.frame = text, image
                self.status.setText("已读取二维码")
                self.payload_found.emit(text, image)
                self.accept()
                return
        if reads:
            self.foreign_codes += 1
            self.status.setText("读到的二维码不是本系统的认证表，请对准认证表右上角的二维码")

    def _decode_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.frames_decoded += 1

    # -- closing: stop the timer and the camera, let a running decode finish
    def done(self, result: int) -> None:
        self._shutdown()
        super().done(result)

    def closeEvent(self, event) -> None:
        self._shutdown()
        super().closeEvent(event)

    def _shutdown(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._closed.set()
        self._timer.stop()
        self._pool.waitForDone(5000)  # the running decode finishes (the pool's other jobs are short device calls)
        for src in {id(s): s for s in (self.source, self._opened) if s is not None}.values():
            src.stop()
        self.source = None
