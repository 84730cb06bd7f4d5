"""Real-shaped spreadsheet files made in the tests (imported by name: tests/desktop is on sys.path):
an Excel 97–2003 .xls written by xlwt (a title row merged across the sheet, a totals row, a
signature line), an .xlsx with two header rows of merged cells (openpyxl), an .ods assembled by
hand (the OpenDocument zip), CSV in GB18030."""

from __future__ import annotations

import csv
import zipfile
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from desktop.domain.idnumber import make_number

ISSUE_HEADER = ["姓名", "身份证号码", "人员类别", "待遇开始时间", "上次认证时间", "联系电话", "居住地址", "居住地类型", "月养老金"]
TITLE = "2026年阿尔山市企业离退休人员待遇领取花名册"

A = make_number("152202", date(1950, 3, 1), 11)
B = make_number("152221", date(1948, 7, 9), 22)
C = make_number("152224", date(1956, 12, 31), 33)

# the people of every file: start and last certification given as 年月, a date, a date and time
PEOPLE = [
    ["王桂兰", A, "企业离退休人员", "201005", "2026-03-15 10:20:00", "13900001111", "阿尔山市林海街道", "本地", "3,215.50"],
    ["巴特尔·其其格", B, "城乡居民养老保险待遇领取人员", "2015-03", "2025-12-01", "", "阿尔山市白狼镇", "异地", "180"],
    ["李德胜", C, "企业职工遗属", "2020-01-01", "", "0482-2771234", "", "本地", "1500"],
]


def write_xls(path: Path, header=ISSUE_HEADER, people=PEOPLE, *, title=TITLE, totals=True, numbers=True) -> Path:
    """What a provincial system exports: title row (merged), header, people, a blank row, the
    totals row, a signature line. ``numbers``: the start month and amounts as number cells."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("花名册")
    row = 0
    if title:
        ws.write_merge(0, 0, 0, len(header) - 1, title)
        row = 1
    for c, h in enumerate(header):
        ws.write(row, c, h)
    for person in people:
        row += 1
        for c, v in enumerate(person):
            if numbers and c == 3 and v.isdigit():
                v = int(v)  # 201005 typed as a number
            elif numbers and c == 8 and v.replace(".", "").isdigit():
                v = float(v)
            ws.write(row, c, v)
    if totals:
        row += 2  # a blank row between
        ws.write(row, 0, "合计")
        ws.write(row, 1, f"共{len(people)}人")
        ws.write(row, 8, 4895.5)
        ws.write(row + 1, 0, "制表人：张敏    审核人：李主任")
    wb.save(str(path))
    return path


def write_merged_xlsx(path: Path, people=PEOPLE) -> Path:
    """Two header rows: 基本信息 / 待遇信息 / 联系方式 merged over their columns, 姓名 and
    身份证号码 merged down both rows; a title row above."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([TITLE])
    ws.merge_cells("A1:I1")
    ws.append(["姓名", "身份证号码", "待遇信息", None, None, None, "联系方式", None, None])
    ws.append([None, None, "人员类别", "待遇开始时间", "上次认证时间", "月养老金", "联系电话", "居住地址", "居住地类型"])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    ws.merge_cells("C2:F2")
    ws.merge_cells("G2:I2")
    for p in people:
        ws.append([p[0], p[1], p[2], p[3], p[4], p[8], p[5], p[6], p[7]])
    ws.append([])
    ws.append(["合计", None, None, None, None, 4895.5])
    wb.save(path)
    return path


def write_ods(path: Path, rows: list[list[str]]) -> Path:
    """A minimal OpenDocument spreadsheet (what LibreOffice saves), all cells as text."""
    def cell(v):
        if v == "":
            return "<table:table-cell/>"
        return f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>" for r in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Sheet1">'
        f'{body}<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
        'table:number-columns-repeated="1024"/></table:table-row>'
        '</table:table></office:spreadsheet></office:body></office:document-content>')
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return path


def write_text(path: Path, rows: list[list[str]], encoding: str, delimiter: str = ",") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path
