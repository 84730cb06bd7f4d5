"""FaceCheckSession end to end: a scripted fake engine (pass path) and real photos played as clips."""

from __future__ import annotations

import random
import sys
import types

import cv2
import numpy as np
import pytest

from desktop.face.compare import Decision
from desktop.face.detect import Box, FaceEngine
from desktop.face.liveness import Challenge
from desktop.face.reference import load_image
from desktop.face.session import FaceCheckResult, FaceCheckSession, Progress, Prompt, run_frames
from desktop.face.settings import FaceSettings
from desktop.face.triage import NextStep, Reason, triage
from synth import FRAME, face

FPS = 15.0


class ScriptedEngine(FaceEngine):
    """Landmarks come from a script indexed by the frame's first pixel row; encodings near a reference."""

    def __init__(self, script, reference, offset=0.2):
        super().__init__(loader=lambda: None)
        self.script = script
        self.reference = np.asarray(reference)
        self.offset = offset
        self.encoded = 0

    def detect_rgb(self, rgb, upsample=0):
        return [Box(200, 120, 440, 380)] if rgb.shape[1] >= 600 else [Box(100, 60, 220, 190)]

    def landmarks_rgb(self, rgb, box):
        return self.script[int(rgb[0, 0, 0]) * 256 + int(rgb[0, 1, 0])]

    def encode_rgb(self, rgb, box):
        self.encoded += 1
        v = np.zeros(128)
        v[self.encoded % 128] = self.offset
        return self.reference + v


def scripted_clip(challenges):
    rng = np.random.default_rng(3)
    poses = [dict()] * 12
    for c in challenges:
        poses += [dict()] * 15
        n = 8 if c is Challenge.BLINK else 20
        for i in range(n):
            x = np.sin(np.pi * (i + 1) / (n + 1))
            poses.append({Challenge.BLINK: {"blink": x}, Challenge.OPEN_MOUTH: {"mouth": x},
                          Challenge.TURN_LEFT: {"yaw_deg": 30 * x}, Challenge.TURN_RIGHT: {"yaw_deg": -30 * x}}[c])
        poses += [dict()] * 5
    poses += [dict()] * 30
    script = [face(rng=rng, **p) for p in poses]
    frames = []
    noise = np.random.default_rng(0)
    for i in range(len(script)):
        img = noise.integers(60, 200, (FRAME[1], FRAME[0], 3), dtype=np.uint8)
        img[0, 0, :] = i // 256   # the frame number, read back by ScriptedEngine.landmarks_rgb
        img[0, 1, :] = i % 256
        frames.append(img)
    return script, frames


def test_live_scripted_session_passes_with_evidence():
    challenges = (Challenge.BLINK, Challenge.OPEN_MOUTH)
    script, frames = scripted_clip(challenges)
    ref = np.full(128, 0.05)
    engine = ScriptedEngine(script, ref, offset=0.2)
    events = []
    session = FaceCheckSession(ref, engine=engine, challenges=challenges, listener=events.append)
    result = run_frames(session, frames, fps=FPS)
    assert isinstance(result, FaceCheckResult)
    assert result.passed, result
    assert result.decision is Decision.MATCH and result.reason is None and result.triage is None
    ev = result.evidence
    assert ev.frames_used == 3 and ev.distance == pytest.approx(0.2)
    assert ev.liveness_passed and ev.challenges_done == ("blink", "open_mouth")
    assert ev.image_png.startswith(b"\x89PNG")
    assert "image_png" not in repr(ev)            # never printed or logged
    prompts = [e for e in events if isinstance(e, Prompt)]
    assert [p.challenge for p in prompts if p.challenge] == list(challenges)
    assert any(isinstance(e, Progress) for e in events) and events[-1] is result


def test_distant_reference_gives_no_match_even_when_live():
    challenges = (Challenge.OPEN_MOUTH, Challenge.TURN_RIGHT)
    script, frames = scripted_clip(challenges)
    ref = np.zeros(128)
    session = FaceCheckSession(ref, engine=ScriptedEngine(script, ref, offset=0.8), challenges=challenges)
    result = run_frames(session, frames, fps=FPS)
    assert not result.passed and result.decision is Decision.NO_MATCH
    assert result.evidence.liveness_passed
    assert result.reason is Reason.NOT_MATCHING
    assert NextStep.STAFF_ATTESTATION in result.triage.next_steps


def test_review_band_asks_the_clerk():
    challenges = (Challenge.BLINK, Challenge.TURN_LEFT)
    script, frames = scripted_clip(challenges)
    ref = np.zeros(128)
    result = run_frames(FaceCheckSession(ref, engine=ScriptedEngine(script, ref, offset=0.55),
                                         challenges=challenges), frames, fps=FPS)
    assert result.decision is Decision.REVIEW and not result.passed
    assert result.triage.next_steps[0] is NextStep.CLERK_REVIEW


def test_switch_request_picks_other_challenges():
    script, frames = scripted_clip((Challenge.BLINK,) * 2)
    ref = np.zeros(128)
    session = FaceCheckSession(ref, engine=ScriptedEngine(script, ref), rng=random.Random(1),
                               challenges=(Challenge.BLINK, Challenge.TURN_LEFT))
    for i, f in enumerate(frames[:40]):
        session.feed(f, i / FPS)
    session.request("switch")
    session.feed(frames[40], 40 / FPS)
    assert set(session.liveness.challenges).isdisjoint({Challenge.BLINK, Challenge.TURN_LEFT})
    session.request("cancel")
    session.feed(frames[41], 41 / FPS)
    assert session.result.reason is Reason.CANCELLED


# ---------------------------------------------------------------- clips built from real still photos
@pytest.fixture(scope="module")
def obama_frame(faces_root):
    img = load_image(faces_root / "fr_obama" / "obama.jpg")
    scale = 480 / img.shape[0]
    img = cv2.resize(img, (int(img.shape[1] * scale), 480), interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 90, np.uint8)
    x0 = (640 - img.shape[1]) // 2
    canvas[:, x0:x0 + img.shape[1]] = img
    return canvas


def still_clip(frame, n, seed=0):
    """A handheld still photo: tiny shifts and sensor noise, no blink, no mouth."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        m = np.float32([[1, 0, 2 * np.sin(i / 7)], [0, 1, np.cos(i / 9)]])
        img = cv2.warpAffine(frame, m, (640, 480), borderMode=cv2.BORDER_REPLICATE)
        out.append(cv2.add(img, rng.integers(0, 4, img.shape, dtype=np.uint8)))
    return out


def tilted_clip(frame, n):
    """The print tilted back and forth about the vertical axis (a perspective warp)."""
    out = []
    h, w = frame.shape[:2]
    rng = np.random.default_rng(1)
    for i in range(n):
        ang = np.radians(40 * np.sin(2 * np.pi * i / 30))
        shrink = (w / 2) * (1 - np.cos(ang))
        dz = 0.25 * np.sin(ang)
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[shrink, h * max(0, -dz) / 2], [w - shrink, h * max(0, dz) / 2],
                          [w - shrink, h - h * max(0, dz) / 2], [shrink, h - h * max(0, -dz) / 2]])
        m = cv2.getPerspectiveTransform(src, dst)
        img = cv2.warpPerspective(frame, m, (w, h), borderValue=(90, 90, 90))
        out.append(cv2.add(img, rng.integers(0, 4, img.shape, dtype=np.uint8)))
    return out


def test_still_photo_clip_matches_identity_but_fails_liveness(engine, encode, obama_frame):
    settings = FaceSettings(challenge_timeout_s=6.0)
    session = FaceCheckSession(encode("fr_obama/obama2.jpg"), settings, engine=engine,
                               challenges=(Challenge.BLINK, Challenge.OPEN_MOUTH))
    result = run_frames(session, still_clip(obama_frame, 130), fps=FPS)
    assert not result.passed
    assert result.reason is Reason.CHALLENGE_NOT_DONE
    assert result.decision is Decision.MATCH and result.evidence.frames_used >= 1
    assert NextStep.ANOTHER_CHALLENGE in result.triage.next_steps


def test_tilted_photo_clip_fails(engine, encode, obama_frame):
    settings = FaceSettings(challenge_timeout_s=6.0)
    session = FaceCheckSession(encode("fr_obama/obama2.jpg"), settings, engine=engine,
                               challenges=(Challenge.TURN_LEFT, Challenge.BLINK))
    result = run_frames(session, still_clip(obama_frame, 8) + tilted_clip(obama_frame, 120), fps=FPS)
    assert not result.passed
    assert result.reason in (Reason.CHALLENGE_NOT_DONE, Reason.FLAT_PHOTO_SUSPECTED, Reason.FACE_LOST)
    assert "blink" not in result.evidence.challenges_done


def test_looped_frame_sequence_is_refused(engine, encode, obama_frame):
    clip = still_clip(obama_frame, 12)
    session = FaceCheckSession(encode("fr_obama/obama2.jpg"), engine=engine,
                               challenges=(Challenge.BLINK, Challenge.OPEN_MOUTH))
    result = run_frames(session, clip * 4, fps=FPS)
    assert not result.passed and result.reason is Reason.REPLAY_SUSPECTED


def test_other_person_on_camera_is_not_a_match(engine, encode, obama_frame):
    session = FaceCheckSession(encode("fr_biden/biden2.jpg"), FaceSettings(challenge_timeout_s=3.0),
                               engine=engine, challenges=(Challenge.BLINK, Challenge.OPEN_MOUTH))
    result = run_frames(session, still_clip(obama_frame, 80), fps=FPS)
    assert result.decision is Decision.NO_MATCH and not result.passed


def test_empty_scene_reports_no_face(engine, encode):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (240, 320, 3), dtype=np.uint8) for _ in range(20)]
    session = FaceCheckSession(encode("fr_obama/obama2.jpg"), engine=engine)
    result = run_frames(session, frames, fps=FPS)
    assert result.reason is Reason.NO_FACE and result.decision is None
    assert result.triage.advice_zh and result.triage.next_steps[-1] is NextStep.STAFF_ATTESTATION


def test_dark_scene_reports_too_dark(engine, encode, obama_frame):
    dark = [(f * 0.18).astype(np.uint8) for f in still_clip(obama_frame, 20)]
    session = FaceCheckSession(encode("fr_obama/obama2.jpg"), FaceSettings(find_face_timeout_s=1.0), engine=engine)
    result = run_frames(session, dark, fps=FPS)
    assert result.reason in (Reason.TOO_DARK, Reason.NO_FACE)


def test_two_people_in_view(engine, encode, faces_root):
    img = cv2.resize(load_image(faces_root / "_multi_face" / "two_people.jpg"), (640, 376))
    frames = still_clip(np.vstack([img, np.full((104, 640, 3), 90, np.uint8)]), 20)
    session = FaceCheckSession(encode("fr_obama/obama2.jpg"), FaceSettings(find_face_timeout_s=1.0), engine=engine)
    result = run_frames(session, frames, fps=FPS)
    assert result.reason is Reason.MULTIPLE_FACES
    assert "陪同" in result.triage.advice_zh


# ---------------------------------------------------------------- triage and the model loader
def test_triage_offers_re_enrolment_only_when_it_helps():
    assert NextStep.RE_ENROL not in triage(Reason.NOT_MATCHING).next_steps
    assert NextStep.RE_ENROL in triage(Reason.NOT_MATCHING, reference_is_old=True).next_steps
    assert NextStep.RE_ENROL in triage(Reason.NOT_MATCHING, failures=2).next_steps
    t = triage(Reason.CHALLENGE_NOT_DONE, failures=3)
    assert NextStep.RETRY_WITH_ADVICE not in t.next_steps and t.next_steps[-1] is NextStep.STAFF_ATTESTATION
    for reason in Reason:
        assert triage(reason).title_zh


def test_loader_turns_quit_into_import_error(monkeypatch):
    from desktop.face import models

    monkeypatch.setattr(models, "_module", None)
    monkeypatch.delitem(sys.modules, "face_recognition", raising=False)
    monkeypatch.delitem(sys.modules, "face_recognition.api", raising=False)

    def fake_import(name):
        raise SystemExit(0)   # what face_recognition does when face_recognition_models fails

    monkeypatch.setattr(models.importlib, "import_module", fake_import)
    with pytest.raises(ImportError) as err:
        models.load_face_recognition()
    assert err.value.code == "face_engine_exit" and err.value.message_zh


def test_loader_refuses_cpu_without_avx(monkeypatch):
    from desktop.face import models

    monkeypatch.setattr(models, "_module", None)
    monkeypatch.setattr(models, "cpu_has_avx", lambda: False)
    with pytest.raises(models.FaceModelsUnavailable) as err:
        models.load_face_recognition()
    assert err.value.code == "cpu_without_avx"


def test_stand_in_locates_models_without_pkg_resources():
    from desktop.face import models

    stub = models._stand_in(models.models_dir())
    assert stub.pose_predictor_model_location().endswith("shape_predictor_68_face_landmarks.dat")
    assert "pkg_resources" not in vars(stub)


def test_loader_in_a_fresh_interpreter_without_pkg_resources(tmp_path):
    """pkg_resources missing (setuptools >= 82): the app still loads the engine and never exits 0."""
    import subprocess

    code = (
        "import sys, builtins\n"
        "real = builtins.__import__\n"
        "def imp(name, *a, **k):\n"
        "    if name == 'pkg_resources' or name.startswith('pkg_resources.'):\n"
        "        raise ImportError('no pkg_resources')\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = imp\n"
        "from desktop.face.models import load_face_recognition\n"
        "fr = load_face_recognition()\n"
        "print('LOADED', hasattr(fr, 'face_encodings'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert out.returncode == 0 and "LOADED True" in out.stdout, out.stderr[-2000:]
