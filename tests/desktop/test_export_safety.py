"""Formula-safe exports (issue 16 §4): a name like =HYPERLINK(…) that reached the database some
other way (here: written into it directly) leaves in every export as text — a string cell in
XLSX, never a formula; a quoted-safe cell (leading ') in CSV."""

from __future__ import annotations

import csv
from datetime import date

import openpyxl
from scenario import ACTOR, TODAY
from sqlalchemy import text

from desktop.formats.exports import csv_cell, csv_row, payroll_xlsx
from desktop.domain.months import Month
from desktop.services.outreach import OutreachService
from desktop.services.payroll import PayrollService
from desktop.services.settings import SettingsService
from desktop.formats.xlsx import write_sheets

EVIL = '=HYPERLINK("http://x","点击")'
LEADS = [EVIL, "+1+2", "-3+4", "@SUM(A1)", "\t=1", "\r=1"]


def formulas(path) -> list:
    wb = openpyxl.load_workbook(path)
    return [(ws.title, c.coordinate, c.value) for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]


def values(path) -> set:
    wb = openpyxl.load_workbook(path)
    return {c.value for ws in wb for row in ws.iter_rows() for c in row}


def _evil_person(db, roster, last=date(2025, 1, 10)):
    number = roster.add(roster.person(), "enterprise_retiree", date(2010, 1, 1), last=last, amount=3000)
    roster.load()
    with db.engine.begin() as conn:
        conn.execute(text("update persons set name = :n where id_number = :i"), {"n": EVIL, "i": number})
    return number


def test_the_payroll_sheet_writes_a_formula_name_as_text(db, roster, tmp_path):
    number = _evil_person(db, roster)
    result = PayrollService(db, SettingsService(db)).run(Month.parse("2026-12"), ACTOR, record=False)
    assert [i["name"] for i in result.suspend] == [EVIL] and result.suspend[0]["id_number"] == number
    path = payroll_xlsx(result, tmp_path / "payroll.xlsx")
    assert formulas(path) == []
    assert EVIL in values(path)


def test_the_outreach_list_writes_a_formula_name_as_text(db, roster, tmp_path):
    _evil_person(db, roster, last=date(2025, 12, 20))  # due on 20 December: on the reminder list
    service = OutreachService(db, SettingsService(db))
    rows = service.due_within(60, as_of=TODAY)
    assert EVIL in {r.name for r in rows}
    path = service.export_xlsx(rows, tmp_path / "outreach.xlsx", TODAY)
    assert formulas(path) == [] and EVIL in values(path)


def test_every_writer_cell_beginning_with_a_formula_character_stays_text(tmp_path):
    rows = [[v, 1, 2.5, None] for v in LEADS]
    path = write_sheets(tmp_path / "x.xlsx", [("名单", "=标题", ["=列", "数"], iter(rows), len(rows))])
    assert formulas(path) == []
    got = values(path)
    assert {EVIL, "+1+2", "-3+4", "@SUM(A1)", "=标题", "=列"} <= got and 2.5 in got


def test_csv_cells_get_a_leading_quote(tmp_path):
    assert [csv_cell(v) for v in LEADS] == ["'" + v for v in LEADS]
    assert csv_row(["王桂兰", -5, 3.5, "2026-12", None]) == ["王桂兰", -5, 3.5, "2026-12", None]  # numbers stay numbers
    path = tmp_path / "x.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerow(csv_row([EVIL, "x"]))
    (cell, _), = csv.reader(path.open(encoding="utf-8-sig", newline=""))
    assert cell == "'" + EVIL and not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
