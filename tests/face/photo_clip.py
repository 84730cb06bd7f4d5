"""Camera clips built from one real still photo: a *live* blink and mouth opening (docs/face.md,
"frame sequences built from a still photo (warped, eyes masked) played through a fake camera").

The eyes and mouth are found with the real engine's 68 landmarks. A blink is drawn by covering the
eye, from its upper lid down to a lid line that slides towards the lower lid, with eyelid skin:
the eye is inpainted from the skin around it, the result is shaded a little towards the skin colour
sampled just below the eye, and a soft lash line marks the lid's edge. An open mouth is drawn by
moving the lower lip and chin down with ``cv2.remap`` and painting the gap between the lips dark.
Every frame also gets a little natural motion (sub-pixel sway, brightness drift, sensor noise) from
a seeded generator, so no two frames are equal (the session's replay checks stay quiet) and the
clip is the same on every run. Frames stay in memory; nothing is written or logged.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FRAME_W, FRAME_H = 640, 480

EYES = {"left": range(36, 42), "right": range(42, 48)}


def frame_photo(engine, img: np.ndarray, face_px: int = 190, width: int = FRAME_W, height: int = FRAME_H) -> np.ndarray:
    """A 640x480 "webcam" view of the photo: the face ~``face_px`` tall (a resident at the counter),
    centred a little above the middle; the photo's own border pixels fill any gap."""
    from desktop.face.detect import to_rgb

    boxes = engine.find_faces(to_rgb(img))
    if len(boxes) != 1:
        raise ValueError(f"expected one face in the photo, found {len(boxes)}")
    b = boxes[0]
    s = face_px / float(b.height)
    cx, cy = (b.left + b.right) / 2.0, (b.top + b.bottom) / 2.0
    m = np.float32([[s, 0, width / 2.0 - s * cx], [0, s, height * 0.45 - s * cy]])
    return cv2.warpAffine(img, m, (width, height), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)


def find_landmarks(engine, frame_bgr: np.ndarray) -> np.ndarray:
    """The 68 landmarks of the single face in the frame, from the real engine."""
    from desktop.face.detect import to_rgb

    rgb = to_rgb(frame_bgr)
    boxes = engine.find_faces(rgb)
    if len(boxes) != 1:
        raise ValueError(f"expected one face in the photo, found {len(boxes)}")
    return engine.landmarks_rgb(rgb, boxes[0])


def _feather(mask: np.ndarray, px: float) -> np.ndarray:
    k = max(3, int(px * 2) | 1)
    return cv2.GaussianBlur(mask.astype(np.float32), (k, k), px / 2)[..., None]


@dataclass
class FaceRenderer:
    """Draws eyelids and an open mouth on one photo (BGR canvas + its landmarks)."""

    base: np.ndarray
    landmarks: np.ndarray

    def __post_init__(self):
        self.base = np.ascontiguousarray(self.base)
        pts = self.landmarks
        self.eye_w = float(np.mean([np.linalg.norm(pts[39] - pts[36]), np.linalg.norm(pts[45] - pts[42])]))
        # eyelid skin: the whole eye region inpainted from the skin around it (one texture per photo)
        mask = np.zeros(self.base.shape[:2], np.uint8)
        for idx in EYES.values():
            hull = cv2.convexHull(self._eye_outline(idx, grow=0.22).astype(np.int32))
            cv2.fillConvexPoly(mask, hull, 255)
        self._eye_mask = mask
        lid = cv2.inpaint(self.base, mask, max(3, int(self.eye_w * 0.25)), cv2.INPAINT_TELEA)
        skin = self._skin_colour()
        self.lid_skin = (0.55 * lid.astype(np.float32) + 0.45 * skin).astype(np.float32)
        self.skin = skin

    # -- geometry ------------------------------------------------------------------------------
    def _eye_outline(self, idx, grow: float) -> np.ndarray:
        pts = self.landmarks[list(idx)]
        c = pts.mean(axis=0)
        out = c + (pts - c) * (1.0 + grow)
        # the upper lid with its lashes sits a little higher than the landmark line
        out[1:3, 1] -= grow * self.eye_w * 0.25
        return out

    def _skin_colour(self) -> np.ndarray:
        """Median colour of the cheek just below both eyes (no lashes, brows or glasses rims)."""
        pts = self.landmarks
        samples = []
        for low in ((41, 40), (47, 46)):
            p = pts[list(low)].mean(axis=0)
            y0, y1 = int(p[1] + 0.35 * self.eye_w), int(p[1] + 0.75 * self.eye_w)
            x0, x1 = int(p[0] - 0.3 * self.eye_w), int(p[0] + 0.3 * self.eye_w)
            patch = self.base[max(0, y0):y1, max(0, x0):x1].reshape(-1, 3)
            if patch.size:
                samples.append(patch)
        return np.median(np.concatenate(samples), axis=0).astype(np.float32)

    # -- drawing -------------------------------------------------------------------------------
    def _draw_eyelids(self, img: np.ndarray, closed: float) -> np.ndarray:
        """Cover each eye with lid skin from above its lashes down to a lid edge ``closed`` of the
        way to the lower lid; a soft lash line marks the edge."""
        pts = self.landmarks
        cover = np.zeros(img.shape[:2], np.uint8)
        lash = np.zeros(img.shape[:2], np.uint8)
        for first in (36, 42):
            idx = range(first, first + 6)
            outline = self._eye_outline(idx, grow=0.22)
            corner_out, corner_in = pts[first], pts[first + 3]
            up = pts[[first + 1, first + 2]]
            low = pts[[first + 5, first + 4]]
            lid = up + (low - up) * closed * self.reach
            edge = np.vstack([corner_out, lid, corner_in])
            poly = np.vstack([outline[0:4], edge[::-1]])
            cv2.fillPoly(cover, [np.round(poly * 8).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=3)
            thick = max(1, int(round(self.eye_w * self.lash_w)))
            cv2.polylines(lash, [np.round(edge * 8).astype(np.int32)], False, 255, thick, cv2.LINE_AA, shift=3)
        alpha = _feather(cover / 255.0, max(1.0, self.eye_w * 0.06))
        out = img.astype(np.float32) * (1 - alpha) + self.lid_skin * alpha
        lash_a = _feather(lash / 255.0, 1.0) * self.lash_dark * min(1.0, closed * 2)
        return out * (1 - lash_a) + (self.skin * 0.3) * lash_a

    reach = 0.9        # a shut lid stops just short of the lower lid landmarks
    lash_w = 0.08      # lash line thickness, in eye widths
    lash_dark = 0.8    # how dark the lash line is drawn

    def _open_mouth(self, img: np.ndarray, amount: float) -> np.ndarray:
        """Lower lip and chin move down by ``amount`` x 35 % of nose-to-chin; the gap is the dark mouth."""
        pts = self.landmarks
        drop = amount * 0.35 * (pts[8, 1] - pts[33, 1])
        if drop < 0.5:
            return img
        h, w = img.shape[:2]
        lip_y = float(pts[[61, 62, 63, 65, 66, 67], 1].mean())    # the line between the lips
        chin_y = float(pts[8, 1])
        left, right = float(pts[4, 0]), float(pts[12, 0])           # the jaw that opens
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        # vertical profile: 0 above the lips, 1 from the lower lip down to the chin, fading below it
        prof = np.clip((ys - lip_y) / max(1.0, drop), 0, 1)
        fade = np.clip(1 - (ys - chin_y) / (0.35 * (chin_y - lip_y) + drop), 0, 1)
        prof = np.where(ys > chin_y, fade, prof)
        cx, half = (left + right) / 2, (right - left) / 2
        horiz = np.clip(1.2 - np.abs(xs - cx) / half, 0, 1)       # the jaw moves, the cheeks less
        map_y = ys - drop * prof * np.minimum(horiz, 1.0)
        out = cv2.remap(img, xs, map_y.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # the gap: inner upper lip (60..64) over the moved inner lower lip (64..60)
        upper = pts[[60, 61, 62, 63, 64]]
        lower = pts[[64, 65, 66, 67, 60]].copy()
        lower[1:4, 1] += drop
        poly = np.vstack([upper, lower[1:4]])
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.round(poly * 8).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=3)
        a = _feather(mask / 255.0, 1.5)
        inside = np.array([35, 30, 60], np.float32)                 # dark red-brown (BGR)
        return out.astype(np.float32) * (1 - a) + inside * a

    def render(self, *, closed: float = 0.0, mouth: float = 0.0) -> np.ndarray:
        img = self.base
        if mouth > 0:
            img = np.clip(self._open_mouth(img, mouth), 0, 255).astype(np.uint8)
        out = img.astype(np.float32)
        if closed > 0:
            out = self._draw_eyelids(img, closed)
        return np.clip(out, 0, 255).astype(np.uint8)


def _ramp(n: int) -> list[float]:
    return [float(np.sin(np.pi / 2 * (i + 1) / (n + 1))) for i in range(n)]


def action_poses(challenges, *, lead: int = 15, blink: bool = True, mouth: bool = True,
                 mouth_peak: float = 0.7) -> list[dict]:
    """Per-frame poses: open-eyed baseline, then each challenge after a pause (the prompt), then rest.

    A blink: 3 frames closing, 2 closed, 3 opening. An open mouth: 4 opening, 3 open, 4 closing,
    the jaw dropping ``mouth_peak`` x 35 % of nose-to-chin.
    ``blink=False`` / ``mouth=False`` keep the pauses but leave that action out (a control clip).
    """
    from desktop.face.liveness import Challenge

    poses: list[dict] = [{}] * lead
    for ch in challenges:
        poses += [{}] * 8          # the prompt is heard; reaction time
        if ch is Challenge.BLINK:
            seq = _ramp(3) + [1.0, 1.0] + _ramp(3)[::-1]
            poses += [{"closed": x if blink else 0.0} for x in seq]
        elif ch is Challenge.OPEN_MOUTH:
            seq = _ramp(4) + [1.0] * 3 + _ramp(4)[::-1]
            poses += [{"mouth": mouth_peak * x if mouth else 0.0} for x in seq]
        else:
            raise ValueError(f"a still photo cannot render {ch}")
        poses += [{}] * 6
    poses += [{}] * 15             # hold still for the final frames
    return poses


def natural_motion(frames_or_renders, seed: int = 7) -> list[np.ndarray]:
    """Sub-pixel sway, a slow brightness drift and sensor noise; deterministic for a seed."""
    rng = np.random.default_rng(seed)
    out = []
    for i, img in enumerate(frames_or_renders):
        h, w = img.shape[:2]
        dx = 0.8 * np.sin(i / 5.0) + rng.normal(0, 0.15)
        dy = 0.5 * np.cos(i / 7.0) + rng.normal(0, 0.15)
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        moved = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        gain = 1.0 + 0.02 * np.sin(i / 9.0) + rng.normal(0, 0.004)
        noisy = moved.astype(np.float32) * gain + rng.normal(0, 1.5, moved.shape)
        out.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return out


def live_clip(renderer: FaceRenderer, challenges, *, seed: int = 7, blink: bool = True,
              mouth: bool = True, lead: int = 15, mouth_peak: float = 0.7) -> list[np.ndarray]:
    """The whole clip for ``challenges`` (blink / open mouth, in that order), natural motion added."""
    cache: dict = {}
    renders = []
    for pose in action_poses(challenges, lead=lead, blink=blink, mouth=mouth, mouth_peak=mouth_peak):
        key = (round(pose.get("closed", 0.0), 4), round(pose.get("mouth", 0.0), 4))
        if key not in cache:
            cache[key] = renderer.render(closed=key[0], mouth=key[1])
        renders.append(cache[key])
    return natural_motion(renders, seed)
