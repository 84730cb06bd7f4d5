"""The face the demo's simulated camera shows: drawn here, at run time, from a few ellipses — no
photograph of a real person, nothing read from outside the repository, nothing to licence.

The demo's face check is scripted (:class:`desktop.face.scripted.ScriptedFaceSession`), so the
picture only has to look like someone sitting at the counter; the real face tests use their own
fixtures (tests/face)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def demo_face(size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A BGR image (height × width × 3, uint8) of a drawn face in front of a counter's wall."""
    import cv2

    w, h = size
    img = np.empty((h, w, 3), np.uint8)
    img[:] = (214, 222, 228)  # a pale wall
    cx, cy = w // 2, int(h * 0.46)
    cv2.rectangle(img, (cx - 170, int(h * 0.82)), (cx + 170, h), (92, 74, 60), -1)  # shoulders, a dark coat
    cv2.ellipse(img, (cx, int(h * 0.84)), (175, 70), 0, 180, 360, (92, 74, 60), -1)
    cv2.rectangle(img, (cx - 38, int(h * 0.66)), (cx + 38, int(h * 0.8)), (150, 178, 214), -1)  # neck
    cv2.ellipse(img, (cx, cy), (112, 142), 0, 0, 360, (160, 190, 226), -1)  # face
    cv2.ellipse(img, (cx, cy - 58), (120, 96), 0, 180, 360, (62, 62, 70), -1)  # grey hair
    for dx in (-44, 44):
        cv2.ellipse(img, (cx + dx, cy - 6), (20, 9), 0, 0, 360, (245, 245, 245), -1)  # eyes
        cv2.circle(img, (cx + dx, cy - 6), 7, (48, 38, 30), -1)
        cv2.ellipse(img, (cx + dx, cy - 30), (26, 6), 0, 180, 360, (70, 70, 80), 3)  # brows
    cv2.line(img, (cx, cy + 2), (cx - 8, cy + 40), (120, 150, 190), 3)  # nose
    cv2.ellipse(img, (cx, cy + 66), (34, 12), 0, 0, 180, (96, 96, 170), 4)  # a smile
    for dx in (-112, 112):
        cv2.ellipse(img, (cx + dx, cy + 4), (12, 26), 0, 0, 360, (150, 180, 218), -1)  # ears
    return cv2.GaussianBlur(img, (5, 5), 0)
