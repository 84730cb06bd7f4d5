"""Read PDFs in tests with PyPI packages only (no poppler-utils): text and page images through
pypdfium2 (a run-time dependency), the font table through pypdf (a dev dependency).

    pdf_text(pdf, first=None, last=None)  ~ pdftotext -f FIRST -l LAST (1-based, inclusive)
    pdf_fonts(pdf)                        ~ pdffonts: [{"name", "type", "emb", "sub", "uni"}]
    render_page(pdf, index, dpi)          ~ pdftoppm -gray: a page as a grey numpy image
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2 as pdfium


def page_count(pdf: Path) -> int:
    doc = pdfium.PdfDocument(str(pdf))
    try:
        return len(doc)
    finally:
        doc.close()


def pdf_text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    """The text of pages ``first``..``last`` (1-based, inclusive; default all), pages joined by
    form feeds like pdftotext. pdfium decodes through the font's ToUnicode map, so a font without
    one gives no (or wrong) characters here, as it would in pdftotext or a viewer's search."""
    doc = pdfium.PdfDocument(str(pdf))
    try:
        lo = (first or 1) - 1
        hi = min(last or len(doc), len(doc))
        out = []
        for i in range(lo, hi):
            page = doc[i]
            tp = page.get_textpage()
            try:
                out.append(tp.get_text_bounded() if hasattr(tp, "get_text_bounded") else tp.get_text_range())
            finally:
                tp.close()
                page.close()
        return "\f".join(out)
    finally:
        doc.close()


def _font_rows(resources, seen: set, rows: list) -> None:
    """The fonts of one resource dictionary and of its form XObjects (templates), recursively."""
    if resources is None:
        return
    resources = resources.get_object()
    fonts = resources.get("/Font")
    if fonts is not None:
        for _, ref in fonts.get_object().items():
            key = getattr(ref, "idnum", None) or id(ref)
            if key in seen:
                continue
            seen.add(key)
            font = ref.get_object()
            subtype = str(font.get("/Subtype", ""))
            descendant = font
            if subtype == "/Type0" and "/DescendantFonts" in font:
                descendant = font["/DescendantFonts"].get_object()[0].get_object()
            desc = descendant.get("/FontDescriptor")
            desc = desc.get_object() if desc is not None else {}
            embedded = subtype == "/Type3" or any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            name = str(font.get("/BaseFont", "[none]")).lstrip("/")
            # a subset carries the ABCDEF+ tag (PDF 32000-1 9.6.4)
            subset = len(name) > 7 and name[6] == "+" and name[:6].isupper()
            rows.append({"name": name, "type": subtype.lstrip("/"), "emb": "yes" if embedded else "no",
                         "sub": "yes" if subset else "no", "uni": "yes" if "/ToUnicode" in font else "no"})
    xobjects = resources.get("/XObject")
    if xobjects is not None:
        for _, ref in xobjects.get_object().items():
            xo = ref.get_object()
            key = ("x", getattr(ref, "idnum", None) or id(ref))
            if key in seen or xo.get("/Subtype") != "/Form":
                continue
            seen.add(key)
            _font_rows(xo.get("/Resources"), seen, rows)


def pdf_fonts(pdf: Path) -> list[dict]:
    """Every font the pages (and their form XObjects) use, once each, with pdffonts' yes/no
    columns: ``emb`` (font program embedded), ``sub`` (subset), ``uni`` (ToUnicode map)."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    seen: set = set()
    rows: list[dict] = []
    for page in reader.pages:
        _font_rows(page.get("/Resources"), seen, rows)
    return rows


def render_page(pdf: Path, index: int, dpi: int = 200) -> np.ndarray:
    """Page ``index`` (0-based) as a grey image, rendered by pdfium on white."""
    doc = pdfium.PdfDocument(str(pdf))
    try:
        bm = doc[index].render(scale=dpi / 72, fill_color=(255, 255, 255, 255), grayscale=True)
        arr = bm.to_numpy()
        return np.ascontiguousarray(arr if arr.ndim == 2 else arr[..., 0])
    finally:
        doc.close()

