"""Recorded sources: a video file and a PNG (or JPEG) sequence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from desktop.devices.cameras.base import FrameSource, FrameSourceError


class VideoFileSource(FrameSource):
    name = "video file"

    def __init__(self, path: str | Path, *, pace_fps: float | None = None, loop: bool = False, **kw):
        super().__init__(loop=loop, **kw)
        self.path = Path(path)
        self._cap = None
        self._pace_override = pace_fps

    def _open(self) -> None:
        import cv2

        if not self.path.is_file():
            raise FrameSourceError("找不到视频文件", str(self.path))
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise FrameSourceError("无法打开视频文件", str(self.path))
        fps = self._cap.get(cv2.CAP_PROP_FPS) or 0.0
        self.file_fps = fps if 1.0 <= fps <= 120.0 else 15.0
        self.pace_fps = self._pace_override if self._pace_override is not None else self.file_fps

    def _read(self):
        ok, img = self._cap.read()
        return img if ok else None

    def _rewind(self) -> bool:
        import cv2

        return bool(self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0))

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class PngSequenceSource(FrameSource):
    """Images of a folder in name order (``*.png`` by default), or an explicit list of paths."""

    name = "image sequence"

    def __init__(self, folder_or_files, *, pattern: str = "*.png", pace_fps: float | None = 15.0,
                 loop: bool = False, **kw):
        super().__init__(loop=loop, **kw)
        if isinstance(folder_or_files, (str, Path)):
            self.files = sorted(Path(folder_or_files).glob(pattern))
        else:
            self.files = [Path(p) for p in folder_or_files]
        self.pace_fps = pace_fps
        self._pos = 0

    def _open(self) -> None:
        if not self.files:
            raise FrameSourceError("图像序列为空")
        self._pos = 0

    def _read(self):
        import cv2

        if self._pos >= len(self.files):
            return None
        path = self.files[self._pos]
        self._pos += 1
        img = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise FrameSourceError("无法读取图像", str(path))
        return img

    def _rewind(self) -> bool:
        self._pos = 0
        return True
