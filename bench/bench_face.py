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

    # preview fps while the engine is busy on another thread
    cam = SimulatedCamera(base, pace_fps=30).start()
    stop = threading.Event()

    def busy():
        last = 0
        while not stop.is_set():
            fr = cam.wait_next(last, 0.5)
            if fr is None:
                continue
            last = fr.index
            obs = tracker.observe(fr.image)
            if obs.good:
                engine.encode_rgb(to_rgb(fr.image), obs.box)

    worker = threading.Thread(target=busy, daemon=True)
    worker.start()
    painted, last, t = 0, 0, time.perf_counter()
    while time.perf_counter() - t < 3.0:
        fr = cam.latest()
        if fr is not None and fr.index != last:
            last = fr.index
            painted += 1
            cv2.resize(fr.image[:, ::-1], (960, 720))  # stands in for the mirrored paint
        time.sleep(0.005)
    fps = painted / (time.perf_counter() - t)
    stop.set()
    worker.join(2)
    cam.stop()
    print(f"preview while engine busy: {fps:.1f} frames/s (camera 30 fps)")
    print(f"peak RSS: {rss_mb():.0f} MiB")


if __name__ == "__main__":
    main()
