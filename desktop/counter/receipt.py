"""The counter's receipt (认证回执) as a PDF file, rendered off the GUI thread; the window previews
and prints it (ui/dialogs/receipt_preview.py, the one PdfPreviewDialog), the headless flow sends it to the station's printer."""

from __future__ import annotations

import tempfile
from pathlib import Path


def write_receipt(result) -> Path:
    """``result``: a CounterResult. A temporary file the caller deletes once printed."""
    from desktop.printing.receipt import receipt_pdf_bytes

    data = receipt_pdf_bytes(result.receipt, result.bureau)
    with tempfile.NamedTemporaryFile("wb", prefix="receipt-", suffix=".pdf", delete=False) as fh:
        fh.write(data)
    return Path(fh.name)
