"""认证回执预览: the receipt PDF painted onto WHITE (QtPdf renders transparent pages), then printed
to the system queue (``lp`` / the Windows print verb: :class:`desktop.counter.station.ReceiptPrinter` over the
shared :mod:`desktop.printing.spool`) or saved as PDF; a QPrinter dialog only where the machine has
no system queue. Enter prints, Esc closes."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout

from ui.dialogs.forms_preview import print_with_dialog, render_pages
from ui.dialogs.login import DIALOG_CSS
from ui.screen_fit import fit_to_screen
from ui.workers import run_in_background

PREVIEW_DPI = 80


class ReceiptPreviewDialog(QDialog):
    printed = Signal(str)  # status text
    rendered = Signal()

    def __init__(self, pdf_path: str | Path, printer, *, title: str = "认证回执预览", parent=None):
        super().__init__(parent)
        self.pdf = Path(pdf_path)
        self.printer = printer
        self.image = None
        self.setWindowTitle(title)
        self.setStyleSheet(DIALOG_CSS)
        fit_to_screen(self, (760, 2000), centre=False)  # as tall as the screen allows, the Print button on it
        self.page = QLabel("正在生成预览…", self)
        self.page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.page)
        scroll.setStyleSheet("QScrollArea { background: #6b7785; }")
        self.info = QLabel("", self)
        self.print_button = QPushButton("打印回执 (Enter)", self)
        self.print_button.setObjectName("primaryButton")
        self.print_button.setDefault(True)
        self.print_button.clicked.connect(self.print_now)
        save = QPushButton("另存为 PDF…", self)
        save.clicked.connect(self._save)
        close = QPushButton("关闭 (Esc)", self)
        close.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.info, 1)
        row.addWidget(save)
        row.addWidget(close)
        row.addWidget(self.print_button)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(row)
        run_in_background(lambda: render_pages(self.pdf, PREVIEW_DPI, 1), self._loaded,
                          lambda exc: self.page.setText(f"无法预览：{exc}"), owner=self)

    def _loaded(self, result) -> None:
        images, _ = result
        if images:
            self.image = images[0]
            self.page.setPixmap(QPixmap.fromImage(self.image))
            self.page.setStyleSheet("border: 1px solid #333;")
        self.rendered.emit()

    def print_now(self) -> None:
        self.print_button.setEnabled(False)
        try:
            if self.printer is None or not getattr(self.printer, "has_queue", True):
                text = print_with_dialog(self.pdf, self)  # no system queue: QPrinter fallback
                if text is None:
                    self.print_button.setEnabled(True)
                    return
            else:
                text = self.printer.print_file(self.pdf)
        except Exception as exc:  # noqa: BLE001 - shown to the clerk
            self.print_button.setEnabled(True)
            self.info.setText(f"打印失败：{exc}")
            return
        self.info.setText(text)
        self.printed.emit(text)
        self.accept()

    def save_as(self, target: str | Path) -> Path:
        target = Path(target)
        shutil.copyfile(self.pdf, target)
        return target

    def _save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "另存为 PDF", str(Path.home() / self.pdf.name), "PDF 文件 (*.pdf)")
        if path:
            self.save_as(path)
            self.info.setText(f"已保存：{path}")
