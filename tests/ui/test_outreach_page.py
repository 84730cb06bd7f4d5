"""OutreachPage (pytest-qt, offscreen): the list against a hand-built roster, marks, cancellation, export."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from desktop.domain.idnumber import make_number
from desktop.services.database import Database
from desktop.services.hub import Services
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.platform.workstation import Actor

AS_OF = date(2026, 11, 29)
ADMIN = Actor("管理员", "ws-test", "admin")


@pytest.fixture
def backend(tmp_path):
    from ui.models.backend import Backend

    rows = [
        ["甲本地", make_number("152202", date(1950, 3, 1), 1), "企业离退休人员", "2010-01-01", "2025-12-10", "13911110001", "林海街道1号", "本地", "3000"],
        ["乙远期", make_number("152202", date(1950, 3, 1), 2), "企业离退休人员", "2010-01-01", "2026-06-10", "13911110002", "林海街道2号", "本地", "3000"],
        ["丙异地", make_number("152202", date(1950, 3, 1), 3), "城乡居民养老保险待遇领取人员", "2012-01-01", "2026-02-01", "13911110003", "北京市朝阳区", "异地", "300"],
        ["丁遗属", make_number("152202", date(1950, 3, 1), 4), "企业职工遗属", "2015-01-01", "2026-11-20", "13911110004", "林海街道4号", "本地", "1200"],
    ]
    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        w.writerows(rows)
    db = Database.open(str(tmp_path / "db.sqlite"))
    assert not ImportService(db).import_roster(path, ADMIN, today=AS_OF).rejected
    services = Services(db)
    yield Backend(services.persons, services.lists, AS_OF, False, "test", services)
    db.dispose()


@pytest.fixture
def page(outreach_page):
    return outreach_page  # tests/ui/conftest.py, on this module's backend


def load(qtbot, page, days=35):
    page.days.setValue(days)
    with qtbot.waitSignal(page.finished, timeout=10_000):
        page.reload()


def test_list_matches_the_hand_built_roster(qtbot, page):
    load(qtbot, page, 35)
    rows = page.shown_rows()
    assert [r.name for r in rows] == ["甲本地", "丁遗属", "丙异地"]
    assert page.model.data(page.model.index(0, 2)).startswith("152202") and "*" in page.model.data(page.model.index(0, 2))
    assert "共 3 人（本地 2，异地 1，上门 0）" in page.summary.text()
    page.channel.setCurrentIndex(2)  # remote
    assert [r.name for r in page.shown_rows()] == ["丙异地"]
    page.channel.setCurrentIndex(0)
    load(qtbot, page, 30)
    assert [r.name for r in page.shown_rows()] == ["甲本地", "丁遗属"]


def test_mark_shows_on_row_and_persists(qtbot, page, backend):
    load(qtbot, page)
    page.table.selectRow(0)
    with qtbot.waitSignal(page.finished, timeout=5000):
        page.mark_buttons["will_come"].click()
    first = page.shown_rows()[0]
    assert first.last_outcome == "will_come"
    assert "答应前来" in page.model.data(page.model.index(0, 8))
    assert page.table.currentIndex().row() == 1  # moved on to the next resident
    hist = backend.services.outreach.history(first.person_id)
    assert hist[0]["outcome"] == "will_come"


def test_export_and_cancel(qtbot, page, tmp_path):
    from openpyxl import load_workbook

    load(qtbot, page)
    out = tmp_path / "名单.xlsx"
    with qtbot.waitSignal(page.finished, timeout=10_000):
        page.export_to(out)
    wb = load_workbook(out, read_only=True)
    assert [r[0] for r in list(wb["本地人员"].iter_rows(values_only=True))[2:]] == ["甲本地", "丁遗属"]
    # a cancelled job reports "已取消" and leaves the list usable
    page.model.set_rows(page.shown_rows() * 5000)
    with qtbot.waitSignal(page.finished, timeout=10_000) as blocker:
        page.export_to(tmp_path / "big.xlsx")
        assert page.taskbar.isVisible() and page.taskbar.busy
        page.taskbar.cancel()
    assert blocker.args == ["failed"] and "已取消" in page.summary.text()
    assert not (tmp_path / "big.xlsx").exists() and not page.taskbar.isVisible()


def test_letters_for_every_row_of_the_shown_list(qtbot, page, backend, tmp_path):
    """告知书 for every row of the list (read from it in the worker, not from the screen), one page each, and each
    person marked as written to."""
    from pypdf import PdfReader

    load(qtbot, page, 35)
    out = tmp_path / "告知书.pdf"
    with qtbot.waitSignal(page.finished, timeout=20_000) as blocker:
        page.print_letters_to(out)
    assert blocker.args == ["done"] and "已生成告知书 3 份" in page.summary.text()
    assert len(PdfReader(str(out)).pages) == 3
    names = {r.person_id: r.name for r in backend.services.outreach.due_within(35, AS_OF)}
    for pid in names:
        assert backend.services.outreach.history(pid)[0]["outcome"] == "letter_sent"
