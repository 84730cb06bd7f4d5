"""A printed form photographed badly (rotated, perspective, blurred, uneven light, noisy JPEG)
is still read, and its signature still verifies."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from desktop.formats import qrsign, scan
from desktop.printing.assist_form import render_form

from .conftest import render_page


@pytest.fixture
def page(tmp_path, forms, bureau):
    out = tmp_path / "one.pdf"
    render_form(forms[0], bureau, out)
    return out, forms[0]


def photograph(gray: np.ndarray, *, angle: float, blur: float, light: float, seed: int = 1,
               perspective: float = 0.06) -> np.ndarray:
    """Simulate a phone photo of the printed page on a desk, as a BGR image."""
    rng = np.random.default_rng(seed)
    h, w = gray.shape
    canvas = np.full((int(h * 1.3), int(w * 1.3)), 90, np.uint8)  # a dark desk
    oy, ox = (canvas.shape[0] - h) // 2, (canvas.shape[1] - w) // 2
    canvas[oy:oy + h, ox:ox + w] = gray
    H, W = canvas.shape
    src = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
    d = perspective
    dst = np.float32([[W * d, H * d * 0.5], [W * (1 - d * 0.3), 0], [W, H], [0, H * (1 - d * 0.4)]])
    img = cv2.warpPerspective(canvas, cv2.getPerspectiveTransform(src, dst), (W, H),
                              borderValue=90)
    rot = cv2.getRotationMatrix2D((W / 2, H / 2), angle, 0.85)
    img = cv2.warpAffine(img, rot, (W, H), borderValue=90)
    img = cv2.GaussianBlur(img, (0, 0), blur)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    shade = 1.0 - light * (xx / W * 0.7 + yy / H * 0.3)  # a lamp on the left
    shade *= 1.0 - 0.25 * (((xx - W * 0.3) / W) ** 2 + ((yy - H * 0.2) / H) ** 2)  # vignette
    img = img.astype(np.float32) * shade + rng.normal(0, 5, img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    bgr[..., 2] = np.clip(bgr[..., 2].astype(np.int16) + 12, 0, 255)  # warm light
    return bgr


@pytest.mark.parametrize("angle, blur, light", [(9, 1.2, 0.45), (-23, 1.8, 0.55), (95, 1.0, 0.3),
                                                (178, 1.5, 0.5)])
def test_photographed_form_is_read_and_verified(tmp_path, page, key_provider, angle, blur, light):
    pdf, form = page
    photo = photograph(render_page(pdf, 0, dpi=200), angle=angle, blur=blur, light=light)
    path = tmp_path / "photo.jpg"
    assert cv2.imwrite(str(path), photo, [cv2.IMWRITE_JPEG_QUALITY, 55])
    reads = scan.decode_file(path)
    hit = scan.find_payload(reads)
    assert hit is not None and hit.text == form.qr_payload
    res = qrsign.verify(hit.text, key_provider)
    assert res.ok and res.serial == form.serial
    assert res.matches_id(form.id_number, key_provider)


def test_png_tiff_and_webcam_frame(tmp_path, page):
    pdf, form = page
    gray = render_page(pdf, 0, dpi=150)
    for ext in ("png", "tif"):
        p = tmp_path / f"scan.{ext}"
        cv2.imwrite(str(p), gray)
        assert [r.text for r in scan.decode_file(p)] == [form.qr_payload]
    frame = cv2.cvtColor(cv2.resize(gray, None, fx=0.55, fy=0.55, interpolation=cv2.INTER_AREA),
                         cv2.COLOR_GRAY2BGR)  # a webcam-sized BGR frame
    assert scan.decode_frame(frame, first_only=True)[0].text == form.qr_payload


def test_transparent_background_is_composited_on_white(page):
    pdf, form = page
    gray = render_page(pdf, 0, dpi=150)
    # what a renderer without a fill colour gives: black ink, alpha = coverage, RGB = 0
    bgra = np.zeros((*gray.shape, 4), np.uint8)
    bgra[..., 3] = 255 - gray
    assert [r.text for r in scan.decode_frame(bgra)] == [form.qr_payload]


def test_scanned_pdf_page(tmp_path, page):
    """A scanner's PDF (an image inside a PDF) is rendered on white and read."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    pdf, form = page
    gray = render_page(pdf, 0, dpi=150)
    png = tmp_path / "scan.png"
    cv2.imwrite(str(png), cv2.GaussianBlur(gray, (0, 0), 0.8))
    scanned = tmp_path / "scanner.pdf"
    c = Canvas(str(scanned), pagesize=A4)
    c.drawImage(ImageReader(str(png)), 0, 0, *A4)
    c.showPage()
    c.save()
    hit = scan.find_payload(scan.decode_file(scanned, first_only=True))
    assert hit is not None and hit.text == form.qr_payload


def test_blank_and_bad_inputs(tmp_path):
    blank = np.full((600, 400), 255, np.uint8)
    assert scan.decode_frame(blank) == []
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(scan.ScanError) as ei:
        scan.decode_file(bad)
    assert ei.value.code == "bad_image"
    with pytest.raises(scan.ScanError) as ei:
        scan.decode_file(tmp_path / "missing.png")
    assert ei.value.code == "file_not_found"


def test_forged_qr_on_a_real_looking_form_is_refused(tmp_path, forms, bureau, key_provider):
    """Someone edits the QR (reprints it with a later deadline, signed with another key)."""
    from dataclasses import replace
    from datetime import date

    forged_payload = qrsign.make_payload(forms[0].serial, forms[0].id_number, date(2027, 12, 31),
                                         qrsign.static_key_provider(b"attacker-key-0123456789"))
    out = tmp_path / "forged.pdf"
    render_form(replace(forms[0], qr_payload=forged_payload), bureau, out)
    hit = scan.find_payload(scan.decode_file(out))
    assert hit is not None
    res = qrsign.verify(hit.text, key_provider)
    assert not res.ok and res.reason == "bad_signature"
