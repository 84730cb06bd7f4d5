"""Three-band decision on the 128-d distance: match / clerk review / no match."""

from __future__ import annotations

from enum import Enum
from statistics import median
from typing import Iterable, Sequence

import numpy as np

from desktop.face.settings import FaceSettings


class Decision(str, Enum):
    MATCH = "match"
    REVIEW = "review"
    NO_MATCH = "no_match"


def face_distance(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def decide(distance: float, settings: FaceSettings = FaceSettings()) -> Decision:
    if distance <= settings.accept_threshold:
        return Decision.MATCH
    if distance <= settings.reject_threshold:
        return Decision.REVIEW
    return Decision.NO_MATCH


def median_distance(live_encodings: Iterable[Sequence[float]], reference) -> tuple[float, tuple[float, ...]]:
    """Median (and all) distances of a few live frames to the reference encoding."""
    distances = tuple(face_distance(e, reference) for e in live_encodings)
    if not distances:
        raise ValueError("no live encodings")
    return float(median(distances)), distances
