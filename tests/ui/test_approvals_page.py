"""ApprovalsPage (pytest-qt, offscreen): a long suspension's resumption waits for a supervisor,
who approves it under their own name; a clerk sees the list and a clear message."""

from __future__ import annotations

import csv
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from desktop.domain.idnumber import make_number
from desktop.domain.months import Month
from desktop.services.database import Database
from desktop.services.hub import Services
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.platform.workstation import Actor

AS_OF = date(2026, 11, 29)
OFFICE = Actor("office", "ws-test", "admin")
NUMBER = make_number("152202", date(1950, 3, 1), 7)


@pytest.fixture
def backend(tmp_path):
    from ui.models.backend import Backend

    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        w.writerow(["久停恢复", NUMBER, "企业离退休人员", "2010-01-01", "2024-01-15", "13911110007", "林海街道7号", "本地", "2000"])
    db = Database.open(str(tmp_path / "db.sqlite"))
    assert not ImportService(db).import_roster(path, OFFICE, today=date(2024, 12, 1)).rejected
    services = Services(db)
    services.payroll.run(Month.parse("2025-02"), OFFICE)
    pid = services.persons.show(NUMBER, date(2026, 3, 5)).id
    services.persons.record_certification(pid, date(2026, 3, 5), "counter", OFFICE, today=date(2026, 3, 5))
    services.payroll.run(Month.parse("2026-04"), OFFICE)
    yield Backend(services.persons, services.lists, AS_OF, False, "test", services)
    db.dispose()


@pytest.fixture
def page(qtbot, backend, styled_qapp):
    from ui import workers
    from ui.pages.approvals import ApprovalsPage

    p = ApprovalsPage()
    qtbot.addWidget(p)
    p.set_backend(backend)
    p.resize(1200, 600)
    p.show()
    yield p
    assert workers.wait_for_idle(10_000)


def operator(username, role, name="操作员"):
    return SimpleNamespace(username=username, role=role, display_name=name)


def load(qtbot, page):
    with qtbot.waitSignal(page.finished, timeout=10_000):
        page.activated()


def test_supervisor_approves_with_own_identity(qtbot, page, backend):
    page.set_operator(operator("sup1", "supervisor", "王主管"), "ws-test")
    load(qtbot, page)
    assert page.model.rowCount() == 1
    cells = [page.model.data(page.model.index(0, c)) for c in range(page.model.columnCount())]
    assert cells[0] == "久停恢复"
    assert NUMBER not in cells and cells[1].startswith("152202") and "*" in cells[1]
    assert "14个月" in cells[6]
    assert cells[9] == "2026-04"  # waiting since the run that first asked
    assert "1 项待审核" in page.summary.text()
    assert page.approve_button.isEnabled() and "王主管" in page.message.text()
    page.table.selectRow(0)
    with qtbot.waitSignal(page.finished, timeout=10_000, check_params_cb=lambda s: s == "approved"):
        page.approve_button.click()
    qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=10_000)
    assert "已审核通过" in page.message.text()
    with backend.services.db.engine.connect() as conn:
        assert conn.execute(text("select approved_by from entitlement_events where needs_approval and voided_at is null")).scalar() == "sup1"
        assert conn.execute(text("select workstation from audit_log where action='payroll.resume_approved'")).scalar() == "ws-test"


def test_clerk_sees_list_but_cannot_approve(qtbot, page, backend):
    page.set_operator(operator("clerk1", "clerk"), "ws-test")
    load(qtbot, page)
    assert page.model.rowCount() == 1
    assert not page.approve_button.isEnabled()
    assert "只有审核主管或系统管理员可以审核" in page.message.text()
    page.table.selectRow(0)
    page.approve()  # even if called, nothing is approved
    assert workers_idle()
    with backend.services.db.engine.connect() as conn:
        assert conn.execute(text("select approved_by from entitlement_events where needs_approval and voided_at is null")).scalar() is None


def test_page_plugs_into_the_main_window():
    from ui.main_window import discover_pages

    spec = next(s for s in discover_pages() if s["key"] == "approvals")
    assert spec["title"] == "待审核" and spec["order"] == 41


def workers_idle() -> bool:
    from ui import workers

    return workers.wait_for_idle(5_000)
