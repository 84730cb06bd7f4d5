"""FrameSource: a capture thread that keeps the newest frame."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

log = logging.getLogger(__name__)


class FrameSourceError(RuntimeError):
    code = "camera_error"

    def __init__(self, message_zh: str, detail: str = ""):
        super().__init__(detail or message_zh)
        self.message_zh = message_zh


@dataclass(frozen=True)
class Frame:
    index: int                     # increases by one per captured frame
    timestamp: float               # time.monotonic() (or the source's clock) at capture
    image: np.ndarray = field(repr=False)   # BGR uint8, H x W x 3; treat as read-only

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]


class FrameSource:
    """Base class: subclasses implement :meth:`_open`, :meth:`_read` and :meth:`_close`.

    ``_read`` returns the next image or None at the end of the stream. ``pace_fps`` throttles
    sources that would otherwise run as fast as the disk (files, simulations); a webcam paces itself.
    Thread contract: start/stop/latest may be called from any thread; the capture runs on a daemon
    worker thread owned by the source.
    """

    name = "frame source"
    pace_fps: float | None = None

    def __init__(self, *, loop: bool = False, clock: Callable[[], float] = time.monotonic):
        self.loop = loop
        self.clock = clock
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._latest: Frame | None = None
        self._index = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.error: FrameSourceError | None = None
        self.ended = False
        self.fps_measured = 0.0

    # -- subclass hooks
    def _open(self) -> None: ...
    def _read(self) -> np.ndarray | None: raise NotImplementedError
    def _close(self) -> None: ...
    def _rewind(self) -> bool: return False

    # -- public API
    def start(self) -> "FrameSource":
        if self._thread is not None:
            return self
        self._stop.clear()
        self.ended = False
        self.error = None
        self._open()   # errors (no camera) surface to the caller synchronously
        self._thread = threading.Thread(target=self._run, name=f"capture:{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        with self._cond:
            self._cond.notify_all()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def latest(self) -> Frame | None:
        with self._lock:
            return self._latest

    def wait_next(self, after_index: int = 0, timeout: float = 1.0) -> Frame | None:
        """Block until a frame newer than ``after_index`` exists (or timeout / end)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._latest is None or self._latest.index <= after_index) and not self.ended:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    break
                self._cond.wait(remaining)
            f = self._latest
            return f if f is not None and f.index > after_index else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- the capture loop (worker thread)
    def _run(self) -> None:
        period = 1.0 / self.pace_fps if self.pace_fps else 0.0
        next_t = time.monotonic()
        window_start, window_count = time.monotonic(), 0
        try:
            while not self._stop.is_set():
                img = self._read()
                if img is None:
                    if self.loop and self._rewind():
                        continue
                    break
                self._index += 1
                frame = Frame(self._index, self.clock(), img)
                with self._cond:
                    self._latest = frame
                    self._cond.notify_all()
                window_count += 1
                now = time.monotonic()
                if now - window_start >= 1.0:
                    self.fps_measured = window_count / (now - window_start)
                    window_start, window_count = now, 0
                if period:
                    next_t += period
                    delay = next_t - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
                    else:
                        next_t = time.monotonic()
        except Exception as exc:  # report, never kill the app
            log.exception("capture failed: %s", self.name)
            self.error = FrameSourceError("摄像头读取失败", repr(exc))
        finally:
            try:
                self._close()
            finally:
                with self._cond:
                    self.ended = True
                    self._cond.notify_all()

    def frames(self):
        """Synchronous iteration without the thread (CLI, tests): yields every image once."""
        self._open()
        try:
            while True:
                img = self._read()
                if img is None:
                    return
                yield img
        finally:
            self._close()
