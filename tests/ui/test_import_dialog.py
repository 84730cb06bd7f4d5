"""The import dialog (issue 21, pytest-qt offscreen): the provincial roster export — headers
姓名, 身份证号码, 人员类别 …, an .xls with a title row and a totals row — imports with the right
mapping after one confirmation, nothing written before it; the mapping saved as a source profile
is offered for the next file with the same header, and the command line imports with
``--profile`` thereafter. Also: the due-list CSV export writes a formula name as text."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from desktop.services.database import Database
from desktop.services.imports import ImportService
from desktop.services.profiles import ProfileService
from desktop.platform.workstation import Actor

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 29)
SUPERVISOR = Actor("t_supervisor", "ws-test", "supervisor")
_spec = importlib.util.spec_from_file_location("sheetfiles_ui", ROOT / "tests" / "desktop" / "sheetfiles.py")
sheetfiles = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sheetfiles)


@pytest.fixture
def db(tmp_path):
    database = Database.open(f"sqlite:///{tmp_path / 'ui.sqlite'}")
    yield database
    database.dispose()


def count(db, table: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text(f"select count(*) from {table}")).scalar()


def open_dialog(qtbot, db, path: Path, kind: str = "roster"):
    from ui.dialogs.import_dialog import ImportDialog

    dialog = ImportDialog(ImportService(db), ProfileService(db), SUPERVISOR, path, kind, today=AS_OF)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        dialog.show()
    return dialog


def test_provincial_xls_imports_after_one_confirmation_then_by_profile(qtbot, styled_qapp, db, tmp_path):
    path = sheetfiles.write_xls(tmp_path / "省系统花名册.xls")
    dialog = open_dialog(qtbot, db, path)
    assert dialog.preview.header_line == 2  # found below the title row
    assert [line for line, _ in dialog.preview.rows] == [3, 4, 5]  # 合计 and 制表人 are not people
    chosen = [c.currentData() for c in dialog.combos]
    assert chosen == ["姓名", "公民身份号码", "认证对象", "待遇开始日期", "最近认证日期", "联系电话", "居住地址",
                      "居住地类型", "月待遇金额"]
    assert dialog.combos[1].currentText() == "＊公民身份号码"  # required fields are marked
    assert dialog.confirm.isEnabled() and dialog.missing_label.text() == ""
    assert count(db, "persons") == 0  # nothing written before the confirmation
    shown = [dialog.table.item(r, 1).text() for r in range(1, dialog.table.rowCount())]
    assert shown[0] == sheetfiles.A[:6] + "********" + sheetfiles.A[-4:]  # ID numbers masked, as in lists
    assert not any(sheetfiles.A in dialog.table.item(r, c).text()
                   for r in range(1, dialog.table.rowCount()) for c in range(dialog.table.columnCount()))

    dialog.save_profile.setChecked(True)
    dialog.profile_name.setText("省系统花名册")
    with qtbot.waitSignal(dialog.finished_import, timeout=30_000) as done:
        qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    report = done.args[0]
    assert not isinstance(report, BaseException), report
    assert report.as_json()["imported"] == 3 and report.rejected == []
    assert "新增 3" in dialog.result.text() and not dialog.confirm.isEnabled()
    assert count(db, "persons") == 3

    # the next file with the same header: the profile is offered by itself
    again = open_dialog(qtbot, db, path)
    assert again.profile.currentData() == "省系统花名册"

    # and the command line imports with it
    from cli_auth import signed_env

    url = f"sqlite:///{tmp_path / 'ui.sqlite'}"
    env = {**os.environ, "CERTDESK_HOME": str(tmp_path / "home"), "CERTDESK_DB": url, **signed_env(url, "supervisor")}
    r = subprocess.run([sys.executable, "-m", "ui", "roster", "import", str(path), "--profile", "省系统花名册", "--json"],
                       cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["unchanged"] == 3


def test_an_unknown_column_is_mapped_by_the_clerk_and_missing_ones_block_the_import(qtbot, styled_qapp, db, tmp_path):
    header = ["姓名", "身份证号码", "享受类别", "待遇开始时间"]
    path = sheetfiles.write_xls(tmp_path / "x.xls", header=header, people=[p[:4] for p in sheetfiles.PEOPLE])
    dialog = open_dialog(qtbot, db, path)
    assert dialog.combos[2].currentData() == ""
    assert not dialog.confirm.isEnabled() and "认证对象" in dialog.missing_label.text()
    dialog.combos[3].setCurrentIndex(dialog.combos[3].findData("认证对象"))
    assert not dialog.confirm.isEnabled() and "同一项目选了两列" not in dialog.missing_label.text()
    assert "待遇开始日期" in dialog.missing_label.text()
    dialog.combos[3].setCurrentIndex(dialog.combos[3].findData("待遇开始日期"))
    dialog.combos[2].setCurrentIndex(dialog.combos[2].findData("认证对象"))
    assert dialog.confirm.isEnabled()
    with qtbot.waitSignal(dialog.finished_import, timeout=30_000) as done:
        dialog.confirm.click()
    assert done.args[0].imported == 3


def test_a_refused_file_is_said_in_chinese(qtbot, styled_qapp, db, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    dialog = open_dialog(qtbot, db, path)
    assert "无法读取文件" in dialog.header_label.text() and not dialog.confirm.isEnabled()


def test_the_imports_page_plugs_in():
    from ui.main_window import discover_pages

    spec = next(s for s in discover_pages() if s["key"] == "imports")
    assert spec["title"] == "导入名单"


def test_due_list_csv_writes_a_formula_name_as_text(tmp_path):
    from ui.pages.due import write_due_csv

    row = SimpleNamespace(name='=HYPERLINK("http://x","点击")', masked_id="152202********1234", cohort_zh="企业离退休人员",
                          deadline=date(2026, 12, 1), suspend_from="2027-01", phone="+8613900000000", residence="local")
    path = write_due_csv([row], tmp_path / "due.csv")
    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    assert rows[1][0] == "'" + row.name and rows[1][5] == "'+8613900000000"
