"""Liveness: a randomised challenge of >= 2 actions, measured against the person's own baseline.

Actions: blink (EAR), open mouth (MAR), turn left / right (yaw from solvePnP *and* a 2-D parallax
shift of the nose against the jaw line). docs/face.md: a printed photo tilted by 30-40 deg yields
|yaw| >= 20 deg in most trials, so (1) a turn also needs parallax, and (2) every challenge set
contains at least one of blink / open mouth, which no photo can do. A response only counts when it
starts at least ``min_reaction_s`` after its prompt, so a replayed clip has to hit a random order and
timing; actions nobody asked for (mouth, turns — not blinks, which are involuntary) are counted.

The checker works on landmark *samples* and an injectable clock, so it is testable with synthetic
landmark sequences and no camera.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum
from statistics import median
from typing import Callable, Sequence

import numpy as np

from desktop.face.geometry import eye_aspect_ratio, head_yaw, mouth_aspect_ratio, nose_parallax
from desktop.face.settings import FaceSettings
from desktop.face.triage import Reason


class Challenge(str, Enum):
    BLINK = "blink"
    OPEN_MOUTH = "open_mouth"
    TURN_LEFT = "turn_left"     # the resident's left
    TURN_RIGHT = "turn_right"


CHALLENGE_PROMPT_ZH = {
    Challenge.BLINK: "请眨一眨眼睛",
    Challenge.OPEN_MOUTH: "请张开嘴巴，然后合上",
    Challenge.TURN_LEFT: "请慢慢向左转头，然后转回来",
    Challenge.TURN_RIGHT: "请慢慢向右转头，然后转回来",
}

STILL_ACTIONS = (Challenge.BLINK, Challenge.OPEN_MOUTH)   # a photo cannot do these


def pick_challenges(rng: random.Random, count: int = 2, *, avoid: Sequence[Challenge] = ()) -> tuple[Challenge, ...]:
    """A random order of ``count`` distinct challenges, at least one of them blink or open mouth.

    ``avoid`` (e.g. the set that just failed) is left out when enough others remain.
    """
    count = max(2, min(count, len(Challenge)))
    pool = [c for c in Challenge if c not in avoid]
    if len(pool) < count or not any(c in STILL_ACTIONS for c in pool):
        pool = list(Challenge)
    while True:
        picked = tuple(rng.sample(pool, count))
        if any(c in STILL_ACTIONS for c in picked):
            return picked


@dataclass(frozen=True)
class Sample:
    """Landmark measurements of one frame."""

    t: float
    ear: float
    mar: float
    yaw: float          # degrees, + = nose towards image-right
    parallax: float     # 0.5 frontal, > 0.5 nose towards image-right

    @classmethod
    def from_landmarks(cls, t: float, landmarks, frame_size: tuple[int, int]) -> "Sample":
        pts = np.asarray(landmarks, dtype=np.float64)
        return cls(t, eye_aspect_ratio(pts), mouth_aspect_ratio(pts), head_yaw(pts, frame_size), nose_parallax(pts))


@dataclass(frozen=True)
class Baseline:
    ear: float
    mar: float
    yaw: float
    parallax: float

    @classmethod
    def from_samples(cls, samples: Sequence[Sample]) -> "Baseline":
        return cls(median(s.ear for s in samples), median(s.mar for s in samples),
                   median(s.yaw for s in samples), median(s.parallax for s in samples))


class Status(str, Enum):
    BASELINE = "baseline"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True)
class ChallengeOutcome:
    challenge: Challenge
    done: bool
    seconds: float


class LivenessChecker:
    """Feed samples with :meth:`update`; read :attr:`status`, :attr:`current`, :attr:`failure`.

    ``camera_mirrored``: set when the frame source already mirrors the picture (the resident's left
    is then image-left). Not thread-safe; one checker per attempt.
    """

    def __init__(self, challenges: Sequence[Challenge], settings: FaceSettings = FaceSettings(),
                 clock: Callable[[], float] | None = None, *, camera_mirrored: bool = False):
        if len(challenges) < 2 or not any(c in STILL_ACTIONS for c in challenges):
            raise ValueError("need >= 2 challenges including blink or open mouth")
        self.challenges = tuple(challenges)
        self.settings = settings
        self.clock = clock
        self._left_sign = -1.0 if camera_mirrored else 1.0
        self.status = Status.BASELINE
        self.baseline: Baseline | None = None
        self._baseline_samples: list[Sample] = []
        self.index = 0
        self.prompt_time = 0.0
        self.outcomes: list[ChallengeOutcome] = []
        self.failure: Reason | None = None
        self.wrong_actions = 0
        self.flat_hits = 0
        self._acting = False         # the requested action is under way (waiting for the return)
        self._need_neutral = False   # an early/unrequested action must end before a response counts
        self._stray: str | None = None
        self.replay_hits = 0
        self._signatures: list[bytes] = []
        self._windows: set[bytes] = set()

    # -- baseline -------------------------------------------------------------------------------
    def add_baseline(self, sample: Sample) -> bool:
        """Collect neutral frames (eyes open, facing the camera); True once the baseline is set."""
        if self.status is not Status.BASELINE:
            return True
        if sample.ear >= self.settings.min_eye_open_ear and abs(sample.yaw) <= 25.0:
            self._baseline_samples.append(sample)
        if len(self._baseline_samples) >= self.settings.baseline_frames:
            self.baseline = Baseline.from_samples(self._baseline_samples)
            self.status = Status.RUNNING
            self._start_challenge(sample.t)
            return True
        return False

    @property
    def current(self) -> Challenge | None:
        return self.challenges[self.index] if self.status is Status.RUNNING else None

    def _start_challenge(self, t: float) -> None:
        self.prompt_time = t
        self._acting = False
        self._need_neutral = False

    def restart_current(self, t: float) -> None:
        """The clerk repeated the prompt: the timeout starts again."""
        if self.status is Status.RUNNING:
            self._start_challenge(t)

    # -- per-frame ------------------------------------------------------------------------------
    def _states(self, s: Sample) -> dict[Challenge, bool]:
        b, st = self.baseline, self.settings
        yaw = (s.yaw - b.yaw) * self._left_sign
        par = (s.parallax - b.parallax) * self._left_sign
        return {
            Challenge.BLINK: s.ear < b.ear * st.blink_ratio,
            Challenge.OPEN_MOUTH: s.mar > b.mar + st.mouth_open_delta,
            Challenge.TURN_LEFT: yaw >= st.turn_yaw_deg and par >= st.turn_parallax,
            Challenge.TURN_RIGHT: yaw <= -st.turn_yaw_deg and par <= -st.turn_parallax,
        }

    def _flat_turn(self, s: Sample) -> bool:
        """Yaw says 'turned' but the nose did not move against the jaw: a tilted flat picture."""
        b, st = self.baseline, self.settings
        yaw = s.yaw - b.yaw
        par = s.parallax - b.parallax
        return abs(yaw) >= st.turn_yaw_deg and (abs(par) < st.turn_parallax / 2 or np.sign(par) != np.sign(yaw))

    def _neutral(self, s: Sample) -> bool:
        b, st = self.baseline, self.settings
        return (s.ear >= b.ear * (st.blink_ratio + 1.0) / 2
                and s.mar <= b.mar + st.mouth_open_delta / 2
                and abs(s.yaw - b.yaw) <= st.turn_yaw_deg / 2)

    _WINDOW = 6

    def _check_replay(self, sample: Sample) -> None:
        """A run of moving landmark frames that comes back exactly is a looped recording."""
        sig = np.round(np.array([sample.ear, sample.mar, sample.yaw, sample.parallax]), 6).tobytes()
        self._signatures.append(sig)
        window = self._signatures[-self._WINDOW:]
        if len(window) < self._WINDOW or len(set(window)) < self._WINDOW // 2:
            return   # too short, or a still face (identical frames are normal for a still sitter)
        key = b"".join(window)
        if key in self._windows:
            self.replay_hits += 1
        self._windows.add(key)

    def update(self, sample: Sample, *, check_replay: bool = True) -> Status:
        if check_replay:
            self._check_replay(sample)
        if self.status is Status.BASELINE:
            self.add_baseline(sample)
            return self.status
        if self.status is not Status.RUNNING:
            return self.status
        st = self.settings
        t = sample.t
        want = self.challenges[self.index]
        states = self._states(sample)
        if self._flat_turn(sample):
            self.flat_hits += 1
        # actions nobody asked for (blinks are involuntary and not counted)
        stray = next((c for c, on in states.items() if on and c is not want and c is not Challenge.BLINK), None)
        if stray is not None and stray.value != self._stray:
            self.wrong_actions += 1
        self._stray = stray.value if stray is not None else None
        if self.replay_hits >= 3:
            return self._fail(Reason.REPLAY_SUSPECTED, t)
        if self.wrong_actions >= st.max_wrong_actions:
            return self._fail(Reason.CHALLENGE_NOT_DONE, t)
        if self._need_neutral:
            if self._neutral(sample):
                self._need_neutral = False
        elif not self._acting:
            if states[want]:
                if t - self.prompt_time < st.min_reaction_s:
                    self._need_neutral = True   # started before the prompt could be heard
                else:
                    self._acting = True
        else:
            if self._neutral(sample):         # action done and back to neutral
                self.outcomes.append(ChallengeOutcome(want, True, t - self.prompt_time))
                self.index += 1
                if self.index >= len(self.challenges):
                    self.status = Status.PASSED
                    return self.status
                self._start_challenge(t)
                return self.status
        if t - self.prompt_time > st.challenge_timeout_s:
            reason = Reason.FLAT_PHOTO_SUSPECTED if self.flat_hits >= 3 else Reason.CHALLENGE_NOT_DONE
            return self._fail(reason, t)
        return self.status

    def _fail(self, reason: Reason, t: float) -> Status:
        self.outcomes.append(ChallengeOutcome(self.challenges[self.index], False, t - self.prompt_time))
        self.failure = reason
        self.status = Status.FAILED
        return self.status

    def should_reprompt(self, t: float, last_prompt: float) -> bool:
        return (self.status is Status.RUNNING and not self._acting
                and t - last_prompt >= self.settings.reprompt_after_s)
