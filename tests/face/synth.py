"""Synthetic 68-point landmark sequences for liveness tests (no camera, no models).

A frontal template (dlib landmarks of fr_obama/obama.jpg) gets a rough depth per point, so a
*live head* can be turned in 3-D (the nose moves against the jaw line), while a *printed photo*
is the same points on a plane tilted in perspective (its apparent yaw comes without parallax).
"""

from __future__ import annotations

import math

import numpy as np

_TEMPLATE = np.array([
    (293, 176), (295, 202), (298, 228), (303, 254), (311, 279), (326, 301),
    (345, 320), (366, 334), (391, 337), (416, 331), (437, 315), (456, 295),
    (471, 273), (478, 249), (482, 223), (484, 198), (484, 174), (314, 166),
    (325, 151), (342, 145), (360, 146), (379, 150), (407, 150), (424, 145),
    (442, 144), (459, 150), (469, 164), (392, 166), (392, 183), (393, 199),
    (393, 217), (368, 226), (380, 228), (392, 232), (404, 228), (416, 225),
    (336, 172), (346, 167), (357, 166), (367, 172), (356, 173), (346, 173),
    (418, 171), (428, 165), (439, 166), (449, 171), (439, 172), (428, 171),
    (343, 256), (359, 249), (378, 246), (392, 249), (406, 245), (423, 247),
    (439, 252), (425, 272), (407, 282), (392, 284), (377, 283), (359, 274),
    (348, 257), (378, 253), (392, 254), (406, 252), (434, 254), (406, 269),
    (392, 272), (378, 270)
], dtype=np.float64)

FRAME = (640, 480)


def _template() -> tuple[np.ndarray, np.ndarray]:
    pts = _TEMPLATE - _TEMPLATE.mean(axis=0)
    pts = pts + np.array([FRAME[0] / 2, FRAME[1] / 2])
    hw = (pts[16, 0] - pts[0, 0]) / 2.0
    cx = (pts[16, 0] + pts[0, 0]) / 2.0
    z = np.zeros(68)
    for i in range(17):                      # jaw line: far back at the sides, less at the chin
        r = (pts[i, 0] - cx) / hw
        z[i] = -hw * (-0.2 + 1.1 * r * r)
    z[17:27] = -0.05 * hw                    # brows
    z[27:31] = np.array([0.08, 0.16, 0.26, 0.38]) * hw  # nose bridge to tip
    z[31:36] = np.array([0.15, 0.2, 0.24, 0.2, 0.15]) * hw
    z[36:48] = 0.0                    # eyes
    z[48:68] = 0.05 * hw                     # mouth
    return pts, z


BASE, DEPTH = _template()


def face(yaw_deg: float = 0.0, blink: float = 0.0, mouth: float = 0.0, *, planar: bool = False,
         rng: np.random.Generator | None = None, jitter: float = 0.3) -> np.ndarray:
    """68x2 landmarks. blink/mouth in 0..1; planar = a flat print tilted by yaw_deg."""
    pts = BASE.copy()
    # blink: upper lids move towards the lower lids
    for up, low in ((37, 41), (38, 40), (43, 47), (44, 46)):
        pts[up] = pts[up] + (pts[low] - pts[up]) * 0.85 * blink
    # mouth: lower lip and chin drop
    drop = mouth * 0.35 * (pts[8, 1] - pts[33, 1])
    for i in (55, 56, 57, 58, 59, 65, 66, 67):
        pts[i, 1] += drop
    for i in range(5, 12):
        pts[i, 1] += drop * 0.6
    cx, cy = FRAME[0] / 2, FRAME[1] / 2
    th = math.radians(yaw_deg)
    x = pts[:, 0] - cx
    y = pts[:, 1] - cy
    z = np.zeros(68) if planar else DEPTH
    xr = x * math.cos(th) + z * math.sin(th)
    zr = -x * math.sin(th) + z * math.cos(th)
    dist = 3.0 * (BASE[16, 0] - BASE[0, 0])   # camera distance: about 3 face widths
    s = dist / (dist - zr)                     # perspective: nearer points look bigger
    out = np.stack([cx + xr * s, cy + y * s], axis=1)
    if rng is not None and jitter:
        out = out + rng.normal(0.0, jitter, out.shape)
    return out
