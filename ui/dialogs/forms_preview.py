"""打印预览 — the one PDF preview (:class:`PdfPreviewDialog`, also the counter receipt's): the pages of a
generated PDF painted onto WHITE, then printed or saved as PDF.

打印 sends the vector PDF itself to the system queue through the shared printing layer
(:func:`desktop.printing.spool.send_pdf`, the same path as the counter receipt), off the GUI thread;
only a machine without a system queue falls back to a QPrinter dialog (pages rasterised at
PRINT_DPI, :func:`print_pdf`).

PySide6's QtPdf (the ``PySide6-Pdf`` wheel) is used when it is installed; otherwise the pages are
rendered by pdfium through :func:`desktop.formats.scan.render_pdf_pages` (already white-backed). Either
way a PDF page is painted onto an opaque white image first: QtPdf renders transparent pages.
Rendering runs off the GUI thread through :func:`ui.workers.run_in_background`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)

from desktop.printing import spool
from ui.screen_fit import fit_to_screen
from ui.workers import device_pool, long_pool, run_in_background

PREVIEW_DPI = 60
PRINT_DPI = 300  # QPrinter's default 1200 dpi gives ~4 MB a page
MAX_PREVIEW_PAGES = 12


def _qtpdf_pages(path: str, dpi: int, limit: int | None):
    try:
        from PySide6.QtCore import QSize
        from PySide6.QtPdf import QPdfDocument
    except ImportError:
        return None
    doc = QPdfDocument()
    if doc.load(path) != QPdfDocument.Error.None_:
        return None  # let pdfium try (and report) it
    out = []
    n = doc.pageCount() if limit is None else min(limit, doc.pageCount())
    for i in range(n):
        size = doc.pagePointSize(i)
        img = doc.render(i, QSize(int(size.width() * dpi / 72), int(size.height() * dpi / 72)))
        out.append(on_white(img))
    return out, doc.pageCount()


def on_white(img: QImage) -> QImage:
    """``img`` composited onto an opaque white page."""
    page = QImage(img.size(), QImage.Format.Format_RGB32)
    page.fill(QColor("white"))
    p = QPainter(page)
    p.drawImage(QPointF(0, 0), img)
    p.end()
    return page


def _gray_to_qimage(arr: np.ndarray) -> QImage:
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8).copy()


def page_count(path: str | Path) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        return len(doc)
    finally:
        doc.close()


def render_pages(path: str | Path, dpi: int = PREVIEW_DPI, limit: int | None = None,
                 first: int = 0) -> tuple[list[QImage], int]:
    """(page images on white, total page count). Safe off the GUI thread (QImage only, no widgets)."""
    if first == 0:
        got = _qtpdf_pages(str(path), dpi, limit)
        if got is not None:
            return got
    from desktop.formats.scan import render_pdf_pages

    total = page_count(path)
    stop = total if limit is None else min(total, first + limit)
    images = [on_white(_gray_to_qimage(a)) for _, a in render_pdf_pages(path, dpi=dpi, pages=range(first, stop))]
    return images, total


def print_pdf(path: str | Path, printer) -> int:
    """Paint every page, rendered at PRINT_DPI on white, onto ``printer`` (a QPrinter, or a
    PDF-format QPrinter for 另存); returns the number of pages."""
    printer.setResolution(PRINT_DPI)
    total = page_count(path)
    painter = QPainter()
    if not painter.begin(printer):
        raise RuntimeError("无法开始打印")
    try:
        for i in range(total):
            (img,), _ = render_pages(path, PRINT_DPI, 1, first=i)
            if i:
                printer.newPage()
            target = QRectF(printer.pageRect(printer.Unit.DevicePixel))
            size = img.size().scaled(target.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawImage(QRectF(0, 0, size.width(), size.height()), img)
        return total
    finally:
        painter.end()


def print_with_dialog(path: str | Path, parent=None) -> str | None:
    """The fallback where no system queue exists: a QPrintDialog, then :func:`print_pdf`.
    Returns the status text, or None when the clerk cancelled."""
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dlg = QPrintDialog(printer, parent)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return None
    n = print_pdf(path, printer)
    return f"已发送 {n} 页到打印机"


class PdfPreviewDialog(QDialog):
    """The one PDF preview: the first ``max_pages`` pages of ``pdf`` painted on white, 另存为 PDF…,
    and 打印 (Enter) for the whole file. The counter's receipt (:mod:`ui.dialogs.receipt_preview`)
    and the assist forms use it; they differ only in where 打印 sends the file.

    Printing here: ``printer_name`` (this workstation's printer, station setting ``printer_name``;
    a string or a zero-argument callable read at print time; empty = the system default) through the
    system queue on the device pool; :attr:`printed` carries the job id. Without a system queue, a
    QPrinter dialog (:func:`print_with_dialog`)."""

    pages_loaded = Signal(int)
    rendered = Signal()  # the preview is painted
    printed = Signal(str)  # the job id ("" when the system gives none); the receipt: the status text
    print_failed = Signal(str)  # the Chinese message

    def __init__(self, pdf: str | Path, title: str = "打印预览", parent=None, *, printer_name=None,
                 max_pages: int = MAX_PREVIEW_PAGES, dpi: int = PREVIEW_DPI, print_text: str = "打印",
                 close_text: str = "关闭"):
        super().__init__(parent)
        self.pdf = Path(pdf)
        self.printer_name = printer_name
        self.images: list[QImage] = []
        self.total = 0
        self.setWindowTitle(title)
        fit_to_screen(self, (760, 2000), centre=False)  # A4 pages: as tall as the screen allows
        self.info = QLabel("正在生成预览…", self)
        self.info.setObjectName("previewInfo")
        self.pages = QWidget(self)
        self.pages_layout = QVBoxLayout(self.pages)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.pages)
        scroll.setStyleSheet("QScrollArea { background: #808080; }")
        self.print_button = QPushButton(print_text, self)
        self.print_button.setObjectName("primaryButton")
        self.print_button.setDefault(True)  # Enter prints
        self.print_button.clicked.connect(self.print_now)
        self.save_button = QPushButton("另存为 PDF…", self)
        self.save_button.clicked.connect(self._save)
        close = QPushButton(close_text, self)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.info, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        buttons.addWidget(self.print_button)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        path = self.pdf
        run_in_background(lambda: render_pages(path, dpi, max_pages), self._loaded,
                          lambda exc: self.info.setText(f"无法预览：{exc}"), owner=self, pool=long_pool())

    @property
    def image(self) -> QImage | None:
        """The first page (None until rendered)."""
        return self.images[0] if self.images else None

    def _loaded(self, result) -> None:
        self.images, self.total = result
        for img in self.images:
            label = QLabel(self.pages)
            label.setPixmap(QPixmap.fromImage(img))
            label.setStyleSheet("border: 1px solid #444;")
            self.pages_layout.addWidget(label)
        more = f"（预览前 {len(self.images)} 页）" if self.total > len(self.images) else ""
        self.info.setText(f"共 {self.total} 页{more}")
        self.pages_loaded.emit(self.total)
        self.rendered.emit()

    def save_as(self, target: str | Path) -> Path:
        target = Path(target)
        if target.resolve() != self.pdf.resolve():
            shutil.copyfile(self.pdf, target)
        return target

    def _save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "另存为 PDF", str(Path.home() / self.pdf.name), "PDF 文件 (*.pdf)")
        if path:
            self.save_as(path)
            self.info.setText(f"已保存：{path}")

    def _printer(self) -> str | None:
        name = self.printer_name() if callable(self.printer_name) else self.printer_name
        return (name or "").strip() or None

    def print_now(self) -> None:
        if not spool.queue_available():
            text = print_with_dialog(self.pdf, self)
            if text is not None:
                self.info.setText(text)
                self.printed.emit("")
            return
        printer, pdf = self._printer(), self.pdf
        self.print_button.setEnabled(False)
        self.info.setText(f"正在发送到打印机{spool.printer_label(printer)}…")
        run_in_background(lambda: spool.send_pdf(pdf, printer, title=pdf.name),
                          lambda job: self._sent(job, printer), self._send_failed, owner=self,
                          pool=device_pool())

    _print = print_now

    def _sent(self, job: str, printer: str | None) -> None:
        self.print_button.setEnabled(True)
        pages = f"共 {self.total} 页，" if self.total else ""
        self.info.setText(f"已发送到打印机{spool.printer_label(printer)}（{pages}作业 {job or '已提交'}）")
        self.printed.emit(job)

    def _send_failed(self, exc: BaseException) -> None:
        self.print_button.setEnabled(True)
        msg = getattr(exc, "message_zh", None) or str(exc)
        self.info.setText(f"打印失败：{msg}")
        self.print_failed.emit(msg)


FormsPreviewDialog = PdfPreviewDialog  # the assist forms' and labels' preview
