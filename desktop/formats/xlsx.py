"""Large spreadsheets written fast and safely: the sheet XML streamed straight into the zip file.

Why not openpyxl (issue 20): its write-only mode still makes a cell object per value and runs each
through its type and style machinery — 100,000 rows × 10 columns took 9–22 s here, more than
the rest of the export together. An XLSX file is a zip of a few small fixed XML parts and one
``sheetN.xml`` per sheet; a sheet is rows of cells, which this module writes as text a row at a
time into the zip entry (deflate level 1), never holding more than one row. Measured in
``bench/bench_lists.py`` (numbers in bench/README.md). The maintained faster writers were
considered: XlsxWriter (BSD, pure Python, ≈ 2–3× openpyxl; its ``constant_memory`` mode keeps
the same per-cell Python work) and rust_xlsxwriter's Python binding (young, a native wheel per
platform to vet for the installer); a 150-line writer of a fixed, documented part of the
format is less to trust than either.

Cells:
- text is an *inline string* (``t="inlineStr"``): never a formula — a value beginning with ``=``
  arrives as the text it is (issue 16 §4; a formula needs an ``<f>`` element, written nowhere
  here). Characters XML 1.0 forbids (C0 controls other than tab, LF, CR) are dropped.
- ``int``/``float`` are numbers, ``bool`` is a boolean cell, ``date``/``datetime`` are numbers
  with a date (``yyyy-mm-dd``) or date-time format, ``None`` is an empty cell.
- the caption row (bold, 12 pt) and the header row (bold) are styled; column widths are set.

Written to a temporary file beside the target and renamed at the end, so a cancelled or failed
export never leaves half a file that someone might send to the payroll department. Read back by
openpyxl and python-calamine in the tests (tests/desktop/test_xlsx_writer.py).
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable
from xml.sax.saxutils import escape

from desktop.errors import UserFacingError

CHECK_EVERY = 2_000
EPOCH = date(1899, 12, 30)  # Excel's day 0 (the 1900 system, after its phantom 29 February)
_EPOCH_ORD = EPOCH.toordinal()
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# styles (cellXfs): 0 plain, 1 date, 2 date-time, 3 header (bold), 4 caption (bold 12 pt)
S_DATE, S_DATETIME, S_HEADER, S_CAPTION = 1, 2, 3, 4


class Cancelled(UserFacingError):
    code = "cancelled"

    def __init__(self):
        super().__init__("已取消")


def _cancelled(cancel) -> bool:
    if cancel is None:
        return False
    return bool(cancel.is_set() if hasattr(cancel, "is_set") else cancel())


def _col(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _text(v: str) -> str:
    if _ILLEGAL.search(v):
        v = _ILLEGAL.sub("", v)
    return escape(v)


def _cell(ref: str, v, style: int = 0) -> str:
    t = type(v)
    if t is str:
        s = f' s="{style}"' if style else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{_text(v)}</t></is></c>'
    if t is int or t is float:
        return f'<c r="{ref}"><v>{v!r}</v></c>'
    if v is None:
        return ""
    if t is bool:
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, datetime):
        serial = v.toordinal() - _EPOCH_ORD + (v.hour * 3600 + v.minute * 60 + v.second) / 86400
        return f'<c r="{ref}" s="{S_DATETIME}"><v>{serial!r}</v></c>'
    if isinstance(v, date):
        return f'<c r="{ref}" s="{S_DATE}"><v>{v.toordinal() - _EPOCH_ORD}</v></c>'
    if isinstance(v, (int, float)):  # int/float subclasses (numpy-free, but e.g. IntEnum)
        return _cell(ref, float(v) if isinstance(v, float) else int(v), style)
    return _cell(ref, str(v), style)


def _row(n: int, values, cols: list[str], style: int = 0) -> str:
    cells = "".join([_cell(f"{cols[i] if i < len(cols) else _col(i)}{n}", v, style) for i, v in enumerate(values)])
    return f'<row r="{n}">{cells}</row>'


def _fast_row(n: int, values, cols: list[str]) -> str:
    """The body row: the common cell types inline (this loop is the export's cost)."""
    out = [f'<row r="{n}">']
    add = out.append
    for i, v in enumerate(values):
        t = type(v)
        ref = f"{cols[i] if i < len(cols) else _col(i)}{n}"
        if t is str:
            add(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_text(v)}</t></is></c>')
        elif t is int:
            add(f'<c r="{ref}"><v>{v}</v></c>')
        else:
            add(_cell(ref, v))
    add("</row>")
    return "".join(out)


def write_sheets(path: Path, sheets: list[tuple[str, str | None, list[str], Iterable[list], int]], *,
                 progress: Callable[[int, str], None] | None = None, cancel=None,
                 widths: dict[int, float] | None = None) -> Path:
    """``sheets``: (title, caption or None, header, rows, row count). The caption is row 1, the
    header row 2 (row 1 when there is no caption); ``rows`` may be any iterable (a generator
    over a database cursor: nothing is held but the current row). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    total = sum(s[4] for s in sheets) or 1
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            done = 0
            titles = _titles([s[0] for s in sheets])
            for k, (_title, caption, header, rows, _count) in enumerate(sheets, 1):
                with zf.open(f"xl/worksheets/sheet{k}.xml", "w", force_zip64=True) as raw:
                    done = _sheet(raw, caption, header, rows, widths, done, total, progress, cancel)
            _fixed_parts(zf, titles)
        if _cancelled(cancel):
            raise Cancelled()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if progress:
        progress(100, f"已导出 {done:,} 行")
    return path


def _titles(names: list[str]) -> list[str]:
    """Sheet names as Excel accepts them: ≤ 31 characters, none of ``[]:*?/\\``, unique."""
    out: list[str] = []
    for name in names:
        base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "Sheet"
        t, i = base, 2
        while t.lower() in {o.lower() for o in out}:
            t = f"{base[:28]}({i})"
            i += 1
        out.append(t)
    return out


def _sheet(raw, caption, header, rows, widths, done, total, progress, cancel) -> int:
    buf: list[str] = []
    cols = [_col(i) for i in range(max(len(header), 1) + 8)]
    widths = widths or {}
    head = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">']
    if header:
        head.append("<cols>" + "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{widths.get(i, max(10, 2.2 * len(h) + 2)):g}" customWidth="1"/>'
            for i, h in enumerate(header)) + "</cols>")
    head.append("<sheetData>")
    n = 0
    if caption:
        n += 1
        head.append(_row(n, [caption], cols, S_CAPTION))
    n += 1
    head.append(_row(n, header, cols, S_HEADER))
    raw.write("".join(head).encode("utf-8"))
    for row in rows:
        n += 1
        buf.append(_fast_row(n, row, cols))
        done += 1
        if done % CHECK_EVERY == 0:
            raw.write("".join(buf).encode("utf-8"))
            buf.clear()
            if _cancelled(cancel):
                raise Cancelled()
            if progress:
                progress(min(99, 100 * done // total), f"已写入 {done:,}/{total:,} 行")
    buf.append("</sheetData></worksheet>")
    raw.write("".join(buf).encode("utf-8"))
    return done


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_STYLES = (
    _XML + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/></numFmts>'
    '<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="12"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def _fixed_parts(zf: zipfile.ZipFile, titles: list[str]) -> None:
    n = len(titles)
    sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="application/'
                     f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for k in range(1, n + 1))
    zf.writestr("[Content_Types].xml", _XML + (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f'{sheets}</Types>'))
    zf.writestr("_rels/.rels", _XML + (
        f'<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        'core-properties" Target="docProps/core.xml"/></Relationships>'))
    zf.writestr("docProps/core.xml", _XML + (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>CertDesk</dc:creator></cp:coreProperties>'))
    zf.writestr("xl/workbook.xml", _XML + (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        + "".join(f'<sheet name="{escape(t, {chr(34): "&quot;"})}" sheetId="{k}" r:id="rId{k}"/>'
                  for k, t in enumerate(titles, 1))
        + "</sheets></workbook>"))
    zf.writestr("xl/_rels/workbook.xml.rels", _XML + (
        f'<Relationships xmlns="{_PKG}">'
        + "".join(f'<Relationship Id="rId{k}" Type="{_REL}/worksheet" Target="worksheets/sheet{k}.xml"/>'
                  for k in range(1, n + 1))
        + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'))
    zf.writestr("xl/styles.xml", _STYLES)
