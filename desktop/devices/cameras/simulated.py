"""In-memory sources: ArraySource (tests, benchmarks) and SimulatedCamera (demo mode only).

Both refuse to run at a real counter: a replayed face must never certify anyone
(desktop.platform.runmode.require_simulation_allowed).
"""

from __future__ import annotations

import threading
from typing import Callable, Iterable, Sequence

import numpy as np

from desktop.devices.cameras.base import FrameSource
from desktop.platform.runmode import require_simulation_allowed


class ArraySource(FrameSource):
    """Plays a list (or a generator) of BGR images; ``pace_fps=None`` plays as fast as consumed."""

    name = "array source"

    def __init__(self, images: Sequence[np.ndarray] | Iterable[np.ndarray], *, pace_fps: float | None = 30.0,
                 loop: bool = False, **kw):
        require_simulation_allowed("ArraySource")
        super().__init__(loop=loop, **kw)
        self._images = images
        self._is_list = isinstance(images, (list, tuple))
        self._it = None
        self.pace_fps = pace_fps

    def _open(self) -> None:
        self._it = iter(self._images)

    def _read(self):
        try:
            return next(self._it)
        except StopIteration:
            return None

    def _rewind(self) -> bool:
        if not self._is_list:
            return False
        self._it = iter(self._images)
        return True


class SimulatedCamera(FrameSource):
    """A demo camera: a still picture (e.g. an enrolled demo photo) with a little noise and sway,
    or a synthetic test card when none is given. Demo/test mode only.

    Training: :meth:`set_available` (False) stops the frames as an unplugged webcam does — the
    capture thread waits, no error — and (True) lets them flow again. Any thread."""

    name = "simulated camera"

    def __init__(self, image: np.ndarray | None = None, *, size: tuple[int, int] = (640, 480),
                 pace_fps: float = 30.0, noise: float = 2.0, seed: int = 0,
                 transform: Callable[[np.ndarray, int], np.ndarray] | None = None, **kw):
        require_simulation_allowed("SimulatedCamera")
        super().__init__(**kw)
        self.pace_fps = pace_fps
        self.size = size
        self.noise = noise
        self.transform = transform
        self._rng = np.random.default_rng(seed)
        self._n = 0
        if image is None:
            w, h = size
            yy, xx = np.mgrid[0:h, 0:w]
            image = np.stack([(xx * 255 // max(1, w - 1)), (yy * 255 // max(1, h - 1)),
                              np.full_like(xx, 128)], axis=2).astype(np.uint8)
        self.image = self._fit(image)
        self._noise_bank = self._make_noise_bank()
        self._available = threading.Event()
        self._available.set()

    @property
    def available(self) -> bool:
        return self._available.is_set()

    def set_available(self, available: bool) -> None:
        if available:
            self._available.set()
        else:
            self._available.clear()

    _BANK_MARGIN = 64

    def _make_noise_bank(self):
        """Sensor noise drawn once: ``rng.normal`` on a 640x480x3 frame costs ~20 ms *with the GIL
        held*, which alone ate most of a core at 30 frames/s (bench_face.py). Each frame takes a
        random window of a slightly larger bank (two ``cv2`` calls, ~0.5 ms, GIL released)."""
        if not self.noise:
            return None
        h, w = self.image.shape[:2]
        m = self._BANK_MARGIN
        n = self._rng.normal(0.0, self.noise, (h + m, w + m, 3))
        pos = np.clip(n, 0, 255).astype(np.uint8)
        neg = np.clip(-n, 0, 255).astype(np.uint8)
        return pos, neg

    def _fit(self, image: np.ndarray) -> np.ndarray:
        import cv2

        w, h = self.size
        ih, iw = image.shape[:2]
        scale = min(w / iw, h / ih)
        resized = cv2.resize(image, (max(1, int(iw * scale)), max(1, int(ih * scale))))
        canvas = np.full((h, w, 3), 40, np.uint8)
        y0, x0 = (h - resized.shape[0]) // 2, (w - resized.shape[1]) // 2
        canvas[y0:y0 + resized.shape[0], x0:x0 + resized.shape[1]] = resized[:, :, :3]
        return canvas

    def _read(self):
        import cv2

        while not self._available.is_set():  # "unplugged": no frames, until plugged in or stopped
            if self._stop.wait(0.05):
                return None
        self._n += 1
        img = self.image
        if self.transform is not None:
            img = self.transform(img, self._n)
        else:
            dx = 3.0 * np.sin(self._n / 15.0)
            m = np.float32([[1, 0, dx], [0, 1, 0]])
            img = cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REPLICATE)
        if self._noise_bank is not None and img.shape == self.image.shape:
            pos, neg = self._noise_bank
            h, w = img.shape[:2]
            oy, ox = (int(v) for v in self._rng.integers(0, self._BANK_MARGIN, 2))
            img = cv2.subtract(cv2.add(img, pos[oy:oy + h, ox:ox + w]), neg[oy:oy + h, ox:ox + w])
        return img
