"""Face-check settings: one frozen dataclass, defaults from docs/face.md.

The thresholds were measured on celebrity photos, not pensioners: recalibrate them on local data
(face matchers are known to be less accurate for older faces) and keep them in the settings store.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class FaceSettings:
    # -- decision bands on the 128-d distance (median of the live frames)
    accept_threshold: float = 0.50   # distance <= accept -> match
    reject_threshold: float = 0.60   # distance > reject -> no match; in between -> clerk review
    frames_to_encode: int = 3        # 3..5 live frames are encoded and compared (median)

    # -- tracking
    tracking_width: int = 320        # frames are downscaled to this width for HOG detection
    full_detect_every: int = 5       # full-frame detection (to count faces) every N tracked frames
    lost_after_s: float = 1.5        # no face for this long during the challenges -> start again

    # -- quality gates (measured on the full-resolution face crop)
    min_face_px: int = 80            # face box height in the full frame
    min_sharpness: float = 12.0      # variance of the Laplacian on a 128-px-wide grey crop
    min_brightness: float = 55.0     # mean grey level of the face crop
    max_brightness: float = 225.0
    min_eye_open_ear: float = 0.15   # absolute; open-eye EAR ranges 0.18-0.43 (docs/face.md)

    # -- liveness (relative to the person's own baseline)
    challenge_count: int = 2         # >= 2 of blink / mouth / left / right, order randomised
    baseline_frames: int = 5
    blink_ratio: float = 0.70        # EAR below 70 % of the open-eye baseline counts as closed
    mouth_open_delta: float = 0.25   # MAR above baseline + delta counts as open
    turn_yaw_deg: float = 18.0       # |yaw - baseline yaw| needed for a head turn
    turn_parallax: float = 0.10      # nose shift against the jaw line needed with a turn (flat print check)
    min_reaction_s: float = 0.25     # an action earlier than this after the prompt is not a response
    challenge_timeout_s: float = 20.0  # generous: elderly residents are slow to follow prompts
    reprompt_after_s: float = 6.0    # repeat the spoken prompt when nothing happens
    find_face_timeout_s: float = 30.0
    max_wrong_actions: int = 3       # e.g. a replayed clip doing the actions in another order

    def __post_init__(self):
        if not 0 < self.accept_threshold <= self.reject_threshold:
            raise ValueError("need 0 < accept_threshold <= reject_threshold")
        if not 1 <= self.frames_to_encode <= 9:
            raise ValueError("frames_to_encode must be 1..9")
        if self.challenge_count < 2:
            raise ValueError("liveness needs at least two challenges")

    def with_(self, **changes) -> "FaceSettings":
        return replace(self, **changes)

    @classmethod
    def from_mapping(cls, data: dict) -> "FaceSettings":
        """Build from a settings store; unknown keys are ignored (older/newer schema)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
