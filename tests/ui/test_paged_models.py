"""The paged table model (issue 20, ui/models/paged.py) on the real outreach page: a long list
arrives a page at a time as the view scrolls (canFetchMore / fetchMore), a header click asks
the list (SQL) for another order, the filters narrow it in SQL, and exports and letters still
take every row, not just those on screen; the dashboard draws its coverage chart first."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from db.models import Certification, Entitlement, Person, new_id
from db.bulk import bulk_insert
from desktop.domain.idnumber import make_number
from desktop.services.database import Database
from desktop.services.hub import Services

AS_OF = date(2026, 11, 29)
N = 650  # > 3 pages of 200


@pytest.fixture
def backend(tmp_path):
    from ui.models.backend import Backend

    db = Database.open(str(tmp_path / "db.sqlite"))
    now = datetime(2026, 11, 1)
    persons, ents, certs = [], [], []
    for i in range(N):
        pid = new_id()
        persons.append({"id": pid, "id_number": make_number("152202", date(1940, 1, 1) + timedelta(days=i), 1),
                        "name": f"人{(i * 37) % N:04d}", "phone": f"139{i:08d}", "address": "林海街道",
                        "residence": "remote" if i % 4 == 0 else "local", "created_at": now, "updated_at": now})
        ents.append({"id": new_id(), "person_id": pid, "cohort": "enterprise_retiree", "start_date": date(2010, 1, 1),
                     "monthly_amount_fen": 300_000, "status": "active", "created_at": now, "updated_at": now})
        certs.append({"id": new_id(), "person_id": pid, "cert_date": date(2025, 11, 1) + timedelta(days=i % 50),
                      "method": "legacy", "result": "passed", "created_at": now})
    with db.engine.begin() as conn:
        bulk_insert(conn, Person.__table__, persons)
        bulk_insert(conn, Entitlement.__table__, ents)
        bulk_insert(conn, Certification.__table__, certs)
    services = Services(db)
    yield Backend(services.persons, services.lists, AS_OF, False, "test", services)
    db.dispose()


@pytest.fixture
def page(outreach_page):
    return outreach_page  # tests/ui/conftest.py, on this module's backend


def test_long_list_arrives_page_by_page_and_sorts_in_sql(qtbot, page, backend, tmp_path):
    from PySide6.QtCore import Qt

    page.days.setValue(60)
    with qtbot.waitSignal(page.finished, timeout=10_000):
        page.reload()
    want = backend.services.outreach.due_within(60, AS_OF)
    assert len(want) == N
    assert page.model.rowCount() == 200 and page.model.canFetchMore()
    assert f"共 {N} 人" in page.summary.text() and f"显示 {N} 人" in page.summary.text()
    page.table.scrollToBottom()  # the view asks for the next page as it reaches the end
    qtbot.waitUntil(lambda: page.model.rowCount() > 200, timeout=5000)
    assert page.model.rows() == want[:page.model.rowCount()]
    # a header click: the list sorted by name in SQL, first page only
    page.table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.AscendingOrder)
    assert page.model.rowCount() == 200
    names = [page.model.row_at(i).name for i in range(200)]
    assert names == sorted(r.name for r in want)[:200]
    # a filter is SQL too; the export takes every matching row, not the 200 on screen
    page.channel.setCurrentIndex(2)  # remote
    remote = [r for r in want if r.channel == "remote"]
    assert page.model.rowCount() == min(200, len(remote)) and f"显示 {len(remote)} 人" in page.summary.text()
    assert len(page.all_rows()) == len(remote)
    out = tmp_path / "名单.xlsx"
    with qtbot.waitSignal(page.finished, timeout=10_000):
        page.export_to(out)
    from openpyxl import load_workbook

    wb = load_workbook(out, read_only=True)
    assert len(list(wb["异地人员"].iter_rows(values_only=True))[2:]) == len(remote)


def test_dashboard_draws_coverage_first(qtbot, backend, styled_qapp):
    from ui.pages.dashboards import DashboardsPage

    page = DashboardsPage()
    qtbot.addWidget(page)
    page.set_backend(backend)
    page.show()
    seen = []
    page.coverage_loaded.connect(lambda: seen.append(page.views["coverage"].chart().series()[0].count()))
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.activated()
    assert seen and seen[0] > 0  # the coverage chart was drawn before the rest arrived
    assert page.dashboard is not None and sum(sum(v.values()) for v in page.dashboard.coverage.values()) == N


def test_first_screen_comes_before_the_whole_list(qtbot, page, backend):
    """The first 200 rows are on screen (from the maintained clock) before the whole list is
    made; header clicks wait for it (sorting is off meanwhile); then the counts arrive."""
    from desktop.services.paged_lists import ClockOutreachList

    page.days.setValue(60)
    seen = []
    page.first_screen.connect(lambda n: seen.append((n, page.model.source().ready, page.table.isSortingEnabled(),
                                                     page.model.rows())))
    with qtbot.waitSignal(page.finished, timeout=10_000):
        page.reload()
    want = backend.services.outreach.due_within(60, AS_OF)
    assert isinstance(page.model.source(), ClockOutreachList)
    (n, ready, sorting, rows), = seen
    assert n == 200 and not ready and not sorting and rows == want[:200]
    assert page.model.source().ready and page.table.isSortingEnabled() and f"共 {N} 人" in page.summary.text()
    page.model.fetch_all()
    assert page.model.rows() == want  # the pages after the first screen continue in the whole list


def test_due_list_is_paged_and_sorted_in_the_list(qtbot, backend, styled_qapp):
    """下月将暂停发放 shows its long list a page at a time; header clicks and the filter sort and
    narrow the whole list (not just the rows on screen); exports take every shown row."""
    from PySide6.QtCore import Qt

    from ui.pages.due import DuePage

    page = DuePage()
    qtbot.addWidget(page)
    page.set_backend(backend)
    page.show()
    with qtbot.waitSignal(page.rows_shown, timeout=10_000):
        page.reload()
    want = backend.services.lists.due_next_month(AS_OF)
    assert len(want) > 250
    assert page.model.rowCount() == 200 and page.model.canFetchMore()
    by_deadline = sorted(want, key=lambda r: r.deadline.isoformat())
    assert page.shown_rows() == by_deadline and page.model.rowCount() == 200  # read from the list, not the screen
    page.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)  # by name, descending
    assert page.model.rowCount() == 200
    assert [page.model.row_at(i).name for i in range(200)] == sorted((r.name for r in want), reverse=True)[:200]
    page.filter.setText(want[7].name)
    assert page.shown_rows() == sorted([r for r in want if want[7].name in r.name], key=lambda r: r.name, reverse=True)
    page.model.fetch_all()
    assert page.model.rowCount() == len(page.shown_rows())


def test_payroll_month_tables_are_paged_and_sort_the_whole_list(qtbot, backend, styled_qapp):
    from PySide6.QtCore import Qt

    from desktop.services.payroll_review import MonthReview
    from ui.pages.payroll_month import PayrollMonthPage

    page = PayrollMonthPage()
    qtbot.addWidget(page)
    page.set_backend(backend)
    items = [{"entitlement_id": f"e{i}", "person_id": f"p{i}", "id_number": make_number("152202", date(1950, 1, 1), i),
              "name": f"人{(i * 7) % 500:03d}", "cohort": "enterprise_retiree", "suspend_from": "2026-12",
              "effective_month": "2026-12", "missed_deadline": f"2026-11-{1 + i % 28:02d}",
              "last_certified": "2025-11-01", "paid_while_overdue": []} for i in range(1, 501)]
    review = MonthReview("2026-12", date(2026, 12, 1), True, {"suspend": items, "resume": [], "terminate": [],
                                                              "recover": [], "corrections": []})
    page._loaded((review, []))
    m, table = page.models["suspend"], page.tables["suspend"]
    assert m.rowCount() == 200 and m.canFetchMore() and page.tabs.tabText(0) == "暂停发放（500）"
    assert [m.row_at(i)["name"] for i in range(200)] == [r["name"] for r in items[:200]]  # the run's order
    table.horizontalHeader().setSortIndicator(3, Qt.SortOrder.AscendingOrder)  # missed deadline
    assert m.rowCount() == 200
    assert [m.row_at(i)["missed_deadline"] for i in range(200)] == sorted(r["missed_deadline"] for r in items)[:200]
    m.fetch_all()
    assert m.rowCount() == 500 and "*" in m.data(m.index(0, 1))
