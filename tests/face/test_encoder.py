"""The encoder process: same encodings as in-process, and the GIL stays free while it works
(the preview starved at 6-8 frames/s when dlib's ResNet ran on a thread of the GUI process)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from desktop.face.detect import FaceEngine, to_rgb
from desktop.face.encoder import ProcessEncoder
from desktop.face.reference import load_image


@pytest.fixture(scope="module")
def encoder():
    enc = ProcessEncoder().start()
    yield enc
    enc.close()
    assert not enc.alive


@pytest.fixture(scope="module")
def obama(engine, faces_root):
    rgb = to_rgb(load_image(faces_root / "fr_obama" / "obama.jpg"))
    return rgb, engine.find_faces(rgb)[0]


def test_process_encoding_equals_in_process(engine, encoder, obama):
    rgb, box = obama
    local = engine.encode_rgb(rgb, box)
    off = FaceEngine(engine._loader, encoder=encoder)
    remote = off.encode_rgb(rgb, box)
    assert off.encoder is encoder and encoder.encoded >= 1     # it really went to the child
    assert np.abs(local - remote).max() < 1e-6


def _ticks_while(fn, seconds=1.0):
    """How often a pure-Python thread gets the GIL while ``fn`` runs in a loop on this thread."""
    count, stop = [0], threading.Event()

    def tick():
        while not stop.is_set():
            count[0] += 1
            time.sleep(0.001)

    th = threading.Thread(target=tick)
    th.start()
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        fn()
    stop.set()
    th.join()
    return count[0] / (time.perf_counter() - t)


def test_encoding_in_the_child_leaves_the_gil_free(engine, encoder, obama):
    import dlib

    rgb, box = obama
    shape = engine.fr.api.pose_predictor_68_point(rgb, dlib.rectangle(box.left, box.top, box.right, box.bottom))
    chip = dlib.get_face_chip(rgb, shape, size=150, padding=0.25)
    in_process = _ticks_while(lambda: engine.fr.api.face_encoder.compute_face_descriptor(chip))
    offloaded = _ticks_while(lambda: encoder.encode_chip(chip))
    # in-process dlib holds the GIL ~110 ms per call: the ticker starves (~10/s measured)
    assert in_process < 60
    assert offloaded > 3 * max(in_process, 20)


def test_dead_child_falls_back_to_in_process(engine, obama):
    rgb, box = obama
    enc = ProcessEncoder().start()
    enc._proc.kill()
    enc._proc.join(5)
    enc._start_locked = lambda: None   # no restart: the engine must fall back, not fail the check
    off = FaceEngine(engine._loader, encoder=enc)
    vec = off.encode_rgb(rgb, box)
    assert vec.shape == (128,) and off.encoder is None
    enc._kill_locked()
