"""The streamed XLSX writer (desktop/formats/xlsx.py, issue 20): what it writes is read back
cell for cell by openpyxl and by python-calamine — text (Chinese, leading/trailing spaces, XML
specials), integers, decimals, booleans, dates and date-times typed as such, empty cells —
and text that begins with ``=`` stays text (no formula anywhere in the file)."""

from __future__ import annotations

import threading
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from desktop.formats.xlsx import Cancelled, write_sheets

HEADER = ["姓名", "身份证号码", "金额（元）", "人数", "截止日期", "导出时间", "需审核", "备注"]
ROWS = [
    ["王桂兰", "152201********0011", 1234.5, 3, date(2026, 12, 31), datetime(2026, 12, 4, 9, 30, 15), True, "  前后空格  "],
    ["=HYPERLINK(\"http://x\",\"点我\")", "=1+1", 0.1, -7, date(1950, 3, 1), datetime(2000, 1, 1, 8, 0), False, "<a & b>\"'"],
    ["张\x01三", "", 10 ** 12, 0, date(2027, 2, 28), datetime(2027, 2, 28, 23, 59, 59), False, "多行\n文本\t制表"],
    ["李四", None, None, 1, None, None, None, None],
]


def _write(tmp_path, rows=ROWS, **kw):
    return write_sheets(tmp_path / "x.xlsx", [("名单", "认证到期提醒名单（本地）", HEADER, iter(rows), len(rows)),
                                              ("第二页", None, ["甲"], iter([["乙"]]), 1)], **kw)


def _expected(v):
    if isinstance(v, str):
        return v.replace("\x01", "")
    return v


def test_openpyxl_reads_every_cell_typed(tmp_path):
    path = _write(tmp_path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["名单", "第二页"]
    ws = wb["名单"]
    assert ws["A1"].value == "认证到期提醒名单（本地）" and ws["A1"].font.b and ws["A1"].font.sz == 12
    assert [c.value for c in ws[2]] == HEADER and all(c.font.b for c in ws[2])
    for i, row in enumerate(ROWS, start=3):
        got = [c.value for c in ws[i]] + [None] * len(row)
        want = [_expected(v) for v in row]
        # openpyxl gives dates back as datetimes at midnight
        want = [datetime(v.year, v.month, v.day) if type(v) is date else v for v in want]
        assert got[: len(want)] == want, i
        for c in ws[i]:
            assert c.data_type != "f"
    assert ws["E3"].number_format == "yyyy\\-mm\\-dd" or ws["E3"].is_date
    assert ws["F3"].is_date
    assert wb["第二页"]["A1"].value == "甲" and wb["第二页"]["A2"].value == "乙"


def test_calamine_reads_every_cell_typed(tmp_path):
    path = _write(tmp_path)
    wb = CalamineWorkbook.from_path(str(path))
    assert wb.sheet_names == ["名单", "第二页"]
    rows = wb.get_sheet_by_name("名单").to_python(skip_empty_area=False)
    assert rows[0][0] == "认证到期提醒名单（本地）"
    assert rows[1] == HEADER
    assert rows[2][:8] == ["王桂兰", "152201********0011", 1234.5, 3, date(2026, 12, 31),
                           datetime(2026, 12, 4, 9, 30, 15), True, "  前后空格  "]
    assert rows[3][:8] == ["=HYPERLINK(\"http://x\",\"点我\")", "=1+1", 0.1, -7, date(1950, 3, 1),
                           datetime(2000, 1, 1, 8, 0), False, "<a & b>\"'"]
    assert rows[4][:8] == ["张三", "", 10 ** 12, 0, date(2027, 2, 28), datetime(2027, 2, 28, 23, 59, 59), False,
                           "多行\n文本\t制表"]
    assert rows[5][0] == "李四" and rows[5][3] == 1 and all(v == "" for v in rows[5][4:8])


def test_no_formula_and_the_text_stays_text(tmp_path):
    path = _write(tmp_path)
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in xml and "<f " not in xml
        assert zf.testzip() is None
    ws = openpyxl.load_workbook(path)["名单"]
    assert ws["A4"].data_type == "s" and ws["A4"].value.startswith("=")


def test_cancel_leaves_no_file_and_progress_is_reported(tmp_path):
    rows = [["王", str(i), i] for i in range(5_000)]
    stop = threading.Event()
    seen = []

    def progress(pct, text):
        seen.append(pct)
        if pct >= 40:
            stop.set()

    with pytest.raises(Cancelled):
        write_sheets(tmp_path / "c.xlsx", [("s", None, ["a", "b", "c"], iter(rows), len(rows))], progress=progress,
                     cancel=stop)
    assert not (tmp_path / "c.xlsx").exists() and list(tmp_path.iterdir()) == []
    seen.clear()
    path = write_sheets(tmp_path / "c.xlsx", [("s", None, ["a", "b", "c"], iter(rows), len(rows))], progress=progress)
    assert seen[-1] == 100 and seen[0] < 100
    assert sum(1 for _ in openpyxl.load_workbook(path, read_only=True)["s"].iter_rows()) == 5_001


def test_odd_sheet_names_are_made_acceptable(tmp_path):
    path = write_sheets(tmp_path / "n.xlsx", [("a/b:c", None, ["x"], iter([]), 0), ("A/B:C", None, ["x"], iter([]), 0),
                                              ("长" * 40, None, ["x"], iter([]), 0)])
    names = openpyxl.load_workbook(path).sheetnames
    assert names[0] == "a_b_c" and names[1] != names[0] and len(names[2]) <= 31
