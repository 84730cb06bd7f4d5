"""PayrollMonthPage (pytest-qt, offscreen): review and record a month, a flagged resumption approved
by a supervisor (a clerk is refused), the XLSX hand-over with its progress bar and export record."""

from __future__ import annotations

import csv
import hashlib
from datetime import date

import pytest

from desktop.domain.idnumber import make_number
from desktop.services.database import Database
from desktop.services.hub import Services
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.services.operators import OperatorView
from desktop.platform.workstation import Actor

AS_OF = date(2026, 11, 29)
ADMIN = Actor("管理员", "ws-test", "admin")
CLERK_OP = OperatorView("op-1", "张敏", "张敏", "clerk", True, False)
SUPERVISOR_OP = OperatorView("op-2", "李主管", "李主管", "supervisor", True, False)
NUMBERS = {k: make_number("152202", date(1950, 3, 1), i) for i, k in enumerate(("long", "soon", "dead"), 1)}


@pytest.fixture
def backend(tmp_path):
    from ui.models.backend import Backend

    rows = [
        ["赵长停", NUMBERS["long"], "企业离退休人员", "2010-01-01", "2024-06-01", "13911110001", "林海街道1号", "本地", "3000"],
        ["钱将停", NUMBERS["soon"], "企业离退休人员", "2025-08-01", "2025-11-15", "13911110002", "林海街道2号", "本地", "2500"],
        ["孙已故", NUMBERS["dead"], "企业离退休人员", "2025-08-01", "2026-06-01", "13911110003", "林海街道3号", "本地", "3000"],
    ]
    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        w.writerows(rows)
    db = Database.open(str(tmp_path / "db.sqlite"))
    assert not ImportService(db).import_roster(path, ADMIN, today=AS_OF).rejected
    s = Services(db)
    ids = {k: s.persons.show(n, AS_OF).id for k, n in NUMBERS.items()}
    s.payroll_review.record("2025-07", ADMIN)  # 赵 suspended from 2025-07
    s.payroll_review.record("2026-11", ADMIN)
    s.persons.record_certification(ids["long"], date(2026, 11, 20), "counter", Actor("张敏", "ws-test", "clerk"),
                                   today=AS_OF)
    s.deaths.report_death(ids["dead"], date(2026, 8, 15), ADMIN, as_of=AS_OF)
    yield Backend(s.persons, s.lists, AS_OF, False, "test", s)
    db.dispose()


@pytest.fixture
def page(qtbot, backend, styled_qapp):
    from ui import long_task, workers
    from ui.pages.payroll_month import PayrollMonthPage

    p = PayrollMonthPage()
    qtbot.addWidget(p)
    p.set_backend(backend)
    p.set_operator(SUPERVISOR_OP, "ws-test")
    p.resize(1300, 760)
    p.show()
    yield p
    assert long_task.wait_for_long_tasks(10_000) and workers.wait_for_idle(10_000)


def _do(qtbot, page, action, timeout=10_000):
    with qtbot.waitSignal(page.finished, timeout=timeout) as blocker:
        action()
    return blocker.args[0]


def _december(qtbot, page, record=False):
    page.month.setCurrentIndex(page.month.findData("2026-12"))
    assert _do(qtbot, page, page.record if record else page.load) == "loaded"


def test_preview_then_record_the_month(qtbot, page, backend):
    _december(qtbot, page)
    assert not page.review.recorded and "预览（尚未生成）" in page.summary.text()
    assert [page.tabs.tabText(i) for i in range(5)] == ["暂停发放（1）", "恢复发放（1）", "终止发放（1）", "多领追回（1）",
                                                        "待审核（0）"]
    m = page.models["suspend"]
    assert m.data(m.index(0, 0)) == "钱将停" and "*" in m.data(m.index(0, 1)) and m.data(m.index(0, 3)) == "2026-11-15"
    r = page.models["resume"]
    assert r.data(r.index(0, 0)) == "赵长停" and r.data(r.index(0, 6)) == "51,000.00" and r.data(r.index(0, 7)) == "待主管审核"
    rec = page.models["recover"]
    assert rec.data(rec.index(0, 0)) == "孙已故" and rec.data(rec.index(0, 5)) == "9,000.00"
    assert backend.services.payroll_review.review("2026-12").recorded is False  # a preview records nothing

    _december(qtbot, page, record=True)
    assert page.review.recorded and "已生成" in page.summary.text() and "另有待审核补发 51,000.00 元" in page.summary.text()
    assert page.tabs.tabText(4) == "待审核（1）"
    assert page.approvals.data(page.approvals.index(0, 0)) == "赵长停"
    assert page.approvals.data(page.approvals.index(0, 6)) == "待审核"
    assert page.approvals.data(page.approvals.index(0, 7)) == "2026年12月"  # waiting since the December run


def test_clerk_cannot_record_or_approve_supervisor_can(qtbot, page, backend):
    page.set_operator(CLERK_OP, "ws-test")
    page.month.setCurrentIndex(page.month.findData("2026-12"))
    assert _do(qtbot, page, page.record) == "failed" and "无权限" in page.summary.text()

    page.set_operator(SUPERVISOR_OP, "ws-test")
    _december(qtbot, page, record=True)
    page.set_operator(CLERK_OP, "ws-test")
    page.tabs.setCurrentIndex(4)
    page.approvals_table.selectRow(0)
    assert _do(qtbot, page, page.approve_button.click) == "failed"
    assert "无权限" in page.summary.text() and "审核" in page.summary.text()
    assert backend.services.payroll_review.review("2026-12").pending == 1

    page.set_operator(SUPERVISOR_OP, "ws-test")
    page.approvals_table.selectRow(0)
    assert _do(qtbot, page, page.approve_button.click) == "loaded"
    assert page.tabs.tabText(4) == "待审核（0）"
    assert page.approvals.data(page.approvals.index(0, 6)) == "李主管"
    r = page.models["resume"]
    assert r.data(r.index(0, 7)) == "已审核：李主管"
    review = backend.services.payroll_review.review("2026-12")
    assert review.pending == 0 and review.approvals[0].approved_by == "李主管"


def test_export_xlsx_with_progress_and_record(qtbot, page, backend, tmp_path):
    from openpyxl import load_workbook

    _december(qtbot, page, record=True)
    assert page.export_button.isEnabled()
    seen = []
    original = page.taskbar._progress
    page.taskbar._progress = lambda pct, text: (seen.append(pct), original(pct, text))
    out = tmp_path / "2026-12发放指令.xlsx"
    with qtbot.waitSignal(page.finished, timeout=15_000) as blocker:
        page.export_to(out)
        assert page.taskbar.isVisible() and page.taskbar.busy
    assert blocker.args == ["exported"] and not page.taskbar.isVisible()
    assert seen and max(p for p in seen if p is not None) == 100
    assert "已导出 2026-12发放指令.xlsx（李主管" in page.summary.text()

    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames == ["暂停发放", "恢复发放", "终止发放", "多领追回", "补发与追回汇总"]
    suspend = list(wb["暂停发放"].iter_rows(values_only=True))
    assert suspend[0][0].startswith("2026-12 发放月 暂停发放名单")
    assert suspend[2][:2] == ("钱将停", NUMBERS["soon"])  # full ID number for the payroll department
    resume = list(wb["恢复发放"].iter_rows(values_only=True))
    assert resume[2][0] == "赵长停" and resume[2][1] == NUMBERS["long"] and resume[2][7] == 51000
    recover = list(wb["多领追回"].iter_rows(values_only=True))
    assert recover[2][:2] == ("孙已故", NUMBERS["dead"]) and recover[2][5] == 9000
    terminate = list(wb["终止发放"].iter_rows(values_only=True))
    assert terminate[2][0] == "孙已故"

    (rec,) = backend.services.payroll_review.exports("2026-12")
    assert (rec.filename, rec.operator, rec.workstation) == ("2026-12发放指令.xlsx", "李主管", "ws-test")
    assert rec.sha256 == hashlib.sha256(out.read_bytes()).hexdigest() and rec.pending_approvals == 1
    assert rec.counts == {"suspend": 1, "resume": 1, "terminate": 1, "recover": 1, "corrections": 1}
    e = page.exports
    assert e.rowCount() == 1 and e.data(e.index(0, 2)) == "2026-12发放指令.xlsx" and e.data(e.index(0, 3)) == "李主管"
    assert e.data(e.index(0, 7)) == rec.sha256[:16] + "…"


def test_clerk_export_refused_and_no_record(qtbot, page, backend, tmp_path):
    _december(qtbot, page)
    page.set_operator(CLERK_OP, "ws-test")
    out = tmp_path / "clerk.xlsx"
    with qtbot.waitSignal(page.finished, timeout=10_000) as blocker:
        page.export_to(out)
    assert blocker.args == ["failed"] and "无权限" in page.summary.text()
    assert not out.exists() and backend.services.payroll_review.exports("2026-12") == []
