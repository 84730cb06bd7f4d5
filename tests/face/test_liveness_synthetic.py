"""Liveness on synthetic landmark sequences with a fake clock (no camera, no models)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from desktop.face.liveness import Challenge, LivenessChecker, Sample, Status, pick_challenges
from desktop.face.settings import FaceSettings
from desktop.face.triage import Reason
from synth import FRAME, face

FPS = 15.0


class Script:
    """Feeds landmark frames to a checker at FPS with a fake clock."""

    def __init__(self, checker: LivenessChecker, seed: int = 1):
        self.checker = checker
        self.t = 0.0
        self.rng = np.random.default_rng(seed)
        self.recorded: list[np.ndarray] = []

    def frames(self, seconds: float, **pose):
        for _ in range(int(seconds * FPS)):
            pts = face(rng=self.rng, **pose)
            self.recorded.append(pts)
            self.checker.update(Sample.from_landmarks(self.t, pts, FRAME))
            self.t += 1 / FPS
            if self.checker.status in (Status.PASSED, Status.FAILED):
                return

    def ramp(self, seconds: float, key: str, peak: float, **pose):
        n = int(seconds * FPS)
        for i in range(n):
            x = peak * np.sin(np.pi * (i + 1) / (n + 1))
            self.frames(1 / FPS, **{key: x}, **pose)

    def do(self, challenge: Challenge):
        if challenge is Challenge.BLINK:
            self.ramp(0.4, "blink", 1.0)
        elif challenge is Challenge.OPEN_MOUTH:
            self.ramp(1.2, "mouth", 1.0)
        elif challenge is Challenge.TURN_LEFT:
            self.ramp(2.0, "yaw_deg", 30.0)
        else:
            self.ramp(2.0, "yaw_deg", -30.0)


def live(challenges, settings=FaceSettings()):
    checker = LivenessChecker(challenges, settings)
    s = Script(checker)
    s.frames(0.6)  # neutral baseline
    assert checker.status is Status.RUNNING
    return checker, s


@pytest.mark.parametrize("challenges", [
    (Challenge.BLINK, Challenge.OPEN_MOUTH),
    (Challenge.OPEN_MOUTH, Challenge.TURN_LEFT),
    (Challenge.TURN_RIGHT, Challenge.BLINK),
    (Challenge.BLINK, Challenge.TURN_LEFT, Challenge.TURN_RIGHT),
])
def test_live_person_following_prompts_passes(challenges):
    checker, s = live(challenges)
    for c in challenges:
        s.frames(1.0)          # reaction time: the resident hears the prompt
        s.do(c)
        s.frames(0.3)
    assert checker.status is Status.PASSED
    assert [o.challenge for o in checker.outcomes] == list(challenges)


def test_baseline_is_personal_narrow_eyes_still_blink():
    """A person whose open eyes are narrow (EAR ~0.2) must still be able to pass a blink."""
    checker, s = live((Challenge.BLINK, Challenge.OPEN_MOUTH))
    assert checker.baseline.ear == pytest.approx(0.20, abs=0.03)
    s.frames(1.0)
    s.ramp(0.4, "blink", 0.55)   # a half blink is enough relative to the own baseline
    s.frames(0.5)
    assert checker.index == 1


def test_still_photo_fails_after_generous_timeout():
    settings = FaceSettings(challenge_timeout_s=20.0)
    checker, s = live((Challenge.BLINK, Challenge.OPEN_MOUTH), settings)
    s.frames(15.0)
    assert checker.status is Status.RUNNING, "must not give up before the generous timeout"
    s.frames(10.0)
    assert checker.status is Status.FAILED
    assert checker.failure is Reason.CHALLENGE_NOT_DONE


def test_tilted_print_does_not_pass_a_turn():
    checker, s = live((Challenge.TURN_LEFT, Challenge.BLINK))
    for _ in range(4):  # the attacker tilts the print back and forth
        s.frames(0.5)
        s.ramp(2.0, "yaw_deg", 45.0, planar=True)
    s.frames(25.0, planar=True)
    assert checker.status is Status.FAILED
    assert checker.failure is Reason.FLAT_PHOTO_SUSPECTED
    assert checker.flat_hits >= 3


def test_real_turn_is_not_mistaken_for_a_print():
    checker, s = live((Challenge.TURN_LEFT, Challenge.BLINK))
    s.frames(1.0)
    s.ramp(2.0, "yaw_deg", 30.0)
    assert checker.index == 1 and checker.flat_hits == 0


def test_replayed_sequence_fails_against_a_new_challenge_order():
    # record a genuine session: blink then open mouth
    checker, s = live((Challenge.BLINK, Challenge.OPEN_MOUTH))
    for c in (Challenge.BLINK, Challenge.OPEN_MOUTH):
        s.frames(1.0)
        s.do(c)
    s.frames(0.5)
    assert checker.status is Status.PASSED
    recording = list(s.recorded)
    # replay the same landmark frames to a session that asks for the other order
    replay = LivenessChecker((Challenge.OPEN_MOUTH, Challenge.BLINK), FaceSettings(challenge_timeout_s=8.0))
    t = 0.0
    for pts in recording:
        replay.update(Sample.from_landmarks(t, pts, FRAME))
        t += 1 / FPS
    assert replay.status is Status.RUNNING and replay.index == 1   # mouth seen; the blink came too early
    last = recording[-1]
    while replay.status is Status.RUNNING and t < 60:
        replay.update(Sample.from_landmarks(t, last, FRAME))   # the clip ends on its last frame
        t += 1 / FPS
    assert replay.status is Status.FAILED
    assert replay.failure is Reason.CHALLENGE_NOT_DONE


def test_looped_recording_is_detected():
    checker, s = live((Challenge.BLINK, Challenge.OPEN_MOUTH))
    for c in (Challenge.BLINK, Challenge.OPEN_MOUTH):
        s.frames(1.0)
        s.do(c)
    recording = list(s.recorded)
    replay = LivenessChecker((Challenge.OPEN_MOUTH, Challenge.BLINK), FaceSettings(challenge_timeout_s=60.0))
    t = 0.0
    for _ in range(3):                      # the attacker loops the clip until the order fits
        for pts in recording:
            replay.update(Sample.from_landmarks(t, pts, FRAME))
            t += 1 / FPS
    assert replay.status is Status.FAILED
    assert replay.failure is Reason.REPLAY_SUSPECTED


def test_action_before_the_prompt_does_not_count():
    checker, s = live((Challenge.OPEN_MOUTH, Challenge.BLINK))
    s.ramp(0.2, "mouth", 1.0)     # mouth already opening when the prompt starts (pre-recorded)
    assert checker.index == 0 and checker.outcomes == []
    s.frames(0.5)
    s.do(Challenge.OPEN_MOUTH)    # a real response afterwards counts
    s.frames(0.3)
    assert checker.index == 1


def test_unrequested_actions_fail():
    checker, s = live((Challenge.BLINK, Challenge.OPEN_MOUTH))
    for _ in range(3):            # someone cycles through mouth and turns, ignoring the blink prompt
        s.frames(0.4)
        s.ramp(1.0, "mouth", 1.0)
        s.frames(0.4)
        s.ramp(1.5, "yaw_deg", -30.0)
    assert checker.status is Status.FAILED
    assert checker.wrong_actions >= 3


def test_mirrored_camera_swaps_left_and_right():
    checker = LivenessChecker((Challenge.TURN_LEFT, Challenge.BLINK), camera_mirrored=True)
    s = Script(checker)
    s.frames(0.6)
    s.frames(1.0)
    s.ramp(2.0, "yaw_deg", 30.0)    # nose to image-right is the resident's right in a mirrored feed
    assert checker.index == 0
    s.frames(0.5)
    s.ramp(2.0, "yaw_deg", -30.0)
    s.frames(0.3)
    assert checker.index == 1


def test_repeat_restarts_the_timeout():
    settings = FaceSettings(challenge_timeout_s=10.0)
    checker, s = live((Challenge.BLINK, Challenge.OPEN_MOUTH), settings)
    s.frames(8.0)
    checker.restart_current(s.t)
    s.frames(8.0)
    assert checker.status is Status.RUNNING


def test_pick_challenges_is_random_and_always_has_a_face_action():
    rng = random.Random(7)
    seen = set()
    for _ in range(200):
        picked = pick_challenges(rng, 2)
        assert len(set(picked)) == 2
        assert Challenge.BLINK in picked or Challenge.OPEN_MOUTH in picked
        seen.add(picked)
    assert len(seen) >= 8
    avoid = (Challenge.BLINK, Challenge.TURN_LEFT)
    assert all(set(pick_challenges(rng, 2, avoid=avoid)).isdisjoint(avoid) for _ in range(20))


def test_checker_refuses_turn_only_challenges():
    with pytest.raises(ValueError):
        LivenessChecker((Challenge.TURN_LEFT, Challenge.TURN_RIGHT))
