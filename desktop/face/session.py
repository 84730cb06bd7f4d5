"""FaceCheckSession: frames in; prompts, progress and one result out. Qt-free and GUI-thread-free.

Thread contract: :meth:`feed` runs on ONE worker thread (it does the face work: ~10-40 ms a frame,
~110 ms for each of the few encoded frames). :meth:`request` may be called from any thread (the
clerk's buttons); requests are applied at the next :meth:`feed`. Events are delivered through the
``listener`` callback *on the feeding thread* and also returned from :meth:`feed`; a Qt front-end
re-emits them as signals.

Flow: find one good face -> neutral baseline (and 2 encodings) -> randomised challenges -> one more
encoding after the last challenge (so the matched face is the live one) -> decision in three bands.
The captured image travels as PNG bytes inside the evidence and is never logged or printed.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Callable, Iterable, Sequence, Union

import numpy as np

from desktop.face.compare import Decision, decide, median_distance
from desktop.face.detect import Box, FaceEngine, FaceTracker, Observation
from desktop.face.liveness import CHALLENGE_PROMPT_ZH, Challenge, LivenessChecker, Sample, Status, pick_challenges
from desktop.face.settings import FaceSettings
from desktop.face.triage import ADVICE_ZH, Reason, Triage, triage

log = logging.getLogger(__name__)


class Phase(str, Enum):
    FIND_FACE = "find_face"
    BASELINE = "baseline"
    CHALLENGE = "challenge"
    FINAL = "final"
    DONE = "done"


@dataclass(frozen=True)
class Prompt:
    """Something to show in big type and speak to the resident."""

    code: str                      # "look_at_camera", a Challenge value, an issue Reason value, "hold_still", "done"
    text_zh: str
    challenge: Challenge | None = None
    repeat: bool = False           # a repetition of the previous prompt (speak again)


@dataclass(frozen=True)
class Progress:
    phase: Phase
    fraction: float                # 0..1 over the whole check
    face_count: int
    box: Box | None
    issues: tuple[Reason, ...]
    challenge_index: int = 0
    challenge_total: int = 0


@dataclass(frozen=True)
class FaceEvidence:
    """What the decision rests on. ``image_png`` is personal data: never log it (repr hides it)."""

    distance: float | None
    distances: tuple[float, ...]
    frames_used: int               # live frames encoded and compared
    frames_seen: int
    challenges: tuple[str, ...]
    challenges_done: tuple[str, ...]
    liveness_passed: bool
    flat_photo_hits: int
    wrong_actions: int
    settings_accept: float
    settings_reject: float
    started_at: datetime
    finished_at: datetime
    image_png: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class FaceCheckResult:
    passed: bool                   # live AND decision == match
    decision: Decision | None      # None when no live frame could be compared
    reason: Reason | None          # why it did not pass (None when passed)
    triage: Triage | None
    evidence: FaceEvidence = field(repr=False)


Event = Union[Prompt, Progress, FaceCheckResult]

LOOK_ZH = "请正对屏幕，看着摄像头"
HOLD_ZH = "请保持不动"
DONE_ZH = "认证动作已完成，请稍候"
NEXT_ZH = "很好"


class FaceCheckSession:
    def __init__(self, reference: Sequence[float], settings: FaceSettings = FaceSettings(), *,
                 engine: FaceEngine | None = None, clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None, listener: Callable[[Event], None] | None = None,
                 challenges: Sequence[Challenge] | None = None, camera_mirrored: bool = False,
                 failures_before: int = 0, reference_is_old: bool = False):
        self.reference = np.asarray(reference, dtype=np.float64)
        if self.reference.shape != (128,):
            raise ValueError("reference must be a 128-d face encoding")
        self.settings = settings
        self.engine = engine or FaceEngine()
        self.tracker = FaceTracker(self.engine, settings)
        self.clock = clock
        self.rng = rng or random.Random()
        self.listener = listener
        self.camera_mirrored = camera_mirrored
        self.failures_before = failures_before
        self.reference_is_old = reference_is_old
        self._requests: "queue.SimpleQueue[str]" = queue.SimpleQueue()
        self._fixed_challenges = tuple(challenges) if challenges else None
        self.result: FaceCheckResult | None = None
        self._reset(self._fixed_challenges or pick_challenges(self.rng, settings.challenge_count))
        self._started_wall = datetime.now(timezone.utc)

    # -- control (any thread) -------------------------------------------------------------------
    def request(self, action: str) -> None:
        """'repeat' (say the prompt again, restart its timeout), 'switch' (another challenge set),
        'restart' (from the beginning), 'cancel'."""
        if action not in ("repeat", "switch", "restart", "cancel"):
            raise ValueError(action)
        self._requests.put(action)

    @property
    def finished(self) -> bool:
        return self.result is not None

    @property
    def phase(self) -> Phase:
        return self._phase

    # -- internals ------------------------------------------------------------------------------
    def _reset(self, challenges: Sequence[Challenge]) -> None:
        self.tracker.reset()
        self.liveness = LivenessChecker(challenges, self.settings, camera_mirrored=self.camera_mirrored)
        self._phase = Phase.FIND_FACE
        self._phase_start: float | None = None
        self._encodings: list[np.ndarray] = []
        self._best: tuple[float, np.ndarray] | None = None
        self._issues: Counter = Counter()
        self._frames_seen = 0
        self._last_prompt: tuple[float, Prompt] | None = None
        self._last_face_t: float | None = None
        self._multi_since: float | None = None
        self._prev_hash: bytes | None = None
        self._seen_hashes: set[bytes] = set()
        self._repeats = 0
        self._shown_index = -1

    def _emit(self, events: list, ev: Event) -> None:
        events.append(ev)
        if self.listener is not None:
            try:
                self.listener(ev)
            except Exception:  # a broken listener must not kill the check
                log.exception("face-check listener failed")

    def _prompt(self, events: list, t: float, code: str, text: str, challenge=None, repeat=False) -> None:
        p = Prompt(code, text, challenge, repeat)
        self._last_prompt = (t, p)
        self._emit(events, p)

    def _handle_requests(self, events: list, t: float) -> None:
        while True:
            try:
                action = self._requests.get_nowait()
            except queue.Empty:
                return
            if action == "cancel":
                self._finish(events, t, forced=Reason.CANCELLED)
                return
            if action == "repeat" and self._last_prompt is not None:
                self.liveness.restart_current(t)
                p = self._last_prompt[1]
                self._prompt(events, t, p.code, p.text_zh, p.challenge, repeat=True)
            elif action in ("switch", "restart"):
                old = self.liveness.challenges
                baseline = self.liveness.baseline if action == "switch" else None
                self._reset(pick_challenges(self.rng, self.settings.challenge_count, avoid=old))
                if baseline is not None:  # keep the person's baseline; go straight to the new challenges
                    self.liveness.baseline = baseline
                    self.liveness.status = Status.RUNNING
                    self.liveness._start_challenge(t)
                    self._phase = Phase.CHALLENGE
                    self._phase_start = t
                    self._last_face_t = t
                else:
                    self._prompt(events, t, "look_at_camera", LOOK_ZH)

    def _frame_hash(self, frame: np.ndarray) -> bytes:
        import cv2

        small = cv2.resize(np.asarray(frame), (64, 48), interpolation=cv2.INTER_AREA)
        return hashlib.blake2b(small.tobytes(), digest_size=16).digest()

    def _encode(self, frame: np.ndarray, obs: Observation) -> None:
        from desktop.face.detect import to_rgb

        self._encodings.append(self.engine.encode_rgb(to_rgb(frame), obs.box))
        score = obs.quality.sharpness if obs.quality else 0.0
        if self._best is None or score > self._best[0]:
            self._best = (score, frame.copy())

    def _fraction(self) -> float:
        total = len(self.liveness.challenges)
        return {
            Phase.FIND_FACE: 0.0,
            Phase.BASELINE: 0.1,
            Phase.CHALLENGE: 0.2 + 0.7 * self.liveness.index / total,
            Phase.FINAL: 0.95,
            Phase.DONE: 1.0,
        }[self._phase]

    # -- the per-frame step (worker thread) -----------------------------------------------------
    def feed(self, frame: np.ndarray, t: float | None = None) -> list[Event]:
        """Process one BGR frame; returns (and sends to the listener) the events it caused."""
        events: list[Event] = []
        if self.result is not None:
            return events
        t = self.clock() if t is None else t
        if self._phase_start is None:
            self._phase_start = t
            self._prompt(events, t, "look_at_camera", LOOK_ZH)
        self._handle_requests(events, t)
        if self.result is not None:
            return events
        h = self._frame_hash(frame)
        if h == self._prev_hash:
            return events            # the same frame again: no new information
        if h in self._seen_hashes:
            self._repeats += 1       # an older frame came back: a looped/replayed feed
            if self._repeats >= 5:
                self._finish(events, t, forced=Reason.REPLAY_SUSPECTED)
                return events
        self._seen_hashes.add(h)
        self._prev_hash = h
        self._frames_seen += 1

        obs = self.tracker.observe(frame)
        for issue in obs.issues:
            self._issues[issue] += 1
        self._step(events, frame, obs, t)
        if self.result is None:
            lv = self.liveness
            self._emit(events, Progress(self._phase, self._fraction(), obs.face_count, obs.box, obs.issues,
                                        lv.index, len(lv.challenges)))
        return events

    def _step(self, events: list, frame: np.ndarray, obs: Observation, t: float) -> None:
        st = self.settings
        lv = self.liveness
        if self._phase is Phase.FIND_FACE:
            if obs.good:
                self._phase, self._phase_start, self._last_face_t = Phase.BASELINE, t, t
                self._prompt(events, t, "hold_still", HOLD_ZH)
            else:
                issue = obs.issues[0] if obs.issues else Reason.NO_FACE
                last = self._last_prompt
                if last is None or last[1].code != issue.value or t - last[0] >= st.reprompt_after_s:
                    self._prompt(events, t, issue.value, ADVICE_ZH[issue], repeat=bool(last and last[1].code == issue.value))
                if t - self._phase_start > st.find_face_timeout_s:
                    self._finish(events, t, forced=self._issues.most_common(1)[0][0] if self._issues else Reason.NO_FACE)
            return

        # from here on the same single face must stay in view
        if obs.face_count > 1:
            self._multi_since = self._multi_since if self._multi_since is not None else t
            if t - self._multi_since > st.lost_after_s:
                self._finish(events, t, forced=Reason.MULTIPLE_FACES)
            return
        self._multi_since = None
        if obs.face_count == 0 or obs.landmarks is None:
            if t - (self._last_face_t or t) > st.lost_after_s:
                self._finish(events, t, forced=Reason.FACE_LOST)
            return
        self._last_face_t = t
        sample = Sample.from_landmarks(t, obs.landmarks, obs.frame_size)

        if self._phase is Phase.BASELINE:
            if obs.good and len(self._encodings) < max(1, st.frames_to_encode - 1):
                self._encode(frame, obs)
            lv.update(sample)
            if lv.status is Status.RUNNING and len(self._encodings) >= max(1, st.frames_to_encode - 1):
                self._phase = Phase.CHALLENGE
            elif t - self._phase_start > st.find_face_timeout_s:
                self._finish(events, t, forced=self._issues.most_common(1)[0][0] if self._issues else Reason.EYES_CLOSED)
            if self._phase is not Phase.CHALLENGE:
                return
            lv.restart_current(t)  # the first prompt starts now

        if self._phase is Phase.CHALLENGE:
            if self._shown_index != lv.index:
                self._shown_index = lv.index
                ch = lv.current
                if ch is not None:
                    prefix = f"{NEXT_ZH}，" if lv.index > 0 else ""
                    self._prompt(events, t, ch.value, prefix + CHALLENGE_PROMPT_ZH[ch], ch)
                return
            status = lv.update(sample)
            if status is Status.RUNNING:
                if lv.index != self._shown_index:
                    self._shown_index = lv.index
                    self._prompt(events, t, lv.current.value, f"{NEXT_ZH}，{CHALLENGE_PROMPT_ZH[lv.current]}", lv.current)
                elif self._last_prompt and lv.should_reprompt(t, self._last_prompt[0]):
                    p = self._last_prompt[1]
                    self._prompt(events, t, p.code, p.text_zh, p.challenge, repeat=True)
            elif status is Status.PASSED:
                self._phase, self._phase_start = Phase.FINAL, t
                self._prompt(events, t, "hold_still", f"{DONE_ZH}，{HOLD_ZH}")
            elif status is Status.FAILED:
                self._finish(events, t)
            return

        if self._phase is Phase.FINAL:
            if obs.good and abs(sample.yaw - lv.baseline.yaw) < st.turn_yaw_deg / 2:
                self._encode(frame, obs)
                if len(self._encodings) >= st.frames_to_encode:
                    self._finish(events, t)
            elif t - self._phase_start > st.find_face_timeout_s:
                self._finish(events, t, forced=self._issues.most_common(1)[0][0] if self._issues else Reason.FACE_LOST)

    def _finish(self, events: list, t: float, forced: Reason | None = None) -> None:
        import cv2

        st, lv = self.settings, self.liveness
        distance, distances, decision = None, (), None
        if self._encodings:
            distance, distances = median_distance(self._encodings, self.reference)
            decision = decide(distance, st)
        live = lv.status is Status.PASSED and forced is None
        if forced is not None:
            reason = forced
        elif lv.status is Status.FAILED:
            reason = lv.failure or Reason.CHALLENGE_NOT_DONE
        elif decision is Decision.NO_MATCH:
            reason = Reason.NOT_MATCHING
        elif decision is Decision.REVIEW:
            reason = Reason.REVIEW_NEEDED
        else:
            reason = None
        passed = live and decision is Decision.MATCH
        png = b""
        if self._best is not None:
            ok, buf = cv2.imencode(".png", self._best[1])
            png = buf.tobytes() if ok else b""
        evidence = FaceEvidence(
            distance=distance, distances=tuple(round(d, 4) for d in distances), frames_used=len(distances),
            frames_seen=self._frames_seen, challenges=tuple(c.value for c in lv.challenges),
            challenges_done=tuple(o.challenge.value for o in lv.outcomes if o.done), liveness_passed=live,
            flat_photo_hits=lv.flat_hits, wrong_actions=lv.wrong_actions,
            settings_accept=st.accept_threshold, settings_reject=st.reject_threshold,
            started_at=self._started_wall, finished_at=datetime.now(timezone.utc), image_png=png)
        tri = None if passed else triage(reason, failures=self.failures_before + 1, reference_is_old=self.reference_is_old)
        self._phase = Phase.DONE
        self.result = FaceCheckResult(passed, decision, None if passed else reason, tri, evidence)
        log.info("face check finished: passed=%s decision=%s reason=%s distance=%s frames=%d",
                 passed, decision and decision.value, reason and reason.value,
                 None if distance is None else round(distance, 3), len(distances))
        self._prompt(events, t, "done", "认证通过，谢谢您" if passed else "请稍候，工作人员会为您处理")
        self._emit(events, self.result)


def run_frames(session: FaceCheckSession, frames: Iterable[np.ndarray], fps: float = 15.0,
               t0: float = 0.0) -> FaceCheckResult:
    """Feed a recorded clip at its own pace (timestamps from the frame index) until a result.

    When the clip ends first, the session is closed with the liveness timeout (challenge not done).
    """
    t = t0
    for i, frame in enumerate(frames):
        t = t0 + i / fps
        session.feed(frame, t)
        if session.result is not None:
            return session.result
    # the clip ended before a decision: close it as the timeouts would have
    if session.phase in (Phase.BASELINE, Phase.CHALLENGE):
        reason = Reason.CHALLENGE_NOT_DONE
    elif session.phase is Phase.FINAL:
        reason = Reason.FACE_LOST
    else:
        reason = session._issues.most_common(1)[0][0] if session._issues else Reason.NO_FACE
    session._finish([], t, forced=reason)
    return session.result
