"""The first window: search, person page, due-next-month list, start-up — driven offscreen.

Expected values come from the services called directly in the test (PersonService.show with the
same --as-of date), or are worked out by hand from domain.md §2 for the due-next-month case.
"""

from __future__ import annotations

import time
from datetime import date

import pytest
from PySide6.QtCore import Qt

from desktop.domain.idnumber import make_number, mask
from desktop.services.persons import PersonService
from tests.ui.conftest import AS_OF, build_db, write_roster

pytestmark = pytest.mark.gui


def _type(qtbot, widget, text: str) -> None:
    """Type like a keyboard (or an IME for Chinese: QTest.keyClicks only knows ASCII)."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    for ch in text:
        if ch.isascii():
            qtbot.keyClicks(widget, ch)
        else:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(widget, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, ch))


def _type_search(qtbot, window, text: str) -> list:
    page = window.search_page
    page.field.clear()
    with qtbot.waitSignal(page.results_shown, timeout=5000):
        _type(qtbot, page.field, text)
    qtbot.waitUntil(lambda: not page._timer.isActive() and not page._busy, timeout=5000)
    return page.model.rows()


def _cells(view) -> list[list[str]]:
    m = view.model()
    return [[m.index(r, c).data() for c in range(m.columnCount())] for r in range(m.rowCount())]


# --- search -------------------------------------------------------------------------------------


def test_search_field_has_focus_at_start(make_window, sample_db, qtbot):
    window = make_window(sample_db)
    qtbot.waitUntil(lambda: window.search_page.field.hasFocus() or not window.isActiveWindow(), timeout=2000)
    assert window.stack.currentWidget() is window.search_page
    assert window.focusWidget() is window.search_page.field


def test_search_by_name_shows_masked_numbers(make_window, sample_db, qtbot):
    window = make_window(sample_db)
    rows = _type_search(qtbot, window, "吴图音")
    assert [r.name for r in rows] == ["吴图音"]
    cells = _cells(window.search_page.table)
    assert cells[0][0] == "吴图音"
    assert "152202********6930" in cells[0]
    assert not any("152202195607086930" in c for c in cells[0]), "full ID number shown in a list"

    rows = _type_search(qtbot, window, "张")
    assert sorted(r.name for r in rows) == ["张图志", "张英军"]
    for r, row in zip(rows, _cells(window.search_page.table)):
        assert mask(r.id_number) in row and r.id_number not in row
    assert window.search_page.summary.text() == "找到 2 人"


def test_search_by_id_number_full_and_last_digits(make_window, sample_db, qtbot):
    window = make_window(sample_db)
    rows = _type_search(qtbot, window, "15220219540505026X")
    assert [r.name for r in rows] == ["秦刚刚"]
    rows = _type_search(qtbot, window, "6930")  # 尾号
    assert [r.name for r in rows] == ["吴图音"]
    rows = _type_search(qtbot, window, "999999")
    assert rows == []
    assert window.search_page.summary.text() == "没有找到符合条件的人员"


def test_enter_opens_first_hit_and_esc_goes_back(make_window, sample_db, qtbot):
    window = make_window(sample_db)
    page = window.search_page
    page.field.setFocus()
    _type(qtbot, page.field, "魏巴兰")
    # Enter before the debounced search has even run: the first hit opens when it arrives
    with qtbot.waitSignal(window.person_page.person_shown, timeout=5000):
        qtbot.keyClick(page.field, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.person_page
    assert window.person_page.view.name == "魏巴兰"
    assert window.person_page.name_label.text() == "魏巴兰"
    assert window.person_page.id_label.text() == "152201********8276"

    qtbot.keyClick(window.person_page, Qt.Key.Key_Escape)
    assert window.stack.currentWidget() is window.search_page
    assert window.focusWidget() is page.field


# --- person page -------------------------------------------------------------------------------


def _open_person(qtbot, window, person_id: str):
    with qtbot.waitSignal(window.person_page.person_shown, timeout=5000):
        window.open_person(person_id)
    return window.person_page


def test_person_page_matches_the_clock_for_every_sample_person(make_window, sample_db, qtbot):
    window = make_window(sample_db)
    service = PersonService(sample_db)  # independent of the window's own service instance
    people = service.search("1522", 100)
    assert len(people) == 20
    seen_statuses = set()
    for summary in people:
        expected = service.show(summary.id_number, AS_OF)
        page = _open_person(qtbot, window, summary.id)
        cards = page.cards()
        assert len(cards) == len(expected.entitlements) >= 1
        for card, ent in zip(cards, expected.entitlements):
            assert card.view.cohort == ent.cohort
            assert card.badge.text() == ent.status_zh
            assert card.badge.status == ent.status
            assert card.deadline_label.text() == ent.deadline.isoformat()
            seen_statuses.add(ent.status)
        shown_history = [(h.when, h.text_zh) for h in page.history_model.rows()]
        assert shown_history == [(h.when, h.text_zh) for h in expected.history]
    # the sample covers more than one status, so a page that showed one colour would fail
    assert len(seen_statuses) >= 3, seen_statuses


def _hand_built_roster(tmp_path):
    """People whose fate in the December 2026 payroll run is known from domain.md §2."""
    def n(i, year=1950):
        return make_number("152202", date(year, 1 + i % 12, 1 + i), 100 + i)

    rows = [
        # name, number, cohort, start, last certified, phone, address, residence, amount
        ["甲一", n(1), "企业离退休人员", "2010-01-01", "2025-11-15", "13900000001", "", "本地", "3000"],   # dl 2026-11-15 → Dec
        ["乙二", n(2), "企业离退休人员", "2010-01-01", "2025-12-20", "13900000002", "", "本地", "3000"],   # dl 2026-12-20 → Jan
        ["丙三", n(3), "企业职工遗属", "2010-01-01", "2026-10-20", "13900000003", "", "异地", "1200"],     # dl 2026-11-20 → Dec
        ["丁四", n(4), "企业职工遗属", "2010-01-01", "2026-11-10", "13900000004", "", "本地", "1200"],     # dl 2026-12-10 → Jan
        ["戊五", n(5), "城乡居民养老保险待遇领取人员", "2010-01-01", "2026-03-01", "", "", "本地", "200"],  # dl 2026-12-31 → Jan
        ["己六", n(6), "工伤保险待遇领取人员", "2010-01-01", "2025-08-01", "", "", "本地", "2000"],        # dl 2026-06-30 → Jul, not yet suspended
        ["庚七", n(7), "企业离退休人员", "2010-01-01", "2025-11-30", "", "", "本地", "3000"],              # dl 2026-11-30 → Dec
        ["辛八", n(8), "企业离退休人员", "2010-01-01", "2026-11-01", "", "", "本地", "3000"],              # dl 2027-11-01 valid
        ["辛八", n(8), "企业职工遗属", "2010-01-01", "2026-11-01", "", "", "本地", "1000"],                # dl 2026-12-01 due soon
    ]
    expected = {("甲一", "2026-12", "2026-11-15"), ("丙三", "2026-12", "2026-11-20"),
                ("己六", "2026-07", "2026-06-30"), ("庚七", "2026-12", "2026-11-30")}
    return write_roster(tmp_path / "hand.csv", rows), expected, n


def test_due_next_month_lists_exactly_the_expected_people(make_window, tmp_path, qtbot):
    roster, expected, n = _hand_built_roster(tmp_path)
    db = build_db(tmp_path / "hand.sqlite", roster)
    window = make_window(db)
    with qtbot.waitSignal(window.due_page.rows_shown, timeout=5000):
        qtbot.keyClick(window.search_page.field, Qt.Key.Key_F3)
    assert window.stack.currentWidget() is window.due_page
    rows = window.due_page.shown_rows()
    assert {(r.name, r.suspend_from, r.deadline.isoformat()) for r in rows} == expected
    assert window.due_page.count_label.text().startswith("共 4 人，4 项待遇")
    cells = _cells(window.due_page.table)
    assert {c[1] for c in cells} == {mask(r.id_number) for r in rows}
    assert not any(r.id_number in c for r in rows for c in cells for c in c)

    # filtering narrows the table; exporting writes what is shown, masked
    window.due_page.filter.setText("丙三")
    assert [r.name for r in window.due_page.shown_rows()] == ["丙三"]
    out = tmp_path / "due.csv"
    window.due_page.export_to(out)
    qtbot.waitUntil(out.exists, timeout=5000)
    qtbot.waitUntil(lambda: "已导出" in window.due_page.count_label.text(), timeout=5000)
    text = out.read_text(encoding="utf-8-sig").splitlines()
    assert text[0].startswith("姓名,身份证号码")
    assert text[1].split(",")[:2] == ["丙三", mask(n(3))]

    # opening a listed person from the list, then Esc returns to the list
    window.due_page.filter.clear()
    window.due_page.table.setFocus()
    window.due_page.table.selectRow(0)
    first = window.due_page.shown_rows()[0]
    with qtbot.waitSignal(window.person_page.person_shown, timeout=5000):
        window.due_page.table.activated.emit(window.due_page.table.model().index(0, 0))
    assert window.person_page.view.id == first.person_id
    qtbot.keyClick(window.person_page, Qt.Key.Key_Escape)
    assert window.stack.currentWidget() is window.due_page
    db.dispose()


def test_person_with_two_entitlements_shows_both_clocks(make_window, tmp_path, qtbot):
    roster, _, n = _hand_built_roster(tmp_path)
    db = build_db(tmp_path / "hand.sqlite", roster)
    window = make_window(db)
    rows = _type_search(qtbot, window, n(8)[-4:])
    assert [r.name for r in rows] == ["辛八"]
    page = _open_person(qtbot, window, rows[0].id)
    got = {c.view.cohort: (c.badge.text(), c.deadline_label.text()) for c in page.cards()}
    assert got == {"enterprise_retiree": ("正常", "2027-11-01"), "enterprise_survivor": ("即将到期", "2026-12-01")}
    db.dispose()


# --- start-up and threading ------------------------------------------------------------------------


def test_window_is_usable_quickly_and_the_database_opens_off_the_gui_thread(styled_qapp, qtbot, tmp_path,
                                                                               no_dangling_threads, monkeypatch):
    """The real start-up path of ``ui.app``: window first, database opened by a worker."""
    import threading

    from ui import app as app_module
    from ui import workers
    from ui.main_window import MainWindow

    gui_thread = threading.current_thread()
    opened_on = []
    real_open = app_module.open_backend

    def spy(*a, **kw):
        opened_on.append(threading.current_thread())
        return real_open(*a, **kw)

    monkeypatch.setattr(app_module, "open_backend", spy)
    db_file = tmp_path / "fresh.sqlite"
    t0 = time.perf_counter()
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.search_page.field.isEnabled()  # typing works while the database opens
    report = workers.progress_reporter(window.set_progress)
    with qtbot.waitSignal(window.backend_ready, timeout=10_000):
        workers.run_in_background(lambda: app_module.open_backend(str(db_file), False, AS_OF, report),
                                  window.set_backend, pytest.fail)
    elapsed = time.perf_counter() - t0
    assert opened_on and opened_on[0] is not gui_thread
    assert window.backend.as_of == AS_OF
    assert window.date_label.text() == "业务日期：2026-11-29"
    assert elapsed < 5.0  # generous for a shared CI box; the measured figure is in the report


def test_stale_search_answers_are_dropped(make_window, sample_db, qtbot):
    """A slow answer to an old query must not overwrite the answer to the newest one."""
    window = make_window(sample_db)
    page = window.search_page
    page.field.setText("张")
    page.search_now()
    page.field.setText("吴图音")
    with qtbot.waitSignal(page.results_shown, timeout=5000):
        page.search_now()
    qtbot.waitUntil(lambda: not page._busy, timeout=5000)
    assert [r.name for r in page.model.rows()] == ["吴图音"]


def test_background_errors_reach_the_gui_thread(styled_qapp, qtbot, no_dangling_threads):
    import threading

    from ui.workers import run_in_background

    got = []

    def boom():
        raise ValueError("数据库不可用")

    run_in_background(boom, lambda r: got.append(("ok", r)),
                      lambda e: got.append((str(e), threading.current_thread() is threading.main_thread())))
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert got == [("数据库不可用", True)]
