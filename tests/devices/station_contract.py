"""Contracts for the station's other devices, like the reader's (idcard_contract.py): every camera
backend (a :class:`desktop.devices.cameras.base.FrameSource`) and every receipt printer backend
behaves the same way towards the counter (desktop/counter/station.py, ui/face_check_panel.py).

A camera subclass sets ``backend`` (the class under test) and provides two fixtures: ``camera``,
an unstarted source that yields BGR frames, and ``unavailable``, a zero-argument callable that
builds and starts the backend where it must refuse — a device backend pointed at a device that is
not there, a simulation in production mode. A printer subclass provides ``printer`` (with
``.jobs``), ``sent(printer) -> list`` of what reached the destination, and ``unavailable`` (builds
the printer where it must refuse and prints a PDF with it).

What every backend promises:

* open and close: ``start()`` returns the source, ``stop()`` ends the capture and releases the
  device (idempotent), and the source opens again (the counter reopens it for every resident);
* frames: BGR uint8 images with growing indexes, the newest only (never a queue), a timeout is
  ``None``, not an error; pages: a PDF goes to the destination and the clerk is told in Chinese;
* a missing device (no webcam, no file, no print queue, an unknown printer) is refused with a
  message in Chinese, never a traceback;
* a simulation (the simulated camera, the in-memory source, the demo printer) refuses outside
  demo and test mode: a replayed face must never certify anyone at a real counter.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from desktop.devices.cameras.base import Frame, FrameSource, FrameSourceError
from desktop.platform import runmode
from desktop.platform.runmode import SimulationNotAllowed
from desktop.printing.spool import PrintError


def chinese(text: str | None) -> bool:
    return bool(text) and any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def production(monkeypatch):
    """Production run mode for the duration of a test (tests run in test mode)."""
    monkeypatch.setattr(runmode, "_override", runmode.PRODUCTION)


class CameraContract:
    backend: type[FrameSource]
    simulated = False  # a simulation: refused outside demo/test (else a device that can be missing)

    def test_is_the_backend_and_starts_and_stops(self, camera):
        assert isinstance(camera, FrameSource) and type(camera) is self.backend
        assert camera.start() is camera and camera.running
        camera.stop()
        assert not camera.running
        camera.stop()  # idempotent

    def test_stop_releases_the_device_and_it_opens_again(self, camera):
        with camera:
            first = camera.wait_next(0, timeout=3)
        assert first is not None and not camera.running
        assert camera.ended  # the capture loop finished and closed the device
        with camera:  # the counter opens the camera again for the next resident
            assert camera.wait_next(first.index, timeout=3) is not None

    def test_frames_are_bgr_images_with_growing_indexes(self, camera):
        with camera:
            first = camera.wait_next(0, timeout=3)
            second = camera.wait_next(first.index, timeout=3)
        assert isinstance(first, Frame) and second.index > first.index
        img = first.image
        assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
        assert first.size == (img.shape[1], img.shape[0])

    def test_the_newest_frame_only(self, camera):
        """A busy face engine gets the newest frame, not a queue (docs/face.md)."""
        with camera:
            first = camera.wait_next(0, timeout=3)
            time.sleep(0.2)
            newer = camera.wait_next(first.index, timeout=3)
            assert camera.latest().index >= newer.index > first.index

    def test_wait_next_times_out_with_none_not_an_error(self, camera):
        with camera:
            frame = camera.wait_next(0, timeout=3)
            assert camera.wait_next(frame.index + 10_000, timeout=0.05) is None

    def test_unavailable_is_refused_in_chinese(self, unavailable):
        expected = SimulationNotAllowed if self.simulated else FrameSourceError
        with pytest.raises(expected) as info:
            unavailable()
        assert chinese(info.value.message_zh)


class PrinterContract:
    simulated = False  # the demo printer: refused outside demo/test

    def test_prints_a_pdf_and_says_so_in_chinese(self, printer, pdf, sent):
        text = printer.print_file(pdf)
        assert chinese(text)
        assert len(printer.jobs) == 1 and len(sent(printer)) == 1

    def test_has_a_queue(self, printer):
        assert printer.has_queue

    def test_a_missing_file_is_refused_in_chinese_and_nothing_is_sent(self, printer, sent, tmp_path):
        with pytest.raises(PrintError) as info:
            printer.print_file(tmp_path / "gone.pdf")
        assert chinese(info.value.message_zh)
        assert printer.jobs == [] and sent(printer) == []

    def test_unavailable_is_refused_in_chinese(self, unavailable):
        expected = SimulationNotAllowed if self.simulated else PrintError
        with pytest.raises(expected) as info:
            unavailable()
        assert chinese(info.value.message_zh)

