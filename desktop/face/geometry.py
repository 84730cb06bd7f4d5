"""Pure landmark geometry on dlib's 68 points (numpy arrays of shape (68, 2), image coordinates).

EAR (eye aspect ratio), MAR (mouth aspect ratio), head yaw from ``cv2.solvePnP`` against a generic
3-D face, and a 2-D parallax measure (the nose against the jaw line) that a flat print cannot fake
well: rotating a photo changes the apparent yaw, but the nose stays where it is on the paper.
"""

from __future__ import annotations

import math

import numpy as np

LEFT_EYE = slice(36, 42)    # image-left eye (the resident's right eye)
RIGHT_EYE = slice(42, 48)
JAW_LEFT, JAW_RIGHT, CHIN, NOSE_TIP = 0, 16, 8, 30

# Generic 3-D face (mm-ish, nose tip at the origin, y up) for the six usual PnP points.
_MODEL_3D = np.array([
    (0.0, 0.0, 0.0),          # 30 nose tip
    (0.0, -330.0, -65.0),     # 8 chin
    (-225.0, 170.0, -135.0),  # 36 outer corner of the image-left eye
    (225.0, 170.0, -135.0),   # 45 outer corner of the image-right eye
    (-150.0, -150.0, -125.0), # 48 mouth corner
    (150.0, -150.0, -125.0),  # 54 mouth corner
], dtype=np.float64)
_PNP_INDEX = [30, 8, 36, 45, 48, 54]


def as_points(landmarks) -> np.ndarray:
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (68, 2):
        raise ValueError(f"expected 68x2 landmarks, got {pts.shape}")
    return pts


def _eye_ar(eye: np.ndarray) -> float:
    a = np.linalg.norm(eye[1] - eye[5])
    b = np.linalg.norm(eye[2] - eye[4])
    c = np.linalg.norm(eye[0] - eye[3])
    return float((a + b) / (2.0 * c)) if c > 1e-6 else 0.0


def eye_aspect_ratio(landmarks) -> float:
    """Mean EAR of both eyes (Soukupová & Čech 2016); ~0.18-0.43 open, lower when closed."""
    pts = as_points(landmarks)
    return (_eye_ar(pts[LEFT_EYE]) + _eye_ar(pts[RIGHT_EYE])) / 2.0


def mouth_aspect_ratio(landmarks) -> float:
    """Inner-lip opening over mouth width: ~0 closed, > 0.3 clearly open."""
    pts = as_points(landmarks)
    vertical = (np.linalg.norm(pts[61] - pts[67]) + np.linalg.norm(pts[62] - pts[66])
                + np.linalg.norm(pts[63] - pts[65])) / 3.0
    width = np.linalg.norm(pts[60] - pts[64])
    return float(vertical / width) if width > 1e-6 else 0.0


def head_yaw(landmarks, frame_size: tuple[int, int]) -> float:
    """Yaw in degrees from solvePnP; positive when the nose points towards image-right.

    For an un-mirrored camera, image-right is the resident's left.
    """
    import cv2

    pts = as_points(landmarks)
    width, height = frame_size
    focal = float(max(width, height))
    camera = np.array([[focal, 0, width / 2.0], [0, focal, height / 2.0], [0, 0, 1]], dtype=np.float64)
    image_pts = pts[_PNP_INDEX].astype(np.float64).copy()
    # Camera axes: x right, y down, z away from the camera. The model has y up and the face
    # looking along +z, so turn it 180 deg about x (a proper rotation, not a mirror).
    model = _MODEL_3D * np.array([1.0, -1.0, -1.0])
    ok, rvec, _tvec = cv2.solvePnP(model, image_pts, camera, np.zeros(4), flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return 0.0
    rot, _ = cv2.Rodrigues(rvec)
    forward = rot @ np.array([0.0, 0.0, -1.0])  # where the face looks, in camera coordinates
    return float(math.degrees(math.atan2(forward[0], -forward[2])))


def nose_parallax(landmarks) -> float:
    """Where the nose tip sits between the two ends of the jaw line: 0.5 frontal.

    > 0.5 when the nose moves towards image-right. A real head turn of ~20 deg moves it by ~0.1-0.2;
    a flat photo tilted by the same apparent yaw moves it much less.
    """
    pts = as_points(landmarks)
    left, right = pts[JAW_LEFT], pts[JAW_RIGHT]
    axis = right - left
    length2 = float(axis @ axis)
    if length2 < 1e-6:
        return 0.5
    return float((pts[NOSE_TIP] - left) @ axis / length2)


def face_height(landmarks) -> float:
    pts = as_points(landmarks)
    return float(np.linalg.norm(pts[CHIN] - (pts[19] + pts[24]) / 2.0))
