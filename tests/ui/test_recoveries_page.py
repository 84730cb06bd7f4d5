"""RecoveriesPage (pytest-qt, offscreen): a death reported and reversed by a supervisor (a clerk is
refused), a recovery planned in instalments and a payment recorded, and a death from the
data-exchange import stopped at once with 立即终止并计算多领."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from desktop.domain.idnumber import make_number
from desktop.services.database import Database
from desktop.services.hub import Services
from desktop.services.imports import DEATH_COLUMNS, ROSTER_COLUMNS, ImportService
from desktop.services.operators import OperatorView
from desktop.platform.workstation import Actor

AS_OF = date(2026, 11, 29)
ADMIN = Actor("管理员", "ws-test", "admin")
CLERK_OP = OperatorView("op-1", "张敏", "张敏", "clerk", True, False)
SUPERVISOR_OP = OperatorView("op-2", "李主管", "李主管", "supervisor", True, False)
NUMBERS = {k: make_number("152202", date(1950, 3, 1), i) for i, k in enumerate(("sun", "zhou", "wu"), 1)}


@pytest.fixture
def backend(tmp_path):
    from ui.models.backend import Backend

    rows = [
        ["孙已故", NUMBERS["sun"], "企业离退休人员", "2025-08-01", "2026-06-01", "13911110001", "林海街道1号", "本地", "3000"],
        ["周比对", NUMBERS["zhou"], "企业离退休人员", "2020-01-01", "2026-05-01", "13911110002", "林海街道2号", "本地", "2000"],
        ["吴健在", NUMBERS["wu"], "企业离退休人员", "2020-01-01", "2026-05-01", "13911110003", "林海街道3号", "本地", "2000"],
    ]
    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        w.writerows(rows)
    db = Database.open(str(tmp_path / "db.sqlite"))
    assert not ImportService(db).import_roster(path, ADMIN, today=AS_OF).rejected
    s = Services(db)
    s.payroll_review.record("2026-11", ADMIN)  # November was paid to everyone
    yield Backend(s.persons, s.lists, AS_OF, False, "test", s)
    db.dispose()


@pytest.fixture
def page(qtbot, backend, styled_qapp):
    from ui import workers
    from ui.pages.recoveries import RecoveriesPage

    p = RecoveriesPage()
    qtbot.addWidget(p)
    p.set_backend(backend)
    p.set_operator(SUPERVISOR_OP, "ws-test")
    p.resize(1300, 800)
    p.show()
    with qtbot.waitSignal(p.finished, timeout=10_000):
        p.activated()
    yield p
    assert workers.wait_for_idle(10_000)


def _do(qtbot, page, action):
    with qtbot.waitSignal(page.finished, timeout=10_000) as blocker:
        action()
    return blocker.args[0]


def _cell(page, row, col):
    return page.model.data(page.model.index(row, col))


def _report(qtbot, page, number, day):
    from PySide6.QtCore import QDate

    page.number.setText(number)
    page.death_date.setDate(QDate(day.year, day.month, day.day))
    return _do(qtbot, page, page.report_button.click)


def test_report_death_as_supervisor_clerk_refused(qtbot, page, backend):
    assert page.model.rowCount() == 0 and not page.pending_box.isVisible()
    page.set_operator(CLERK_OP, "ws-test")
    assert _report(qtbot, page, NUMBERS["sun"], date(2026, 8, 15)) == "failed"
    assert "无权限" in page.summary.text() and page.model.rowCount() == 0

    page.set_operator(SUPERVISOR_OP, "ws-test")
    assert _report(qtbot, page, NUMBERS["sun"], date(2026, 8, 15)) == "loaded"
    assert "已终止 1 项待遇" in page.summary.text() and "多领 9,000.00 元" in page.summary.text()
    assert "1 个案件，未追回合计 9,000.00 元" in page.summary.text()
    assert _cell(page, 0, 0) == "孙已故" and "*" in _cell(page, 0, 1) and _cell(page, 0, 3) == "2026-08-15"
    assert _cell(page, 0, 4) == "2026-09～2026-11（3个月）" and _cell(page, 0, 5) == "9,000.00"
    assert _cell(page, 0, 8) == "待追回"
    person = backend.services.persons.show(NUMBERS["sun"], AS_OF)
    assert person.death_date == date(2026, 8, 15) and person.entitlements[0].status == "terminated"
    # reported twice: refused, nothing changes
    assert _report(qtbot, page, NUMBERS["sun"], date(2026, 8, 15)) == "failed"
    assert "已登记死亡" in page.summary.text() and len(backend.services.deaths.cases()) == 1


def test_plan_instalments_and_record_a_payment(qtbot, page, backend):
    _report(qtbot, page, NUMBERS["sun"], date(2026, 8, 15))
    page.table.selectRow(0)
    page._selected()
    assert "尚未确定追回方式" in page.detail.text() and page.amount.value() == 9000.0
    page.method.setCurrentIndex(page.method.findData("instalments"))
    page.instalments.setValue(3)
    assert _do(qtbot, page, page.plan_button.click) == "loaded"
    assert _cell(page, 0, 7) == "分期退回" and _cell(page, 0, 8) == "追回中"
    (case,) = backend.services.deaths.cases()
    assert [(i.due_month, i.amount) for i in case.plan] == [("2026-11", 3000.0), ("2026-12", 3000.0), ("2027-01", 3000.0)]

    page.table.selectRow(0)
    page._selected()
    assert "1. 2026-11 应收 3,000.00 元" in page.detail.text()
    page.amount.setValue(3000)
    assert _do(qtbot, page, page.pay_button.click) == "loaded"
    assert _cell(page, 0, 6) == "3,000.00" and "未追回合计 6,000.00 元" in page.summary.text()
    page.set_operator(CLERK_OP, "ws-test")
    page.table.selectRow(0)
    assert _do(qtbot, page, page.pay_button.click) == "failed" and "无权限" in page.summary.text()
    assert backend.services.deaths.cases()[0].paid == 3000.0


def test_reverse_a_death_recorded_in_error(qtbot, page, backend):
    _report(qtbot, page, NUMBERS["sun"], date(2026, 8, 15))
    page.number.setText(NUMBERS["sun"])
    page.reason.setText("本人到窗口认证，民政数据有误")
    page.set_operator(CLERK_OP, "ws-test")
    assert _do(qtbot, page, page.reverse_button.click) == "failed" and "无权限" in page.summary.text()
    assert backend.services.persons.show(NUMBERS["sun"], AS_OF).death_date is not None

    page.set_operator(SUPERVISOR_OP, "ws-test")
    assert _do(qtbot, page, page.reverse_button.click) == "loaded"
    assert "已撤销死亡登记" in page.summary.text()
    # the case was opened ahead of the next run and never sent to payroll: withdrawn, not reversed
    assert _cell(page, 0, 3) == "（已撤销）" and _cell(page, 0, 8) == "已作废（未发出）"
    person = backend.services.persons.show(NUMBERS["sun"], AS_OF)
    assert person.death_date is None and person.entitlements[0].status != "terminated"
    (case,) = backend.services.deaths.cases()
    assert case.status == "void" and "民政数据有误" in case.note


def test_imported_death_stopped_at_once(qtbot, page, backend, tmp_path):
    path = tmp_path / "deaths.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(DEATH_COLUMNS)
        w.writerow([NUMBERS["zhou"], "周比对", "2026-09-20", "民政殡葬数据"])
    assert not backend.services.imports.import_results(path, ADMIN, today=AS_OF).rejected
    assert _do(qtbot, page, page.load) == "loaded"
    assert page.pending_box.isVisible() and page.pending_box.title().endswith("（1）")
    pm = page.pending_model
    assert pm.rowCount() == 1 and pm.data(pm.index(0, 0)) == "周比对" and "*" in pm.data(pm.index(0, 1))
    assert pm.data(pm.index(0, 2)) == "2026-09-20" and pm.data(pm.index(0, 3)) == "民政殡葬数据"
    assert page.model.rowCount() == 0  # no case yet: the import only recorded the date

    # nothing selected: a hint, no action
    page.process_button.click()
    assert "请先" in page.summary.text()
    page.set_operator(CLERK_OP, "ws-test")
    page.pending_table.selectRow(0)
    assert _do(qtbot, page, page.process_button.click) == "failed" and "无权限" in page.summary.text()

    page.set_operator(SUPERVISOR_OP, "ws-test")
    page.pending_table.selectRow(0)
    assert _do(qtbot, page, page.process_button.click) == "loaded"
    assert "已终止 1 项待遇" in page.summary.text() and "多领 4,000.00 元" in page.summary.text()
    assert page.pending_model.rowCount() == 0 and not page.pending_box.isVisible()
    assert _cell(page, 0, 0) == "周比对" and _cell(page, 0, 4) == "2026-10～2026-11（2个月）"
    assert _cell(page, 0, 5) == "4,000.00" and _cell(page, 0, 8) == "待追回"
    assert backend.services.persons.show(NUMBERS["zhou"], AS_OF).entitlements[0].status == "terminated"
    assert backend.services.persons.show(NUMBERS["wu"], AS_OF).entitlements[0].status != "terminated"
