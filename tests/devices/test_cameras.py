"""Frame sources: newest-frame semantics, files, PNG sequences, demo-only simulation."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from desktop.devices.cameras import ArraySource, PngSequenceSource, SimulatedCamera, VideoFileSource
from desktop.devices.cameras.base import FrameSourceError


def _frames(n, w=64, h=48):
    return [np.full((h, w, 3), i * 10 % 255, np.uint8) for i in range(n)]


def test_slow_consumer_gets_the_newest_frame_and_drops_the_rest():
    with ArraySource(_frames(25), pace_fps=100) as src:
        first = src.wait_next(0, timeout=2)
        time.sleep(0.15)                         # a busy face engine
        newer = src.wait_next(first.index, timeout=2)
        assert newer.index > first.index + 3     # frames in between were dropped, not queued


def test_png_sequence_and_video_file(tmp_path):
    imgs = _frames(6)
    for i, img in enumerate(imgs):
        cv2.imwrite(str(tmp_path / f"f{i:03d}.png"), img)
    seq = list(PngSequenceSource(tmp_path).frames())
    assert len(seq) == 6 and int(seq[3][0, 0, 0]) == 30

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for img in imgs:
        writer.write(img)
    writer.release()
    src = VideoFileSource(video, pace_fps=200).start()
    try:
        deadline = time.monotonic() + 5
        while not src.ended and time.monotonic() < deadline:
            time.sleep(0.01)
        assert src.ended and src.latest().index == 6
    finally:
        src.stop()


def test_missing_video_is_a_clear_error(tmp_path):
    with pytest.raises(FrameSourceError):
        VideoFileSource(tmp_path / "none.mp4").start()


def test_simulated_camera_refuses_production(monkeypatch):
    from desktop.platform import runmode

    monkeypatch.setattr(runmode, "_override", "production")
    with pytest.raises(runmode.SimulationNotAllowed):
        SimulatedCamera()
    with pytest.raises(runmode.SimulationNotAllowed):
        ArraySource([])


def test_simulated_camera_moves_and_is_noisy():
    cam = SimulatedCamera(np.full((100, 100, 3), 120, np.uint8), size=(160, 120), pace_fps=200)
    with cam:
        a = cam.wait_next(0, 2)
        b = cam.wait_next(a.index, 2)
        assert a.image.shape == (120, 160, 3) and not np.array_equal(a.image, b.image)


def test_cameras_do_not_import_the_face_engine():
    import subprocess
    import sys

    code = "import sys, desktop.devices.cameras; print(any(m.startswith('desktop.face') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"


def test_simulated_camera_frames_are_cheap():
    """Fresh normal noise per 640x480 frame cost ~20 ms with the GIL held and starved the preview
    (bench_face.py); the noise bank keeps a frame to a few ms."""
    import time

    cam = SimulatedCamera(np.full((480, 640, 3), 120, np.uint8), size=(640, 480), noise=2.0)
    cam._read()
    times = []
    for _ in range(30):
        t = time.perf_counter()
        img = cam._read()
        times.append(time.perf_counter() - t)
    times.sort()
    assert times[len(times) // 2] < 0.008
    assert img.shape == (480, 640, 3) and img.dtype == np.uint8
    a, b = cam._read(), cam._read()
    assert not np.array_equal(a, b)                            # still noisy, frame to frame
    assert abs(float(a.astype(np.int16).mean()) - 120) < 1.0   # and zero-mean


def test_simulated_camera_can_be_unplugged_and_plugged_in_again():
    """Training mode turns the camera off: no frames (not an error), then frames again; stop() still
    returns at once while it is off."""
    import time

    cam = SimulatedCamera(np.full((100, 100, 3), 120, np.uint8), size=(160, 120), pace_fps=200).start()
    try:
        assert cam.wait_next(0, timeout=2.0) is not None
        cam.set_available(False)
        time.sleep(0.1)
        last = cam.latest().index
        time.sleep(0.3)
        assert cam.latest().index <= last + 1 and not cam.available and cam.error is None and not cam.ended
        cam.set_available(True)
        assert cam.wait_next(last + 1, timeout=2.0) is not None
        cam.set_available(False)
    finally:
        t = time.perf_counter()
        cam.stop()
        assert time.perf_counter() - t < 1.0
