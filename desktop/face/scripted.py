"""A scripted face check for demo mode, drills and tests ONLY (refuses to exist in production).

A still demo picture cannot blink or turn its head, so the real liveness check would (rightly)
refuse it. This stand-in speaks the same protocol as :class:`~desktop.face.session.FaceCheckSession`
(``feed(image) -> events``, ``request(action)``, ``finished``) and plays a fixed script: find the
face, two challenges, a decision. When a real ``distance`` is known (the demo photos were compared
by the real engine) it is reported; otherwise a typical genuine-pair value. ``outcome`` chooses
the ending: "pass", or a :class:`~desktop.face.triage.Reason` value for a failure.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Sequence

import numpy as np

from desktop.face.compare import Decision
from desktop.face.liveness import CHALLENGE_PROMPT_ZH, Challenge
from desktop.face.session import (DONE_ZH, LOOK_ZH, FaceCheckResult, FaceEvidence, Phase, Progress, Prompt)
from desktop.face.triage import Reason, triage
from desktop.platform.runmode import require_simulation_allowed

TYPICAL_GENUINE_DISTANCE = 0.34


def _png(image: np.ndarray | None) -> bytes:
    if image is None:
        return b""
    try:
        import cv2

        h, w = image.shape[:2]
        crop = image[h // 8: h - h // 8, w // 4: w - w // 4]
        ok, buf = cv2.imencode(".png", crop)
        return bytes(buf) if ok else b""
    except Exception:  # noqa: BLE001 - evidence photo is best effort in the demo
        return b""


class ScriptedFaceSession:
    def __init__(self, *, outcome: str = "pass", distance: float | None = None, frames_per_step: int = 2,
                 challenges: Sequence[Challenge] = (Challenge.BLINK, Challenge.TURN_LEFT),
                 accept: float = 0.50, reject: float = 0.60):
        require_simulation_allowed("ScriptedFaceSession")
        self.outcome = outcome
        self.distance = TYPICAL_GENUINE_DISTANCE if distance is None else float(distance)
        self.frames_per_step = max(1, frames_per_step)
        self.challenges = tuple(challenges)
        self.accept, self.reject = accept, reject
        self.finished = False
        self.fed = 0
        self.requests: list[str] = []
        self._started = datetime.now(timezone.utc)
        self._cancel = False
        self._last_image: np.ndarray | None = None

    def request(self, action: str) -> None:
        self.requests.append(action)
        if action == "cancel":
            self._cancel = True

    def _steps(self) -> int:
        return 2 + len(self.challenges)

    def feed(self, image: np.ndarray) -> list:
        if self.finished:
            return []
        self.fed += 1
        self._last_image = image
        if self._cancel:
            return [self._finish(Reason.CANCELLED.value)]
        step, sub = divmod(self.fed - 1, self.frames_per_step)
        total = self._steps()
        events: list = []
        if sub == 0:
            if step == 0:
                events.append(Prompt("look_at_camera", LOOK_ZH))
            elif step <= len(self.challenges):
                ch = self.challenges[step - 1]
                events.append(Prompt(ch.value, CHALLENGE_PROMPT_ZH[ch], challenge=ch))
        phase = Phase.FIND_FACE if step == 0 else (Phase.CHALLENGE if step <= len(self.challenges) else Phase.FINAL)
        events.append(Progress(phase, min(1.0, (self.fed / (total * self.frames_per_step))), 1, None, (),
                               max(0, step - 1), len(self.challenges)))
        if self.fed >= total * self.frames_per_step:
            events.append(Prompt("done", DONE_ZH))
            events.append(self._finish(self.outcome))
        return events

    def _finish(self, outcome: str) -> FaceCheckResult:
        self.finished = True
        now = datetime.now(timezone.utc)
        passed = outcome == "pass"
        reason = None if passed else Reason(outcome)
        live = passed or reason not in (Reason.CHALLENGE_NOT_DONE, Reason.FLAT_PHOTO_SUSPECTED, Reason.REPLAY_SUSPECTED,
                                        Reason.CANCELLED)
        distance = self.distance if passed else (0.71 if reason == Reason.NOT_MATCHING else None)
        done = tuple(c.value for c in self.challenges) if live else ()
        ev = FaceEvidence(distance, () if distance is None else (distance,) * 3, 3 if distance is not None else 0,
                          self.fed, tuple(c.value for c in self.challenges), done, live, 0, 0, self.accept,
                          self.reject, self._started, now, _png(self._last_image) if passed else b"")
        decision = Decision.MATCH if passed else (Decision.NO_MATCH if reason == Reason.NOT_MATCHING else None)
        return FaceCheckResult(passed, decision, reason, None if passed else triage(reason), ev)
