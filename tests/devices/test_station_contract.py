"""Every camera and receipt-printer backend the station builds passes the same contract
(tests/devices/station_contract.py): the simulated camera and the in-memory source, PNG sequences
and video files, the webcam (refuses clearly when there is none); the demo printer and the system
queue (a fake CUPS ``lp`` on PATH)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from desktop.counter.demo_face import demo_face
from desktop.counter.station import ReceiptPrinter
from desktop.devices.cameras import ArraySource, PngSequenceSource, SimulatedCamera, VideoFileSource
from tests import fake_lp
from tests.devices.station_contract import CameraContract, PrinterContract, no_device_is_a_clear_error


def _frames(n=40, w=64, h=48):
    return [np.full((h, w, 3), (i * 7) % 255, np.uint8) for i in range(n)]


class TestSimulatedCamera(CameraContract):
    @pytest.fixture
    def camera(self):
        return SimulatedCamera(demo_face(), pace_fps=60)


class TestArraySource(CameraContract):
    @pytest.fixture
    def camera(self):
        return ArraySource(_frames(), pace_fps=60, loop=True)


class TestPngSequence(CameraContract):
    @pytest.fixture
    def camera(self, tmp_path):
        for i, img in enumerate(_frames(12)):
            cv2.imwrite(str(tmp_path / f"f{i:03d}.png"), img)
        return PngSequenceSource(tmp_path, pace_fps=60, loop=True)


class TestVideoFile(CameraContract):
    @pytest.fixture
    def camera(self, tmp_path):
        video = tmp_path / "clip.avi"
        writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
        for img in _frames(12):
            writer.write(img)
        writer.release()
        return VideoFileSource(video, pace_fps=60, loop=True)


def test_a_webcam_that_is_not_there_refuses_in_chinese():
    from desktop.devices.cameras import WebcamSource

    no_device_is_a_clear_error(lambda: WebcamSource(97))


@pytest.fixture
def pdf(tmp_path):
    path = tmp_path / "receipt.pdf"
    path.write_bytes(b"%PDF-1.4\n%%EOF\n")
    return path


class TestDemoPrinter(PrinterContract):
    @pytest.fixture
    def printer(self):
        return ReceiptPrinter(dry_run=True)

    @pytest.fixture
    def sent(self):
        return lambda printer: printer.jobs  # the demo counts its jobs and sends nothing


class TestSystemQueue(PrinterContract):
    @pytest.fixture
    def printer(self, tmp_path, monkeypatch):
        self.log = fake_lp.install(tmp_path, monkeypatch)
        return ReceiptPrinter("柜台打印机")

    @pytest.fixture
    def sent(self):
        return lambda printer: fake_lp.calls(self.log)
