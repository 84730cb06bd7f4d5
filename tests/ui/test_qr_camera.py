"""收回登记 → 用摄像头扫描, offscreen: a real issued form, rendered to an image and photographed
(perspective, blur, uneven light, noise), played by an ArraySource as a webcam would deliver it."""

from __future__ import annotations

import threading
import time
from datetime import date

import cv2
import numpy as np
import pytest
import zxingcpp

from desktop.formats import scan
from desktop.devices.cameras import ArraySource, FrameSourceError
from desktop.domain.idnumber import make_number
from desktop.services.operators import OperatorService
from tests.ui.test_forms_page import ACTOR, TODAY, service  # noqa: F401 - the fixture
from ui import workers
from ui.dialogs.qr_camera_dialog import QrCameraDialog
from ui.pages.forms_page import FormsPage

pytestmark = pytest.mark.gui

FRAME_W, FRAME_H = 640, 480


def desk(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((FRAME_H, FRAME_W, 3), (70, 90, 110), np.uint8)
    return cv2.add(img, rng.integers(0, 12, img.shape, dtype=np.uint8))


def photographed(page_gray: np.ndarray, corners, seed: int) -> np.ndarray:
    """The part of the printed page around the QR, held up to a 640x480 webcam: tilted in
    perspective, out of focus, lit from one side, with sensor noise."""
    rng = np.random.default_rng(seed)
    pts = np.array(corners, np.float32)
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    side = x1 - x0
    m = side * 0.6  # some of the form around the code
    src = np.float32([[x0 - m, y0 - m], [x1 + m, y0 - m], [x1 + m, y1 + m], [x0 - m, y1 + m]])
    j = rng.uniform(-12, 12, (4, 2)).astype(np.float32)
    dst = np.float32([[170, 70], [490, 95], [475, 420], [150, 400]]) + j
    h = cv2.getPerspectiveTransform(src, dst)
    bgr = cv2.cvtColor(page_gray, cv2.COLOR_GRAY2BGR)
    out = cv2.warpPerspective(bgr, h, (FRAME_W, FRAME_H), borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    mask = cv2.warpPerspective(np.full(page_gray.shape, 255, np.uint8), h, (FRAME_W, FRAME_H))
    frame = np.where(mask[..., None] > 0, out, desk(seed))
    frame = cv2.GaussianBlur(frame, (0, 0), 1.1)
    light = np.tile(np.linspace(0.55, 1.0, FRAME_W, dtype=np.float32), (FRAME_H, 1))[..., None]
    frame = frame.astype(np.float32) * light + rng.normal(0, 4, frame.shape)
    return frame.clip(0, 255).astype(np.uint8)


@pytest.fixture
def issued(service, tmp_path):
    number = make_number("152202", date(1950, 1, 1), 1)
    res = service.issue(number, ACTOR, tmp_path / "one.pdf", today=date(2026, 11, 2))
    (_, page_gray), = scan.render_pdf_pages(res.pdf, dpi=150, pages=[0])
    (read,) = scan.decode_frame(page_gray)
    frames = [photographed(page_gray, read.corners, seed) for seed in range(6)]
    return number, res, read.text, frames


def test_webcam_frames_fill_the_form_and_the_form_is_received(qtbot, service, issued, tmp_path):
    number, res, payload, frames = issued
    # the frames really are hard: not every one decodes, but some do
    assert any(scan.find_payload(scan.decode_frame(f)) for f in frames)
    sources = []

    def camera():
        src = ArraySource([desk(i) for i in range(8)] + frames, pace_fps=30, loop=True)
        sources.append(src)
        return src.start()

    (tmp_path / "out").mkdir()
    page = FormsPage(service, ACTOR, TODAY, operators=OperatorService(service.db), output_dir=tmp_path / "out", camera_factory=camera)
    qtbot.addWidget(page)
    page.show()
    page.tabs.setCurrentIndex(1)
    page.set_expected_person(number)
    assert page.camera_button.isEnabled() and page.camera_button.text() == "用摄像头扫描"

    with qtbot.waitSignal(page.check_finished, timeout=30_000) as blocker:
        page.camera_button.click()
        dlg = page.camera_dialog
        qtbot.waitUntil(lambda: dlg.frames_painted > 0, timeout=5_000)
        assert dlg.isVisible()
    chk = blocker.args[0]
    assert chk.ok and chk.serial == res.serial and chk.qr_verified
    assert page.serial_edit.text() == payload and page.scan_edit.text() == ""
    assert "张秀兰" in page.verdict.text() and page.accept_button.isEnabled()
    # the dialog closed itself and let go of the camera
    assert not dlg.isVisible() and dlg.payload == payload and dlg.source is None
    qtbot.waitUntil(lambda: not sources[0].running, timeout=3_000)
    assert dlg.frames_decoded >= 1 and dlg.frames_painted >= dlg.frames_decoded
    assert page.camera_scan is not None and page.camera_scan.is_file()

    page.body_edit.setText("大连市沙河口区西安路街道社区服务中心")
    page.certifier_edit.setText("王芳")
    page.date_edit.setDate(page.date_edit.date().addDays(-4))
    with qtbot.waitSignal(page.receive_finished, timeout=20_000) as blocker:
        page.accept_button.click()
    got = blocker.args[0]
    assert got.accepted and got.serial == res.serial and got.flags == ()
    assert got.scan_path and got.scan_path.endswith(".png")  # the webcam frame is kept as the scan
    workers.wait_for_idle()


def test_decoding_is_off_the_gui_thread_one_at_a_time_dropping_frames(qtbot, issued):
    _number, _res, payload, frames = issued
    gui = threading.current_thread()
    lock = threading.Lock()
    state = {"running": 0, "max": 0, "threads": set(), "calls": 0}

    def slow_decode(image):
        with lock:
            state["running"] += 1
            state["max"] = max(state["max"], state["running"])
            state["threads"].add(threading.current_thread())
            state["calls"] += 1
        try:
            time.sleep(0.12)  # a slow machine: about 8 decodes a second against 60 frames
            return scan.decode_frame(image)
        finally:
            with lock:
                state["running"] -= 1

    src = ArraySource([desk(i) for i in range(40)] + frames * 4, pace_fps=60, loop=True)
    dlg = QrCameraDialog(lambda: src.start(), decode=slow_decode)
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.payload_found, timeout=30_000) as blocker:
        dlg.show()
    assert blocker.args[0] == payload and blocker.args[1].shape == (FRAME_H, FRAME_W, 3)
    assert state["max"] == 1 and gui not in state["threads"]
    assert dlg.frames_dropped > state["calls"]  # most frames were skipped, none queued up
    assert dlg.result() == QrCameraDialog.DialogCode.Accepted and not src.running


def test_other_qr_codes_are_ignored_and_a_missing_camera_is_reported(qtbot, issued):
    _number, _res, payload, frames = issued
    bc = zxingcpp.create_barcode("https://example.com/not-a-form", zxingcpp.BarcodeFormat.QRCode)
    other = cv2.resize(np.asarray(zxingcpp.write_barcode_to_image(bc, scale=8)), (240, 240),
                       interpolation=cv2.INTER_NEAREST)
    foreign = desk(1)
    foreign[120:360, 200:440] = cv2.cvtColor(other, cv2.COLOR_GRAY2BGR) if other.ndim == 2 else other[..., :3]
    src = ArraySource([foreign] * 20 + frames, pace_fps=30, loop=False)
    dlg = QrCameraDialog(lambda: src.start())
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.payload_found, timeout=30_000) as blocker:
        dlg.show()
        qtbot.waitUntil(lambda: dlg.foreign_codes >= 1, timeout=10_000)
        assert "不是本系统的认证表" in dlg.status.text() and dlg.isVisible()
    assert blocker.args[0] == payload

    def broken():
        raise FrameSourceError("无法打开摄像头，请检查连接或是否被其他程序占用")

    bad = QrCameraDialog(broken)
    qtbot.addWidget(bad)
    with qtbot.waitSignal(bad.camera_failed, timeout=5_000):
        bad.show()
    assert "摄像头不可用" in bad.preview.text() and "无法打开摄像头" in bad.preview.text()
    bad.reject()
    assert bad.source is None
