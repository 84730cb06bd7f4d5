"""Enrolment / re-enrolment: build a reference from a few good live frames, with recorded consent.

Persistence is not done here (the records service stores :class:`Enrolment`); this module only
defines the data and collects it. Without consent no reference is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from desktop.face.detect import FaceEngine, FaceTracker, to_rgb
from desktop.face.settings import FaceSettings


class ConsentMissing(ValueError):
    code = "consent_missing"
    message_zh = "未取得本人（或监护人）同意，不能采集人脸参考照片"


@dataclass(frozen=True)
class Consent:
    given: bool
    method: str                    # "signed_form" | "spoken_recorded" | "guardian_signed"
    clerk_id: str
    recorded_at: datetime
    by_guardian: bool = False
    note: str = ""


@dataclass(frozen=True)
class Enrolment:
    encoding: tuple[float, ...]    # 128-d mean of the frames (the new reference)
    frames_used: int
    spread: float                  # max distance of a frame to the mean: large = unstable capture
    consent: Consent
    created_at: datetime
    reason: str                    # "no_reference" | "reference_old" | "keeps_failing"
    image_png: bytes = field(default=b"", repr=False)   # the best frame, lossless; never log it


class EnrolmentCollector:
    """Feed frames (worker thread); :attr:`ready` once ``frames_needed`` good frames are encoded."""

    def __init__(self, engine: FaceEngine | None = None, settings: FaceSettings = FaceSettings(),
                 frames_needed: int = 3, min_gap: int = 3):
        self.engine = engine or FaceEngine()
        self.settings = settings
        self.tracker = FaceTracker(self.engine, settings)
        self.frames_needed = frames_needed
        self.min_gap = min_gap           # skip frames between encodings so they differ a little
        self._encodings: list[np.ndarray] = []
        self._best: tuple[float, np.ndarray] | None = None
        self._since = min_gap
        self.last_issues: tuple = ()

    @property
    def ready(self) -> bool:
        return len(self._encodings) >= self.frames_needed

    def add(self, frame: np.ndarray) -> bool:
        if self.ready:
            return True
        obs = self.tracker.observe(frame)
        self.last_issues = obs.issues
        self._since += 1
        if not obs.good or self._since < self.min_gap:
            return False
        self._since = 0
        self._encodings.append(self.engine.encode_rgb(to_rgb(frame), obs.box))
        if self._best is None or obs.quality.sharpness > self._best[0]:
            self._best = (obs.quality.sharpness, frame.copy())
        return self.ready

    def build(self, consent: Consent, reason: str = "no_reference") -> Enrolment:
        import cv2

        if not consent.given:
            raise ConsentMissing(ConsentMissing.message_zh)
        if not self.ready:
            raise ValueError("not enough good frames yet")
        stack = np.stack(self._encodings)
        mean = stack.mean(axis=0)
        spread = float(np.max(np.linalg.norm(stack - mean, axis=1)))
        ok, buf = cv2.imencode(".png", self._best[1])
        return Enrolment(tuple(float(v) for v in mean), len(self._encodings), spread, consent,
                         datetime.now(timezone.utc), reason, buf.tobytes() if ok else b"")
