"""认证回执预览: the one PDF preview (:class:`ui.dialogs.forms_preview.PdfPreviewDialog`) showing the
receipt's page, printed through the station's receipt printer (:class:`desktop.counter.station.ReceiptPrinter`:
``lp`` / the Windows print verb over the shared :mod:`desktop.printing.spool`, or a dry run in the demo);
a QPrinter dialog only where the machine has no system queue. Enter prints, Esc closes."""

from __future__ import annotations

from pathlib import Path

from ui.dialogs import forms_preview
from ui.dialogs.forms_preview import PdfPreviewDialog
from ui.dialogs.login import DIALOG_CSS

PREVIEW_DPI = 80


def print_with_dialog(path, parent=None):
    """The QPrinter fallback (a name here so a test can stand in for the system dialog)."""
    return forms_preview.print_with_dialog(path, parent)


class ReceiptPreviewDialog(PdfPreviewDialog):
    """:attr:`printed` carries the status text the clerk reads (e.g. 已发送到打印机“窗口3”（作业 …）)."""

    def __init__(self, pdf_path: str | Path, printer, *, title: str = "认证回执预览", parent=None):
        super().__init__(pdf_path, title, parent, max_pages=1, dpi=PREVIEW_DPI, print_text="打印回执 (Enter)",
                         close_text="关闭 (Esc)")
        self.printer = printer
        self.setStyleSheet(DIALOG_CSS)

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
            self.info.setText(f"打印失败：{getattr(exc, 'message_zh', None) or exc}")
            return
        self.info.setText(text)
        self.printed.emit(text)
        self.accept()
