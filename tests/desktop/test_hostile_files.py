"""Bounded imports (issue 16 §3): a corpus of hostile files made here — a zip bomb, billion laughs
inside an xlsx, a sheet claiming the last cell of Excel, one huge line, a huge quoted field, NUL
bytes, wrong encodings — each refused with a clear Chinese message before anything is written;
hypothesis for the rest. (Memory while refusing: bench/bench_imports.py, in bench/README.md.)"""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scenario import ACTOR, TODAY
from sheetfiles import ISSUE_HEADER, PEOPLE, write_text
from sqlalchemy import text

from desktop.errors import UserFacingError
from desktop.services.imports import ImportService
from desktop.formats.sheets import LIMITS, Limits, check_zip, open_grid

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])


def small_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(ISSUE_HEADER)
    for p in PEOPLE:
        ws.append(p)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rewrite(data: bytes, part: str, content: bytes | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """The xlsx ``data`` with ``part`` replaced (and ``extra`` parts added)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            zf.writestr(info.filename, content if info.filename == part and content is not None else src.read(info))
        for name, body in (extra or {}).items():
            zf.writestr(name, body)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"


def zip_bomb() -> bytes:
    """sheet1.xml inflating to 64 MiB of spaces inside a valid workbook (~64 KiB on disk)."""
    out = io.BytesIO()
    src = zipfile.ZipFile(io.BytesIO(small_xlsx()))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            if info.filename != SHEET:
                zf.writestr(info.filename, src.read(info))
        with zf.open(SHEET, "w", force_zip64=True) as fh:
            sheet = src.read(SHEET)
            fh.write(sheet[:-len(b"</worksheet>")])
            chunk = b" " * (1 << 20)
            for _ in range(64):
                fh.write(chunk)
            fh.write(b"</worksheet>")
    return out.getvalue()


def billion_laughs() -> bytes:
    """The worksheet declares nine levels of ten entities each (10⁹ 'lol's when expanded)."""
    lol = "".join(f'<!ENTITY lol{i} "{"&lol%d;" % (i - 1) * 10}">' for i in range(1, 10))
    doctype = f'<!DOCTYPE worksheet [<!ENTITY lol0 "lol">{lol}]>'.encode()
    sheet = zipfile.ZipFile(io.BytesIO(small_xlsx())).read(SHEET)
    end = sheet.index(b"?>") + 2 if b"?>" in sheet[:200] else 0
    sheet = sheet[:end] + doctype + sheet[end:].replace(b"</sheetData>", b'<row r="9"><c r="A9" t="inlineStr"><is><t>&lol9;'
                                                                      b"</t></is></c></row></sheetData>")
    return rewrite(small_xlsx(), SHEET, sheet)


def last_cell_of_excel() -> bytes:
    """A few hundred bytes claiming a cell at XFD1048576: calamine would allocate the rectangle."""
    src = zipfile.ZipFile(io.BytesIO(small_xlsx()))
    sheet = src.read(SHEET).replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    return rewrite(small_xlsx(), SHEET, sheet)


def lying_dimension() -> bytes:
    src = zipfile.ZipFile(io.BytesIO(small_xlsx()))
    sheet = src.read(SHEET)
    start = sheet.index(b"<dimension")
    end = sheet.index(b"/>", start) + 2
    return rewrite(small_xlsx(), SHEET, sheet[:start] + b'<dimension ref="A1:ZZZ9999999"/>' + sheet[end:])


def sparse_xlsx() -> bytes:
    """Within the row and column limits, but two cells in opposite corners: 256 million cells."""
    src = zipfile.ZipFile(io.BytesIO(small_xlsx()))
    sheet = src.read(SHEET).replace(b"</sheetData>", b'<row r="1000000"><c t="n" r="IV1000000"><v>1</v></c></row></sheetData>')
    return rewrite(small_xlsx(), SHEET, sheet)


def sparse_xls() -> bytes:
    """A 6 KB Excel 97–2003 file whose second cell is the grid's last (65,536 × 256: calamine
    would take ~1 GB for it)."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("花名册")
    for c, h in enumerate(ISSUE_HEADER):
        ws.write(0, c, h)
    ws.write(65535, 255, "x")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ods_repeats(middle: bool) -> bytes:
    """An .ods with a data row repeated 999,999 times, or (``middle``) 900,000 empty rows
    within the data: calamine would expand either."""
    from sheetfiles import write_ods
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "r.ods"
    write_ods(path, [ISSUE_HEADER, PEOPLE[0], ["__REPEAT__"], PEOPLE[1]])
    src = zipfile.ZipFile(path)
    content = src.read("content.xml")
    marker = b'<table:table-row><table:table-cell office:value-type="string"><text:p>__REPEAT__</text:p></table:table-cell></table:table-row>'
    if middle:
        repl = b'<table:table-row table:number-rows-repeated="900000"><table:table-cell/></table:table-row>'
    else:
        repl = (b'<table:table-row table:number-rows-repeated="999999"><table:table-cell office:value-type="string" '
                b'table:number-columns-repeated="9"><text:p>x</text:p></table:table-cell></table:table-row>')
    return rewrite(path.read_bytes(), "content.xml", content.replace(marker, repl))


def many_parts() -> bytes:
    return rewrite(small_xlsx(), "", extra={f"xl/media/image{i}.png": b"x" for i in range(LIMITS.parts + 1)})


def huge_line() -> bytes:
    return ",".join(ISSUE_HEADER).encode() + b"\n" + b"x" * (LIMITS.line_chars + 10)


def huge_field() -> bytes:
    field = ('"' + "一\n" * (LIMITS.cell_chars // 2 + 10) + '"').encode()
    return ",".join(ISSUE_HEADER).encode() + b"\n" + field + b",x\n"


def nul_bytes() -> bytes:
    return ",".join(ISSUE_HEADER).encode() + b"\n\x00\x00\x00,1\n"


def late_bad_encoding() -> bytes:
    """UTF-8 for 100 KB (past the encoding sniff), then bytes neither UTF-8 nor GB18030 can read."""
    good = (",".join(PEOPLE[0]) + "\n").encode()
    return ",".join(ISSUE_HEADER).encode() + b"\n" + good * (100_000 // len(good)) + b"\xff\xff\xff\n"


CORPUS = {
    "zip_bomb.xlsx": (zip_bomb, "zip_bomb"),
    "billion_laughs.xlsx": (billion_laughs, "xml_entities"),
    "last_cell.xlsx": (last_cell_of_excel, "too_many_rows"),
    "dimension.xlsx": (lying_dimension, "too_many_columns"),
    "parts.xlsx": (many_parts, "zip_parts"),
    "sparse.xlsx": (sparse_xlsx, "sparse_sheet"),
    "sparse.xls": (sparse_xls, "sparse_sheet"),
    "repeated_row.ods": (lambda: ods_repeats(False), "too_many_rows"),
    "empty_middle.ods": (lambda: ods_repeats(True), "too_many_rows"),
    "huge_line.csv": (huge_line, "line_too_long"),
    "huge_field.csv": (huge_field, "cell_too_long"),
    "nul.csv": (nul_bytes, "nul_bytes"),
    "encoding.csv": (late_bad_encoding, "encoding"),
    "truncated.xlsx": (lambda: small_xlsx()[:700], "bad_xlsx"),
    "ole_garbage.xls": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "bad_xlsx"),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_file_is_refused_cleanly_and_nothing_is_written(db, tmp_path, name):
    make, code = CORPUS[name]
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(UserFacingError) as exc:
        ImportService(db).import_roster(path, ACTOR, today=TODAY)
    assert exc.value.code == code, exc.value.message_zh
    assert exc.value.message_zh and any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message_zh)
    with pytest.raises(UserFacingError):
        ImportService(db).import_results(path, ACTOR, today=TODAY)
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from persons")).scalar() == 0
        assert conn.execute(text("select count(*) from audit_log where action like '%import%'")).scalar() == 0


def test_the_declared_sizes_are_checked_before_inflating(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(small_xlsx())
    check_zip(path)  # a normal workbook passes
    with pytest.raises(UserFacingError) as exc:
        check_zip(path, Limits(unzipped_bytes=1000))
    assert exc.value.code == "zip_bomb"


def test_row_and_column_limits(tmp_path):
    path = write_text(tmp_path / "wide.csv", [["a"] * 300, ["b"] * 300], "utf-8")
    with pytest.raises(UserFacingError) as exc:
        list(open_grid(path))
    assert exc.value.code == "too_many_columns"
    path = write_text(tmp_path / "long.csv", [["a", "b"]] * 60, "utf-8")
    with pytest.raises(UserFacingError) as exc:
        list(open_grid(path, Limits(rows=20)))
    assert exc.value.code == "too_many_rows"
    trailing = write_text(tmp_path / "trailing.csv", [["a", "b"] + [""] * 400], "utf-8")
    assert [c for _, c in open_grid(trailing)] == [["a", "b"]]  # empty cells to the right are not columns


def test_a_long_cell_in_an_xlsx_is_refused(db, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(ISSUE_HEADER)
    wb.active.append(["王" * (LIMITS.cell_chars + 1), *PEOPLE[0][1:]])
    wb.save(tmp_path / "long.xlsx")
    with pytest.raises(UserFacingError) as exc:
        ImportService(db).import_roster(tmp_path / "long.xlsx", ACTOR, today=TODAY)
    assert exc.value.code == "cell_too_long" and "第2行" in exc.value.message_zh


@SETTINGS
@given(parts=st.dictionaries(st.sampled_from(["[Content_Types].xml", SHEET, "xl/workbook.xml", "xl/sharedStrings.xml",
                                              "xl/_rels/workbook.xml.rels", "content.xml", "mimetype"]),
                             st.binary(max_size=300), min_size=1))
def test_arbitrary_zip_containers_give_a_clear_error_or_a_report(db, tmp_path_factory, parts):
    path = tmp_path_factory.mktemp("z") / "f.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    try:
        ImportService(db).import_roster(path, ACTOR, today=TODAY)
    except UserFacingError as exc:
        assert exc.message_zh


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\t\ufeff"), max_size=20)


@SETTINGS
@given(rows=st.lists(st.lists(TEXT, min_size=1, max_size=6), min_size=1, max_size=12),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
def test_any_text_grid_reads_back_cell_for_cell(tmp_path_factory, rows, encoding):
    path = write_text(tmp_path_factory.mktemp("g") / "g.csv", rows, encoding)
    if encoding == "gb18030":
        try:
            path.read_bytes().decode("utf-8")
            assume(False)  # also valid UTF-8: the bytes cannot tell (UTF-8 is tried first, as Excel does)
        except UnicodeDecodeError:
            pass
    assert [cells for _, cells in open_grid(path)] == [list(r) for r in rows]
