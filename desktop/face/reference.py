"""Reference encodings from still photos (chip photo 102x126, an enrolled photo) and the CLI compare."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop.errors import UserFacingError
from desktop.face.compare import Decision, decide, face_distance
from desktop.face.detect import FaceEngine, to_rgb
from desktop.face.settings import FaceSettings


class FaceImageError(UserFacingError):
    """A still image cannot be used: ``code`` is no_face / multiple_faces / unreadable_image."""


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as BGR uint8 (JPEG, PNG incl. 32-bit, BMP). Paths may hold Chinese."""
    import cv2

    data = np.fromfile(str(path), dtype=np.uint8)  # cv2.imread cannot open non-ASCII paths on Windows
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise FaceImageError(f"无法读取图像：{Path(path).name}", code="unreadable_image", file=str(path))
    return img


def decode_image(data: bytes) -> np.ndarray:
    import cv2

    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise FaceImageError("无法解码图像", code="unreadable_image")
    return img


def encode_single_face(engine: FaceEngine, image_bgr: np.ndarray, *, name: str = "") -> np.ndarray:
    """The 128-d encoding of the one face in a still image, or FaceImageError naming the problem."""
    rgb = to_rgb(image_bgr)
    boxes = engine.find_faces(rgb)
    label = f"（{name}）" if name else ""
    if not boxes:
        raise FaceImageError(f"图像中没有检测到人脸{label}", code="no_face", file=name)
    if len(boxes) > 1:
        raise FaceImageError(f"图像中有 {len(boxes)} 张人脸{label}，请使用单人照片", code="multiple_faces",
                             file=name, faces=len(boxes))
    return engine.encode_rgb(rgb, boxes[0])


@dataclass(frozen=True)
class Comparison:
    distance: float
    decision: Decision


def compare_images(engine: FaceEngine, image_a: np.ndarray, image_b: np.ndarray,
                   settings: FaceSettings = FaceSettings(), *, names: tuple[str, str] = ("", "")) -> Comparison:
    a = encode_single_face(engine, image_a, name=names[0])
    b = encode_single_face(engine, image_b, name=names[1])
    d = face_distance(a, b)
    return Comparison(d, decide(d, settings))
