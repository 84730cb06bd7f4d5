"""Contracts for the station's other devices, like the reader's (idcard_contract.py): every camera
backend (a :class:`desktop.devices.cameras.base.FrameSource`) and every receipt printer backend
behaves the same way towards the counter (desktop/counter/station.py, ui/face_check_panel.py).

A camera subclass provides a ``camera`` fixture: an unstarted source that yields BGR frames. A
printer subclass provides a ``printer`` fixture (with ``.jobs``) and ``sent(printer) -> list`` of
what reached the destination."""

from __future__ import annotations

import time

import numpy as np
import pytest

from desktop.devices.cameras.base import Frame, FrameSource, FrameSourceError


class CameraContract:
    def test_is_a_frame_source_that_starts_and_stops(self, camera):
        assert isinstance(camera, FrameSource)
        assert camera.start() is camera and camera.running
        camera.stop()
        assert not camera.running
        camera.stop()  # idempotent

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


class PrinterContract:
    def test_prints_a_pdf_and_says_so_in_chinese(self, printer, pdf, sent):
        text = printer.print_file(pdf)
        assert text and any("\u4e00" <= ch <= "\u9fff" for ch in text)
        assert len(printer.jobs) == 1 and len(sent(printer)) == 1

    def test_has_a_queue(self, printer):
        assert printer.has_queue


def no_device_is_a_clear_error(make) -> None:
    """A backend whose device is missing refuses with a Chinese message, never a traceback."""
    with pytest.raises(FrameSourceError) as info:
        make().start()
    assert info.value.message_zh
