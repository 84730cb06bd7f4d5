"""Every camera and receipt-printer backend the station can build passes the same contract
(tests/devices/station_contract.py): the simulated camera and the in-memory source, PNG sequences
and video files, the webcam (its frames only where one is plugged in; its refusal everywhere);
the demo printer and the system queue (a fake CUPS ``lp`` on PATH, the true boundary)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import desktop.devices.cameras as cameras
from desktop.counter.demo_face import demo_face
from desktop.counter.station import ReceiptPrinter
from desktop.devices.cameras import (
    ArraySource,
    FrameSource,
    PngSequenceSource,
    SimulatedCamera,
    VideoFileSource,
    WebcamSource,
    list_webcams,
)
from tests import fake_lp
from tests.devices.station_contract import CameraContract, PrinterContract, production  # noqa: F401  (a fixture)


def _frames(n=40, w=64, h=48):
    return [np.full((h, w, 3), (i * 7) % 255, np.uint8) for i in range(n)]


def _video(path, n=12):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for img in _frames(n):
        writer.write(img)
    writer.release()
    return path


class TestSimulatedCamera(CameraContract):
    backend, simulated = SimulatedCamera, True

    @pytest.fixture
    def camera(self):
        return SimulatedCamera(demo_face(), pace_fps=60)

    @pytest.fixture
    def unavailable(self, production):
        return lambda: SimulatedCamera(demo_face(), pace_fps=60).start()


class TestArraySource(CameraContract):
    backend, simulated = ArraySource, True

    @pytest.fixture
    def camera(self):
        return ArraySource(_frames(), pace_fps=60, loop=True)

    @pytest.fixture
    def unavailable(self, production):
        return lambda: ArraySource(_frames(), pace_fps=60, loop=True).start()


class TestPngSequence(CameraContract):
    backend = PngSequenceSource

    @pytest.fixture
    def camera(self, tmp_path):
        for i, img in enumerate(_frames(12)):
            cv2.imwrite(str(tmp_path / f"f{i:03d}.png"), img)
        return PngSequenceSource(tmp_path, pace_fps=60, loop=True)

    @pytest.fixture
    def unavailable(self, tmp_path):
        (tmp_path / "empty").mkdir()
        return lambda: PngSequenceSource(tmp_path / "empty", pace_fps=60).start()


class TestVideoFile(CameraContract):
    backend = VideoFileSource

    @pytest.fixture
    def camera(self, tmp_path):
        return VideoFileSource(_video(tmp_path / "clip.avi"), pace_fps=60, loop=True)

    @pytest.fixture
    def unavailable(self, tmp_path):
        return lambda: VideoFileSource(tmp_path / "gone.avi", pace_fps=60).start()


class TestWebcam(CameraContract):
    backend = WebcamSource

    @pytest.fixture
    def camera(self):
        found = list_webcams()
        if not found:
            pytest.skip("no webcam on this machine: the webcam's frames are checked where one is plugged in")
        return WebcamSource(found[0]["index"])

    @pytest.fixture
    def unavailable(self):
        return lambda: WebcamSource(97).start()


def test_every_camera_backend_has_its_contract_class():
    """A new frame source exported by desktop.devices.cameras must join the contract."""
    exported = {obj for name in cameras.__all__ if isinstance(obj := getattr(cameras, name), type)
                and issubclass(obj, FrameSource) and obj is not FrameSource}
    covered = {cls.backend for cls in CameraContract.__subclasses__()}
    assert exported == covered


@pytest.fixture
def pdf(tmp_path):
    path = tmp_path / "receipt.pdf"
    path.write_bytes(b"%PDF-1.4\n%%EOF\n")
    return path


class TestDemoPrinter(PrinterContract):
    simulated = True

    @pytest.fixture
    def printer(self):
        return ReceiptPrinter(dry_run=True)

    @pytest.fixture
    def sent(self):
        return lambda printer: printer.jobs  # the demo counts its jobs and sends nothing

    @pytest.fixture
    def unavailable(self, production, pdf):
        return lambda: ReceiptPrinter(dry_run=True).print_file(pdf)


class TestSystemQueue(PrinterContract):
    @pytest.fixture
    def printer(self, tmp_path, monkeypatch):
        self.log = fake_lp.install(tmp_path, monkeypatch)
        return ReceiptPrinter("柜台打印机")

    @pytest.fixture
    def sent(self):
        return lambda printer: fake_lp.calls(self.log)

    @pytest.fixture
    def unavailable(self, tmp_path, monkeypatch, pdf):
        # the named printer is not there: CUPS says so, the clerk reads it in Chinese
        fake_lp.install(tmp_path, monkeypatch, fail="lp: The printer or class does not exist.")
        return lambda: ReceiptPrinter("窗口9").print_file(pdf)


def test_no_print_queue_at_all_is_refused_in_chinese(tmp_path, monkeypatch, pdf):
    import shutil

    from desktop.printing.spool import PrintError

    if shutil.which("lp") is not None:
        monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    with pytest.raises(PrintError) as info:
        ReceiptPrinter("").print_file(pdf)
    assert info.value.code == "no_print_queue" and "打印队列" in info.value.message_zh
