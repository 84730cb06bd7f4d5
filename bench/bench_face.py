"""Face-check benchmark (prints numbers; not a timed test).

uv run python bench/bench_face.py [PHOTO]
Reports: per-frame tracking time, first face -> decision time (without the resident's reaction
time: challenge frames are scripted), preview frame rate while the engine is busy, resident memory.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("CERTDESK_MODE", "test")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from desktop.devices.cameras import SimulatedCamera  # noqa: E402
from desktop.face.detect import FaceEngine, FaceTracker  # noqa: E402
from desktop.face.reference import encode_single_face, load_image  # noqa: E402
from desktop.face.settings import FaceSettings  # noqa: E402

FACES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "faces"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def frame_640(path: Path) -> np.ndarray:
    img = load_image(path)
    s = 480 / img.shape[0]
    img = cv2.resize(img, (int(img.shape[1] * s), 480))
    canvas = np.full((480, 640, 3), 90, np.uint8)
    x0 = max(0, (640 - img.shape[1]) // 2)
    canvas[:, x0:x0 + min(640, img.shape[1])] = img[:, :640]
    return canvas


def pin_one_core() -> bool:
    """The target is 'on one core': pin this process (and the encoder child it spawns) to one CPU."""
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        return True
    except (AttributeError, OSError):
        return False


class LegacySimulatedCamera(SimulatedCamera):
    """The simulated camera as it was: fresh normal noise per frame (~20 ms with the GIL held)."""

    def _read(self):
        self._n += 1
        dx = 3.0 * np.sin(self._n / 15.0)
        m = np.float32([[1, 0, dx], [0, 1, 0]])
        img = cv2.warpAffine(self.image, m, (self.image.shape[1], self.image.shape[0]), borderMode=cv2.BORDER_REPLICATE)
        return cv2.add(img, self._rng.normal(0, self.noise, img.shape).astype(np.int16).clip(0, 255).astype(np.uint8))


CHILD_RSS = [0.0]


def preview_fps(base, ref, *, offload: bool, legacy_camera: bool, workload: str, seconds: float = 4.0):
    """Frames painted per second by FaceCheckPanel (+ ResidentScreen) while the face work runs.

    workload "session": a real FaceCheckSession on the panel's worker (tracking every frame, its
    few encodings; the still photo never blinks, so it stays busy in the challenge phase).
    workload "stress": tracking every frame and encoding every good one (the old bench's loop).
    """
    import tempfile

    from PySide6.QtWidgets import QApplication

    from desktop.face.encoder import ProcessEncoder
    from desktop.face.session import FaceCheckSession
    from ui.face_check_panel import FaceCheckPanel
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    app = QApplication.instance() or QApplication([])
    encoder = ProcessEncoder().start() if offload else None
    engine = FaceEngine(encoder=encoder)
    engine.warm_up()
    cam = (LegacySimulatedCamera if legacy_camera else SimulatedCamera)(base, pace_fps=30).start()
    resident = ResidentScreen(PromptSpeaker(use_tts=False, audio_dir=Path(tempfile.mkdtemp())))
    resident.resize(960, 720)
    resident.show()
    session_box = {}

    def factory():
        session_box["s"] = FaceCheckSession(ref, FaceSettings(challenge_timeout_s=60), engine=engine,
                                            challenges=None)
        return session_box["s"]

    panel = FaceCheckPanel(cam, factory, resident_screen=resident)
    panel.resize(900, 500)
    panel.show()
    stop = threading.Event()
    encoded = [0]

    def stress():
        tracker = FaceTracker(engine, FaceSettings())
        last = 0
        while not stop.is_set():
            fr = cam.wait_next(last, 0.5)
            if fr is None:
                continue
            last = fr.index
            obs = tracker.observe(fr.image)
            if obs.good:
                engine.encode_rgb(to_rgb(fr.image), obs.box)
                encoded[0] += 1

    from desktop.face.detect import to_rgb

    worker = None
    if workload == "session":
        panel.start_check()
    elif workload == "stress":
        worker = threading.Thread(target=stress, daemon=True)
        worker.start()
    deadline = time.perf_counter() + 0.5
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.002)
    painted0, cam0, t = panel.frames_painted, cam.latest().index, time.perf_counter()
    while time.perf_counter() - t < seconds:
        app.processEvents()
        time.sleep(0.002)
    elapsed = time.perf_counter() - t
    fps = (panel.frames_painted - painted0) / elapsed
    cam_fps = (cam.latest().index - cam0) / elapsed
    stop.set()
    if workload == "session":
        session_box["s"].request("cancel")
    panel.stop()
    if worker is not None:
        worker.join(5)
    cam.stop()
    if workload == "session":
        encoded[0] = len(session_box["s"]._encodings)
    panel.deleteLater()
    resident.deleteLater()
    app.processEvents()
    if encoder is not None:
        try:
            status = Path(f"/proc/{encoder.pid}/status").read_text()
            CHILD_RSS[0] = max(CHILD_RSS[0], int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]) / 1024)
        except (OSError, StopIteration, ValueError):
            pass
        encoder.close()
    return fps, cam_fps, encoded[0]


def main() -> None:
    photo = Path(sys.argv[1]) if len(sys.argv) > 1 else FACES / "fr_obama" / "obama.jpg"
    t0 = time.perf_counter()
    engine = FaceEngine()
    engine.warm_up()
    print(f"model load: {time.perf_counter() - t0:.2f} s, RSS {rss_mb():.0f} MiB")
    base = frame_640(photo)
    rng = np.random.default_rng(0)
    frames = []
    for i in range(60):
        m = np.float32([[1, 0, 3 * np.sin(i / 6)], [0, 1, 0]])
        frames.append(cv2.add(cv2.warpAffine(base, m, (640, 480)), rng.integers(0, 4, base.shape, dtype=np.uint8)))

    tracker = FaceTracker(engine, FaceSettings())
    times = []
    for f in frames:
        t = time.perf_counter()
        tracker.observe(f)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"tracking per 640x480 frame: median {statistics.median(times):.1f} ms, p90 {times[int(len(times) * .9)]:.1f} ms")

    # first face -> decision: find face, 5 baseline frames, 3 encodings, decision (challenges excluded)
    ref = encode_single_face(engine, load_image(FACES / "fr_obama" / "obama2.jpg"))
    from desktop.face.compare import decide, median_distance
    from desktop.face.detect import to_rgb

    tracker.reset()
    t = time.perf_counter()
    encs = []
    for f in frames:
        obs = tracker.observe(f)
        if obs.good:
            encs.append(engine.encode_rgb(to_rgb(f), obs.box))
        if len(encs) >= 3:
            break
    d, _ = median_distance(encs, ref)
    print(f"first face -> decision ({decide(d).value}, d={d:.3f}): {(time.perf_counter() - t) * 1000:.0f} ms "
          "(tracking + 3 encodings; the resident's challenge time comes on top)")

    # preview fps while the engine is busy: the real clerk panel + resident screen painting on the
    # GUI thread (offscreen Qt), the camera on its thread, the face work on a worker, all on ONE core.
    print(f"RSS before preview: {rss_mb():.0f} MiB (single core: {pin_one_core()})")
    for label, offload, legacy_cam in (("before: in-process encoding, old simulated camera", False, True),
                                       ("after: encoder process, cheap simulated camera", True, False)):
        for workload in (("idle", "session", "stress") if offload else ("session", "stress")):
            fps, cam_fps, encoded = preview_fps(base, ref, offload=offload,
                                                legacy_camera=legacy_cam, workload=workload)
            print(f"preview while engine busy [{label}; {workload}]: {fps:.1f} frames/s painted "
                  f"(camera delivered {cam_fps:.1f}/s, {encoded} encodings)")
    print(f"peak RSS: {rss_mb():.0f} MiB in this process, {CHILD_RSS[0]:.0f} MiB in the encoder process")


if __name__ == "__main__":
    main()
