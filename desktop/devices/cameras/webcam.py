"""Webcam through cv2.VideoCapture (Windows: DirectShow; Linux: V4L2).

On Windows the Media Foundation back-end is slow to open and some drivers fail with hardware
transforms; docs/face.md: set OPENCV_VIDEOIO_MSMF_ENABLE_HW_TRANSFORMS=0 *before cv2 is imported*
(done at import of this module) or use CAP_DSHOW (the default here).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from desktop.devices.cameras.base import FrameSource, FrameSourceError

if sys.platform == "win32":
    os.environ.setdefault("OPENCV_VIDEOIO_MSMF_ENABLE_HW_TRANSFORMS", "0")


def _backend() -> int:
    import cv2

    if sys.platform == "win32":
        return cv2.CAP_DSHOW
    if sys.platform.startswith("linux"):
        return cv2.CAP_V4L2
    return cv2.CAP_ANY


def list_webcams(max_index: int = 4) -> list[dict]:
    """Camera indexes that open, with a name where the OS tells one (Linux sysfs)."""
    import cv2

    found = []
    for i in range(max_index):
        cap = cv2.VideoCapture(i, _backend())
        try:
            if cap.isOpened():
                found.append({"index": i, "name": _linux_name(i) or f"摄像头 {i}"})
        finally:
            cap.release()
    return found


def _linux_name(index: int) -> str | None:
    path = Path(f"/sys/class/video4linux/video{index}/name")
    try:
        return path.read_text().strip() if path.is_file() else None
    except OSError:
        return None


class WebcamSource(FrameSource):
    """``device``: an index (0, 1 …), a Linux path (/dev/video2), a Linux device name as shown by
    :func:`list_webcams`, or on Windows a DirectShow friendly name (``video=…``)."""

    name = "webcam"

    def __init__(self, device: int | str = 0, *, width: int = 640, height: int = 480, fps: int = 30, **kw):
        super().__init__(**kw)
        self.device = device
        self.width, self.height, self.fps = width, height, fps
        self._cap = None
        self._failures = 0

    def _resolve(self):
        if isinstance(self.device, int) or (isinstance(self.device, str) and self.device.isdigit()):
            return int(self.device)
        if sys.platform == "win32":
            return self.device if self.device.startswith("video=") else f"video={self.device}"
        if self.device.startswith("/dev/"):
            return self.device
        for cam in list_webcams(8):
            if cam["name"] == self.device:
                return cam["index"]
        raise FrameSourceError("找不到指定的摄像头", str(self.device))

    def _open(self) -> None:
        import cv2

        cap = cv2.VideoCapture(self._resolve(), _backend())
        if not cap.isOpened():
            cap.release()
            raise FrameSourceError("无法打开摄像头，请检查连接或是否被其他程序占用", str(self.device))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        cap.set(cv2.CAP_PROP_FPS, self.fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)   # newest frame, not a stale queue
        self._cap = cap

    def _read(self):
        ok, img = self._cap.read()
        if ok:
            self._failures = 0
            return img
        self._failures += 1
        if self._failures > 30:   # about a second of nothing: unplugged
            raise FrameSourceError("摄像头没有画面（可能已断开）", str(self.device))
        return self._read()

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
