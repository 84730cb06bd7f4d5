"""The 128-d face encoding in a child process, so it cannot starve the preview.

Measured (bench/bench_face.py, docs/face.md): dlib's ``compute_face_descriptor`` holds the Python
GIL for its whole ~110 ms, so while a worker thread encodes, the GUI thread cannot paint; HOG
detection and ``get_face_chip`` mostly release it, the 68-point shape predictor runs ~1 ms. So the
worker thread keeps tracking, landmarks and the aligned 150x150 face chip (``dlib.get_face_chip``,
the same alignment ``compute_face_descriptor(img, shape)`` does inside: identical encodings) and
only the chip (67 KB) goes to a child process that runs the ResNet on it.

The child imports ``dlib`` alone (not face_recognition: no ``pkg_resources`` trap) and loads only
``dlib_face_recognition_resnet_model_v1.dat`` (~22 MB). It is started with the ``spawn`` method on
every platform (the frozen app calls ``multiprocessing.freeze_support()``); if it cannot start or
dies, :class:`desktop.face.detect.FaceEngine` falls back to encoding in-process (slower preview,
same results). Images never leave the machine and are never logged.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CHIP_SIZE = 150
CHIP_PADDING = 0.25


class EncoderUnavailable(RuntimeError):
    pass


def _serve(conn, model_path: str) -> None:  # pragma: no cover - runs in the child process
    import dlib

    net = dlib.face_recognition_model_v1(model_path)
    conn.send(("ready", None))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        shape, jitters, data = msg
        try:
            chip = np.frombuffer(data, dtype=np.uint8).reshape(shape)
            desc = net.compute_face_descriptor(np.ascontiguousarray(chip), int(jitters))
            conn.send(("ok", np.asarray(desc, dtype=np.float64).tobytes()))
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            conn.send(("error", repr(exc)))


class ProcessEncoder:
    """One child process with the ResNet model; :meth:`encode_chip` is thread-safe (serialised).

    Waiting on the pipe releases the GIL, so the GUI thread paints while the child computes.
    """

    def __init__(self, model_path: str | Path | None = None, *, start_timeout: float = 60.0):
        if model_path is None:
            from desktop.face.models import MODEL_FILES, models_dir

            model_path = models_dir() / MODEL_FILES["face_recognition_model_location"]
        self.model_path = str(model_path)
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._proc = None
        self._conn = None
        self.encoded = 0

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> "ProcessEncoder":
        with self._lock:
            self._start_locked()
        return self

    def _start_locked(self) -> None:
        if self.alive:
            return
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child, self.model_path), name="certdesk-face-encoder",
                           daemon=True)
        proc.start()
        child.close()
        if not parent.poll(self.start_timeout):
            proc.kill()
            raise EncoderUnavailable("face encoder process did not start")
        try:
            status, _ = parent.recv()
        except EOFError:
            status = "died"
        if status != "ready":
            proc.kill()
            raise EncoderUnavailable(f"face encoder process failed to start ({status})")
        self._proc, self._conn = proc, parent

    def encode_chip(self, chip: np.ndarray, num_jitters: int = 1, timeout: float = 30.0) -> np.ndarray:
        chip = np.ascontiguousarray(chip, dtype=np.uint8)
        with self._lock:
            self._start_locked()
            try:
                self._conn.send((chip.shape, num_jitters, chip.tobytes()))
                if not self._conn.poll(timeout):
                    raise EncoderUnavailable("face encoder process timed out")
                status, payload = self._conn.recv()
            except (EOFError, OSError, BrokenPipeError) as exc:
                self._kill_locked()
                raise EncoderUnavailable(f"face encoder process died: {exc!r}") from None
            except EncoderUnavailable:
                self._kill_locked()
                raise
        if status != "ok":
            raise EncoderUnavailable(f"face encoder failed: {payload}")
        self.encoded += 1
        return np.frombuffer(payload, dtype=np.float64).copy()

    def _kill_locked(self) -> None:
        proc, conn, self._proc, self._conn = self._proc, self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass
        if proc is not None and proc.is_alive():
            proc.kill()
            proc.join(2)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(None)
                except (OSError, BrokenPipeError):
                    pass
            if self._proc is not None:
                self._proc.join(2)
            self._kill_locked()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
