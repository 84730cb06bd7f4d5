"""Detection, tracking, landmarks, quality gates and encodings on BGR uint8 frames (OpenCV order).

Costs on one core (docs/face.md): HOG detection on a 320x240 downscale ~9 ms, 68 landmarks ~1 ms,
one 128-d encoding ~110 ms. So every frame is *tracked* on a small copy (near the previous box),
and only a few chosen frames are *encoded*. Nothing here may run on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from desktop.face.geometry import eye_aspect_ratio
from desktop.face.models import load_face_recognition
from desktop.face.settings import FaceSettings
from desktop.face.triage import Reason


@dataclass(frozen=True)
class Box:
    """Face rectangle in full-frame pixels."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def scaled(self, factor: float) -> "Box":
        return Box(*(int(round(v * factor)) for v in (self.left, self.top, self.right, self.bottom)))

    def clipped(self, width: int, height: int) -> "Box":
        return Box(max(0, self.left), max(0, self.top), min(width, self.right), min(height, self.bottom))


@dataclass(frozen=True)
class Quality:
    face_px: int
    sharpness: float
    brightness: float
    ear: float


@dataclass(frozen=True)
class Observation:
    """What one frame showed. ``issues`` is empty when the frame passes every quality gate."""

    face_count: int
    box: Box | None = None
    landmarks: np.ndarray | None = field(default=None, repr=False, compare=False)
    quality: Quality | None = None
    issues: tuple[Reason, ...] = ()
    frame_size: tuple[int, int] = (0, 0)   # (width, height)

    @property
    def good(self) -> bool:
        return self.face_count == 1 and not self.issues


def to_rgb(frame_bgr: np.ndarray) -> np.ndarray:
    """BGR/BGRA/grey uint8 -> contiguous RGB uint8 (dlib wants RGB)."""
    import cv2

    img = np.asarray(frame_bgr)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    return np.ascontiguousarray(img[:, :, ::-1])


class FaceEngine:
    """Thin wrapper over face_recognition's dlib models (loaded lazily, once per process)."""

    def __init__(self, loader: Callable = load_face_recognition, *, encoder=None):
        """``encoder``: a :class:`desktop.face.encoder.ProcessEncoder` to run the ResNet off this
        process (the GUI keeps painting while it works); None encodes in-process."""
        self._loader = loader
        self._fr = None
        self.encoder = encoder

    @property
    def fr(self):
        if self._fr is None:
            self._fr = self._loader()
        return self._fr

    def warm_up(self) -> None:
        _ = self.fr

    def detect_rgb(self, rgb: np.ndarray, upsample: int = 0) -> list[Box]:
        rects = self.fr.api.face_detector(rgb, upsample)
        h, w = rgb.shape[:2]
        return [Box(r.left(), r.top(), r.right(), r.bottom()).clipped(w, h) for r in rects]

    def landmarks_rgb(self, rgb: np.ndarray, box: Box) -> np.ndarray:
        import dlib

        shape = self.fr.api.pose_predictor_68_point(rgb, dlib.rectangle(box.left, box.top, box.right, box.bottom))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    def encode_rgb(self, rgb: np.ndarray, box: Box) -> np.ndarray:
        if self.encoder is not None:
            import dlib

            from desktop.face.encoder import CHIP_PADDING, CHIP_SIZE, EncoderUnavailable

            # the same 68-point landmarks and chip alignment compute_face_descriptor(img, shape) uses
            shape = self.fr.api.pose_predictor_68_point(rgb, dlib.rectangle(box.left, box.top, box.right, box.bottom))
            chip = dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
            try:
                return self.encoder.encode_chip(chip)
            except EncoderUnavailable as exc:
                import logging

                logging.getLogger(__name__).warning("encoding in-process: %s", exc)
                self.encoder = None
        # face_recognition's (top, right, bottom, left) order; 68-point ("large") model as the library default
        enc = self.fr.face_encodings(rgb, [(box.top, box.right, box.bottom, box.left)], num_jitters=1, model="large")
        return np.asarray(enc[0], dtype=np.float64)

    def find_faces(self, rgb: np.ndarray) -> list[Box]:
        """All faces of a still image (reference photo, CLI). Small images get upsampled."""
        h, w = rgb.shape[:2]
        upsample = 2 if max(h, w) < 200 else 1
        return self.detect_rgb(rgb, upsample)


def measure_quality(rgb: np.ndarray, box: Box, landmarks: np.ndarray) -> Quality:
    import cv2

    h, w = rgb.shape[:2]
    b = box.clipped(w, h)
    crop = rgb[b.top:b.bottom, b.left:b.right]
    if crop.size == 0:
        return Quality(b.height, 0.0, 0.0, 0.0)
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    scale = 128.0 / max(1, grey.shape[1])
    grey = cv2.resize(grey, (128, max(1, int(round(grey.shape[0] * scale)))), interpolation=cv2.INTER_AREA)
    sharp = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    return Quality(b.height, sharp, float(grey.mean()), eye_aspect_ratio(landmarks))


def quality_issues(q: Quality, settings: FaceSettings) -> tuple[Reason, ...]:
    issues = []
    if q.face_px < settings.min_face_px:
        issues.append(Reason.FACE_TOO_SMALL)
    if q.brightness < settings.min_brightness:
        issues.append(Reason.TOO_DARK)
    elif q.brightness > settings.max_brightness:
        issues.append(Reason.TOO_BRIGHT)
    if q.sharpness < settings.min_sharpness:
        issues.append(Reason.BLURRY)
    if q.ear < settings.min_eye_open_ear:
        issues.append(Reason.EYES_CLOSED)
    return tuple(issues)


class FaceTracker:
    """Per-frame face tracking on a downscaled copy; not thread-safe (one per session/worker).

    A full-frame detection (which also counts faces) runs on the first frame, after a loss and
    every ``full_detect_every`` frames; in between only a region around the previous box is searched.
    """

    def __init__(self, engine: FaceEngine, settings: FaceSettings = FaceSettings()):
        self.engine = engine
        self.settings = settings
        self._prev: Box | None = None
        self._since_full = 0
        self._last_count = 0

    def reset(self) -> None:
        self._prev, self._since_full, self._last_count = None, 0, 0

    def _small(self, rgb: np.ndarray) -> tuple[np.ndarray, float]:
        import cv2

        h, w = rgb.shape[:2]
        if w <= self.settings.tracking_width:
            return rgb, 1.0
        f = self.settings.tracking_width / float(w)
        return cv2.resize(rgb, (self.settings.tracking_width, max(1, int(h * f))), interpolation=cv2.INTER_AREA), f

    def observe(self, frame_bgr: np.ndarray, *, check_quality: bool = True) -> Observation:
        rgb = to_rgb(frame_bgr)
        h, w = rgb.shape[:2]
        small, f = self._small(rgb)
        sh, sw = small.shape[:2]
        boxes: list[Box] = []
        count = 0
        full = self._prev is None or self._since_full >= self.settings.full_detect_every
        if not full:
            p = self._prev.scaled(f)
            mx, my = p.width // 2, p.height // 2
            roi = Box(p.left - mx, p.top - my, p.right + mx, p.bottom + my).clipped(sw, sh)
            found = self.engine.detect_rgb(np.ascontiguousarray(small[roi.top:roi.bottom, roi.left:roi.right]), 0)
            if len(found) == 1:
                b = found[0]
                boxes = [Box(b.left + roi.left, b.top + roi.top, b.right + roi.left, b.bottom + roi.top)]
                count = max(1, self._last_count)  # other faces are re-counted at the next full pass
                self._since_full += 1
            else:
                full = True
        if full:
            boxes = self.engine.detect_rgb(small, 0)
            if not boxes and f < 1.0:
                boxes = self.engine.detect_rgb(small, 1)  # small or distant face: one upsample
            count = len(boxes)
            self._since_full = 0
        self._last_count = count
        if count == 0:
            self._prev = None
            return Observation(0, issues=(Reason.NO_FACE,), frame_size=(w, h))
        if count > 1:
            self._prev = None
            return Observation(count, issues=(Reason.MULTIPLE_FACES,), frame_size=(w, h))
        box = boxes[0].scaled(1.0 / f).clipped(w, h)
        self._prev = box
        landmarks = self.engine.landmarks_rgb(rgb, box)
        quality = measure_quality(rgb, box, landmarks)
        issues = quality_issues(quality, self.settings) if check_quality else ()
        return Observation(1, box, landmarks, quality, issues, (w, h))
