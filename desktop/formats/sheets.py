"""One bounded reader for every spreadsheet a bureau receives (issues 16 §3 and 21 §3).

``.xls`` (Excel 97–2003), ``.xlsx``/``.xlsm`` and ``.ods`` are read by python-calamine (Rust; one
library for all three, several times faster than openpyxl — bench/README.md); CSV in UTF-8 (BOM
or not), GBK/GB18030 or UTF-16 with a BOM by the standard ``csv`` module, streamed line by line.
The format is told by the file's first bytes, not its name.

Nothing here trusts the file. Before any parser sees it: the file size; for a zip container
(xlsx, ods) the number of parts, each part's and the total uncompressed size (counted while
inflating, not taken from the directory), the compression ratio (a zip bomb), a DTD or entity
declaration in any XML part (billion laughs), and cell references or a declared dimension beyond
the row and column limits (calamine allocates the whole rectangle). While reading: rows, columns,
the length of a line and of a cell. Every refusal is a :class:`UserFacingError` with a Chinese
message, raised before the importer writes anything; no parser exception escapes.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Iterator

from desktop.errors import UserFacingError


@dataclass(frozen=True, slots=True)
class Limits:
    file_bytes: int = 200 * 2**20  # any file
    unzipped_bytes: int = 512 * 2**20  # all parts of an xlsx/ods together, inflated
    part_bytes: int = 256 * 2**20  # one part, inflated
    parts: int = 1_000  # entries in the zip directory
    ratio: int = 100  # inflated/compressed of a part larger than RATIO_FLOOR
    rows: int = 1_000_000
    columns: int = 256
    # calamine holds a sheet as the full rectangle from its first to its last cell (≈ 64 bytes a
    # cell): a rectangle larger than this and four times the cells actually present is a sparse
    # bomb (two cells in opposite corners), refused
    area: int = 1_000_000
    cell_chars: int = 4_000
    line_chars: int = 2 * 2**20  # one physical CSV line


LIMITS = Limits()
RATIO_FLOOR = 4 * 2**20  # small parts may compress as well as they like
HEADER_SCAN = 30  # rows searched for the header (title rows above it)
MB = 2**20

# csv's own limit (131072 by default; a longer field was a bare _csv.Error): raised to the line
# limit — finite, and a field beyond it is refused by name; cells are held to LIMITS.cell_chars
# as rows go by.
csv.field_size_limit(max(LIMITS.line_chars, 131_072))

_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def refuse(message: str, code: str = "file_refused", **data) -> UserFacingError:
    return UserFacingError(message, code=code, **data)


def kind_of(path: Path) -> str:
    """``zip`` (xlsx/xlsm/ods), ``xls`` (OLE2 compound file) or ``text`` (CSV/TSV), by content."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(_ZIP):
        return "zip"
    if head == _OLE:
        return "xls"
    return "text"


def open_grid(path: Path, limits: Limits = LIMITS) -> Iterator[tuple[int, list]]:
    """Every row of the first non-empty sheet as ``(line, cells)``, ``line`` being the row number
    the clerk sees (1-based). Raises UserFacingError for anything refused."""
    path = Path(path)
    if not path.exists():
        raise UserFacingError(f"文件不存在：{path}", code="file_missing")
    size = path.stat().st_size
    if size > limits.file_bytes:
        raise refuse(f"文件太大（{size / MB:.0f} MB），最大 {limits.file_bytes // MB} MB；请分成几个文件导入",
                     "file_too_large")
    if size == 0:
        raise UserFacingError("文件是空的", code="empty_file")
    kind = kind_of(path)
    if kind == "zip":
        check_zip(path, limits)
    elif kind == "xls":
        check_xls(path, limits)
    if kind != "text":
        return _calamine_rows(path, kind, limits)  # rows: the sheet's height, checked when loaded
    return _csv_rows(path, limits)


# --- containers --------------------------------------------------------------------------------

_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# a cell reference (r="XFD1048576"), a row (r="1048576") or a dimension (ref="A1:XFD1048576") beyond
# 256 columns (IW… or three letters) or with 7+ digit rows: rare in a real sheet, so one regex pass
# finds them without a Python step per cell
_BIG_REF = re.compile(rb'\br(?:ef)?="(?:[A-Z]{0,3}\d+:)?(?:((?:[A-Z]{3}|I[W-Z]|[J-Z][A-Z])\d)|[A-Z]{0,3}(\d{7,}))')
# ods: a repeated row or column (table:number-rows-repeated="1048553")
_REPEAT = re.compile(rb'number-(rows|columns)-repeated="(\d{1,12})"')
_CHUNK = 1 << 20


def check_zip(path: Path, limits: Limits = LIMITS) -> None:
    """Refuse a container that would cost more than the limits to parse: the directory first,
    then every part inflated in 1 MiB pieces (the directory's sizes may lie)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.parts:
                raise refuse(f"文件内部的部件太多（{len(infos)} 个），不是正常的电子表格", "zip_parts")
            if any("worksheets/" in i.filename and i.filename.endswith(".bin") for i in infos):
                raise refuse("不支持 Excel 二进制工作簿（.xlsb），请在 Excel 中另存为 .xlsx", "xlsb")
            declared = sum(i.file_size for i in infos)
            if declared > limits.unzipped_bytes:
                raise _too_big(declared, limits)
            total = 0
            for info in infos:
                if info.is_dir():
                    continue
                total += _check_part(zf, info, limits, limits.unzipped_bytes - total)
    except UserFacingError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError,
            RuntimeError) as exc:  # RuntimeError: an encrypted part
        raise refuse(f"无法打开 Excel 文件：文件已损坏或不是电子表格（{exc.__class__.__name__}）", "bad_xlsx") from None


def _too_big(n: int, limits: Limits) -> UserFacingError:
    return refuse(f"文件解压后太大（超过 {limits.unzipped_bytes // MB} MB），可能是恶意构造的压缩文件", "zip_bomb",
                  unzipped=n)


def _check_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, budget: int) -> int:
    name = info.filename.lower()
    xml = name.endswith((".xml", ".rels", ".vml"))
    sheet = xml and ("worksheets/" in name or name == "content.xml")
    n = 0
    tail = b""
    extent = _Extent()
    with zf.open(info) as fh:
        while True:
            piece = fh.read(_CHUNK)
            if not piece:
                break
            n += len(piece)
            if n > budget:
                raise _too_big(n, limits)
            if n > limits.part_bytes:
                raise refuse(f"文件中的一个部件解压后超过 {limits.part_bytes // MB} MB，不是正常的电子表格", "zip_bomb")
            if n > RATIO_FLOOR and n > limits.ratio * max(info.compress_size, 1):
                raise refuse("文件的压缩比异常（可能是恶意构造的“压缩炸弹”），已拒绝", "zip_bomb")
            if xml:
                window = tail + piece
                if n == len(piece) and _DTD.search(window[:65536]):
                    raise refuse("文件含有不允许的 XML 实体声明（DOCTYPE/ENTITY），已拒绝", "xml_entities")
                if sheet:
                    _check_refs(window, limits)
                    extent.add_xml(piece)
                tail = piece[-_TAIL:]
    if sheet:
        _check_refs(tail, limits, final=True)
    extent.check(limits)
    return n


_CELL_COL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]{1,3})\d')
_CELL_ROW = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="[A-Z]{1,3}(\d{1,9})"')


def _column(letters: bytes) -> int:
    col = 0
    for ch in letters:
        col = col * 26 + ch - 64
    return col


class _Extent:
    """The last row and column a sheet's cells reach, and how many cells it has."""

    def __init__(self) -> None:
        self.rows = self.cols = self.cells = 0

    def add(self, row: int, col: int, cells: int) -> None:
        self.rows, self.cols, self.cells = max(self.rows, row), max(self.cols, col), self.cells + cells

    def add_xml(self, piece: bytes) -> None:
        """Cell references (r="B12") of a worksheet part, one C-level pass each (a reference cut
        by the 1 MiB boundary is missed; the rows and columns around it are counted anyway)."""
        cols = set(_CELL_COL.findall(piece))
        if cols:
            rows = _CELL_ROW.findall(piece)
            self.add(max(map(int, rows), default=0), max(map(_column, cols)), len(rows))

    def check(self, limits: Limits) -> None:
        area = self.rows * self.cols
        if area > max(limits.area, 4 * self.cells):
            raise refuse(f"表格中有单元格远离数据区域（第{self.rows}行、第{self.cols}列附近，而只有 {self.cells} 个单元格），"
                         "不是正常的名单", "sparse_sheet")


# BIFF (Excel 97–2003) records that are cells: row, column at the start of the record; MULRK and
# MULBLANK end with their last column
_BIFF_CELLS = frozenset((0x0006, 0x00FD, 0x0203, 0x027E, 0x0201, 0x0204, 0x0205, 0x00D6, 0x00BD, 0x00BE))
_BIFF_MULTI = frozenset((0x00BD, 0x00BE))
_BIFF_BOF = 0x0809


def check_xls(path: Path, limits: Limits = LIMITS) -> None:
    """An .xls file's workbook stream walked record by record: every sheet's cells must fit the
    limits (calamine would allocate the rectangle up to the farthest cell)."""
    import struct

    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            name = next((n for n in ("Workbook", "Book") if ole.exists(n)), None)
            if name is None:
                raise refuse("无法打开 Excel 文件：不是 Excel 97–2003 工作簿", "bad_xlsx")
            if ole.get_size(name) > limits.file_bytes:
                raise refuse("无法打开 Excel 文件：工作簿数据超过文件大小", "bad_xlsx")
            data = ole.openstream(name).read()
    except UserFacingError:
        raise
    except Exception as exc:  # noqa: BLE001 - olefile raises OSError, ValueError, struct.error …
        raise refuse(f"无法打开 Excel 文件：文件已损坏或不是电子表格（{exc.__class__.__name__}）", "bad_xlsx") from None
    unpack, cells, multi = struct.unpack_from, _BIFF_CELLS, _BIFF_MULTI
    extent = _Extent()
    rows = cols = count = 0
    pos, end = 0, len(data) - 4
    while pos <= end:
        rid, size = unpack("<HH", data, pos)
        if rid in cells and size >= 4:
            row, col = unpack("<HH", data, pos + 4)
            if rid in multi and size >= 6:
                col = unpack("<H", data, pos + 2 + size)[0]
            count += 1
            if row > rows:
                rows = row
            if col > cols:
                cols = col
        elif rid == _BIFF_BOF:  # a new sheet (or the globals): check the one before
            extent.add(rows + 1 if count else 0, cols + 1 if count else 0, count)
            extent.check(limits)
            extent, rows, cols, count = _Extent(), 0, 0, 0
        pos += 4 + size
    extent.add(rows + 1 if count else 0, cols + 1 if count else 0, count)
    extent.check(limits)


def _check_refs(window: bytes, limits: Limits, *, final: bool = False) -> None:
    for m in _BIG_REF.finditer(window):
        if m.group(1):
            raise _too_many_columns(limits)
        if int(m.group(2)) > limits.rows + HEADER_SCAN:
            raise _too_many_rows(limits)
    for m in _REPEAT.finditer(window):
        # LibreOffice repeats the trailing empty rows/columns to the sheet's end (calamine skips
        # them); a repeat anywhere else is expanded: refused beyond a roster's needs
        if not final and m.end() > len(window) - _TAIL // 2:
            continue  # checked again with the next piece, which starts with this one's tail
        n = int(m.group(2))
        if m.group(1) == b"rows":
            if n > ODS_ROW_REPEAT and not _ROWS_TRAIL.match(window, m.end()):
                raise _too_many_rows(limits)
        elif n > limits.columns and not _COLS_TRAIL.match(window, m.end()):
            raise _too_many_columns(limits)


ODS_ROW_REPEAT = 1_000  # the same row a thousand times within the data is no roster
_EMPTY_ROW = rb"\s*<table:table-row[^>]*>\s*<table:table-cell[^>]*/>\s*</table:table-row>"
_ROWS_TRAIL = re.compile(rb"[^>]*>\s*<table:table-cell[^>]*/>\s*</table:table-row>(?:" + _EMPTY_ROW
                         + rb")*\s*</table:table>")
_COLS_TRAIL = re.compile(rb"[^>]*/>\s*</table:table-row>")
_TAIL = 1024


def _too_many_rows(limits: Limits) -> UserFacingError:
    return refuse(f"文件的行数超过 {limits.rows:,} 行，请分成几个文件导入", "too_many_rows")


def _too_many_columns(limits: Limits) -> UserFacingError:
    return refuse(f"文件的列数超过 {limits.columns} 列，不是正常的名单", "too_many_columns")


# --- readers -----------------------------------------------------------------------------------

_SUFFIXES = {"zip": (".xlsx", ".xlsm", ".ods"), "xls": (".xls",)}


def _calamine_rows(path: Path, kind: str, limits: Limits) -> Iterator[tuple[int, list]]:
    from python_calamine import CalamineWorkbook

    try:
        if path.suffix.lower() in _SUFFIXES[kind]:
            wb = CalamineWorkbook.from_path(str(path))
        else:  # a workbook under another name (.csv, .txt …): told by content, read into memory
            with open(path, "rb") as fh:
                wb = CalamineWorkbook.from_filelike(fh)
        sheet = None
        for i in range(len(wb.sheet_names)):
            candidate = wb.get_sheet_by_index(i)
            if candidate.height:
                sheet = candidate
                break
    except Exception as exc:  # noqa: BLE001 - calamine raises its own types and ValueError/OSError
        raise refuse(f"无法打开 Excel 文件：文件已损坏、加密或不是电子表格（{exc.__class__.__name__}）",
                     "bad_xlsx") from None
    if sheet is None:
        raise UserFacingError("文件是空的", code="empty_file")
    first = (sheet.start or (0, 0))[0] + 1
    if sheet.height > limits.rows + HEADER_SCAN:
        raise _too_many_rows(limits)
    if sheet.width > limits.columns:
        raise _too_many_columns(limits)

    def rows():
        max_cols, max_chars = limits.columns, limits.cell_chars
        try:
            for n, cells in enumerate(sheet.iter_rows(), start=first):
                if len(cells) > max_cols:
                    cells = _trimmed(cells, limits)
                for v in cells:
                    if type(v) is str and len(v) > max_chars:
                        raise _too_long(n, limits)
                yield n, cells
        except UserFacingError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise refuse(f"读取 Excel 文件出错（{exc.__class__.__name__}）", "bad_xlsx") from None
        finally:
            wb.close()

    return rows()


_SNIFF = 65_536


def sniff_encoding(head: bytes) -> str:
    """UTF-16 with a BOM (Excel's 'Unicode text'); UTF-8 (BOM or not) when the start decodes as
    UTF-8; GB18030 (a superset of GBK) otherwise."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


_BLOCK = 1 << 20  # characters decoded at a time


def _csv_rows(path: Path, limits: Limits) -> Iterator[tuple[int, list]]:
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF)
    encoding = sniff_encoding(head)
    if encoding != "utf-16" and b"\x00" in head:
        raise refuse("文件含有空字符（NUL），不是文本表格（CSV）；请在 Excel 中另存为 .xlsx 或 CSV", "nul_bytes")
    sample = head.decode(encoding, errors="ignore")
    first_line = sample.splitlines()[0] if sample else ""
    delimiter = "\t" if "\t" in first_line and sample[:4096].count("\t") > sample[:4096].count(",") else ","
    newline = "\r" if "\r" in sample and "\n" not in sample else "\n"  # classic Mac files: CR alone

    def lines(stream) -> Iterator[list[str]]:
        """The file's lines a block at a time (split in C, not line by line in Python); a line
        longer than the limit is refused before it is held whole."""
        cap, rest = limits.line_chars, ""
        while True:
            block = stream.read(_BLOCK)
            if not block:
                if rest:
                    yield [rest]
                return
            if "\x00" in block:
                raise refuse("文件含有空字符（NUL），不是文本表格（CSV）", "nul_bytes")
            parts = (rest + block).split(newline)
            rest = parts.pop()
            if len(rest) > cap:
                raise refuse(f"文件中有一行超过 {cap // MB} M 个字符，不是正常的名单", "line_too_long")
            yield [p + newline for p in parts]

    def rows():
        max_rows, max_cols, max_chars = limits.rows + HEADER_SCAN, limits.columns, limits.cell_chars
        count = 0
        with open(path, "rb") as raw:
            stream = io.TextIOWrapper(raw, encoding=encoding, newline="")
            reader = csv.reader(chain.from_iterable(lines(stream)), delimiter=delimiter)
            try:
                for cells in reader:
                    count += 1
                    if count > max_rows:
                        raise _too_many_rows(limits)
                    if len(cells) > max_cols:
                        cells = _trimmed(cells, limits)
                    if cells and max(map(len, cells)) > max_chars:
                        raise _too_long(reader.line_num, limits)
                    yield reader.line_num, cells
            except UnicodeDecodeError:
                raise UserFacingError("无法识别文件编码（应为 UTF-8 或 GBK/GB18030）", code="encoding") from None
            except csv.Error as exc:
                if "field larger" in str(exc):
                    raise _too_long(reader.line_num, limits) from None
                raise refuse(f"第{reader.line_num}行无法按 CSV 读取：{exc}", "bad_csv") from None

    return rows()


def _trimmed(cells: list, limits: Limits) -> list:
    """Trailing empty cells (a sheet formatted far to the right) are not columns; more columns
    than the limit are refused."""
    while cells and (cells[-1] is None or cells[-1] == ""):
        cells = cells[:-1]
    if len(cells) > limits.columns:
        raise _too_many_columns(limits)
    return cells


def _too_long(line: int, limits: Limits) -> UserFacingError:
    return refuse(f"第{line}行有单元格超过 {limits.cell_chars} 个字符，不是正常的名单", "cell_too_long")
