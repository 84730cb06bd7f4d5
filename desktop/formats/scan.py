"""Read QR codes from scans, photographs, webcam frames and PDF pages (zxing-cpp) — Qt-free.

zxing-cpp is tried first on the image as it is (it binarises locally and tries rotations); when it
finds nothing, the image is normalised for uneven lighting (divided by a heavily blurred copy),
contrast-stretched, sharpened, rescaled and thresholded, and each variant is tried in turn. A PDF page
is rendered by pdfium onto an opaque WHITE background (a transparent page decodes as black).
Nothing here logs the decoded text (it identifies a person's form).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np
import zxingcpp

PDF_DPI = 200
MAX_SIDE = 2600  # larger photographs are scaled down first (phones give 4000+ px)


@dataclass(frozen=True, slots=True)
class QrRead:
    text: str
    corners: tuple[tuple[int, int], ...]  # in the coordinates of the image that was searched
    variant: str  # which preprocessing found it ("raw", "flat", ...), for diagnostics


class ScanError(Exception):
    code = "scan_error"

    def __init__(self, message_zh: str, code: str = "scan_error"):
        super().__init__(message_zh)
        self.message_zh = message_zh
        self.code = code


def _to_gray(img: np.ndarray) -> np.ndarray:
    a = np.asarray(img)
    if a.ndim == 2:
        g = a
    elif a.ndim == 3 and a.shape[2] == 4:
        # composite onto white: a transparent background must not read as black
        rgb = a[..., :3].astype(np.float32)
        alpha = a[..., 3:4].astype(np.float32) / 255.0
        g = cv2.cvtColor((rgb * alpha + 255.0 * (1 - alpha)).astype(np.uint8), cv2.COLOR_BGR2GRAY)
    elif a.ndim == 3 and a.shape[2] == 3:
        g = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY)
    else:
        raise ScanError("图像格式无法识别", "bad_image")
    if g.dtype != np.uint8:
        g = cv2.normalize(g, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return np.ascontiguousarray(g)


def _variants(gray: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    yield "raw", gray
    h, w = gray.shape
    # flatten uneven lighting: divide by the background (a large blur) and stretch
    k = max(31, (min(h, w) // 12) | 1)
    bg = cv2.GaussianBlur(gray, (k, k), 0)
    flat = cv2.divide(gray, bg, scale=255)
    flat = cv2.normalize(flat, None, 0, 255, cv2.NORM_MINMAX)
    yield "flat", flat
    clahe = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(gray)
    yield "clahe", clahe
    sharp = cv2.addWeighted(flat, 1.8, cv2.GaussianBlur(flat, (0, 0), 2.0), -0.8, 0)
    yield "sharp", sharp
    block = max(15, (min(h, w) // 30) | 1)
    yield "adaptive", cv2.adaptiveThreshold(flat, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                            cv2.THRESH_BINARY, block, 8)
    _, otsu = cv2.threshold(cv2.GaussianBlur(flat, (5, 5), 0), 0, 255,
                            cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    yield "otsu", otsu
    if max(h, w) > 1200:
        small = cv2.resize(flat, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        yield "half", small
    if max(h, w) < 1800:
        big = cv2.resize(sharp, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        yield "double", big
    closed = cv2.morphologyEx(otsu, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    yield "open", closed


def _read(gray: np.ndarray) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=True,
                                  try_downscale=True, text_mode=zxingcpp.TextMode.Plain)


def decode_frame(frame: np.ndarray, *, first_only: bool = False) -> list[QrRead]:
    """All QR codes in an image array (grey, BGR as from OpenCV/webcam, or BGRA)."""
    gray = _to_gray(frame)
    h, w = gray.shape
    if max(h, w) > MAX_SIDE:
        f = MAX_SIDE / max(h, w)
        gray = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    found: dict[str, QrRead] = {}
    for name, img in _variants(gray):
        for bc in _read(img):
            if not bc.valid or not bc.text or bc.text in found:
                continue
            p = bc.position
            corners = tuple((pt.x, pt.y) for pt in (p.top_left, p.top_right, p.bottom_right,
                                                   p.bottom_left))
            found[bc.text] = QrRead(bc.text, corners, name)
        if found:
            break  # the cheapest variant that reads anything wins
    reads = list(found.values())
    return reads[:1] if first_only else reads


def load_image(path: str | os.PathLike) -> np.ndarray:
    """PNG/JPEG/TIFF/BMP as a BGR or grey array; multi-page TIFF gives the first page."""
    p = Path(path)
    if not p.is_file():
        raise ScanError("找不到图像文件", "file_not_found")
    data = np.fromfile(str(p), dtype=np.uint8)  # works with non-ASCII Windows paths
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ScanError("无法读取图像文件（支持 PNG、JPEG、TIFF）", "bad_image")
    if img.dtype == np.uint16:
        img = (img / 257).astype(np.uint8)
    return img


def render_pdf_pages(path: str | os.PathLike, *, dpi: int = PDF_DPI,
                     pages: Iterable[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(page index, grey array) for PDF pages rendered on WHITE at ``dpi``."""
    import pypdfium2 as pdfium

    p = Path(path)
    if not p.is_file():
        raise ScanError("找不到 PDF 文件", "file_not_found")
    try:
        pdf = pdfium.PdfDocument(str(p))
    except pdfium.PdfiumError:
        raise ScanError("无法打开 PDF 文件", "bad_pdf") from None
    try:
        indices = range(len(pdf)) if pages is None else pages
        for i in indices:
            page = pdf[i]
            bitmap = page.render(scale=dpi / 72, fill_color=(255, 255, 255, 255), grayscale=True)
            arr = bitmap.to_numpy()
            if arr.ndim == 3:
                arr = _to_gray(arr[..., :3] if arr.shape[2] >= 3 else arr[..., 0])
            yield i, np.ascontiguousarray(arr)
            page.close()
    finally:
        pdf.close()


def decode_pdf(path: str | os.PathLike, *, dpi: int = PDF_DPI, pages: Iterable[int] | None = None,
               first_only: bool = False) -> list[QrRead]:
    reads: list[QrRead] = []
    for _, img in render_pdf_pages(path, dpi=dpi, pages=pages):
        reads += decode_frame(img, first_only=first_only)
        if reads and first_only:
            break
    return reads


def decode_file(path: str | os.PathLike, *, first_only: bool = False) -> list[QrRead]:
    """QR codes in an image file or (by extension or content) a PDF."""
    p = Path(path)
    is_pdf = p.suffix.lower() == ".pdf"
    if not is_pdf and p.is_file():
        with open(p, "rb") as fh:
            is_pdf = fh.read(5) == b"%PDF-"
    if is_pdf:
        return decode_pdf(p, first_only=first_only)
    return decode_frame(load_image(p), first_only=first_only)


def find_payload(reads: Iterable[QrRead], prefix: str = "CD") -> QrRead | None:
    """The first read that looks like a CertDesk form payload (a page may carry other codes)."""
    for r in reads:
        if r.text.startswith(prefix):
            return r
    return None
