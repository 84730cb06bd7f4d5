"""The outreach list from the maintained clock (issue 20, desktop.services.paged_lists): its
pages come straight from the clock's deadline index until the whole list is made, and show
exactly the rows of OutreachService.due_within in the same order — on test_list_sql's awkward
roster under the default rules and every rule kind; pages read before the whole list was made
continue in it without a gap or a repeat; a list for a day before the latest passed
certification does not use the clock."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_list_sql import TODAY
from test_paged_list import _paged, roster_db  # noqa: F401  (the fixture)

from desktop.services.hub import Services
from desktop.services.outreach import OutreachService
from desktop.services.settings import SettingsService
from desktop.services.paged_lists import ClockOutreachList


@pytest.mark.parametrize("as_of", [TODAY, date(2026, 12, 31), date(2027, 3, 1)])
@pytest.mark.parametrize("days", [0, 30, 60])
@pytest.mark.parametrize("include_overdue", [True, False])
def test_pages_from_the_clock_are_the_rows_of_the_list(roster_db, as_of, days, include_overdue):  # noqa: F811
    want = OutreachService(roster_db, SettingsService(roster_db)).due_within(days, as_of, include_overdue=include_overdue)
    view = Services(roster_db).lists.outreach(days, as_of, include_overdue=include_overdue)
    try:
        # certifications run to 20 days after TODAY: a list for a later day reads the maintained
        # clock (every page straight from its index until the whole list is made), an earlier one not
        assert isinstance(view, ClockOutreachList) == (as_of > TODAY + timedelta(days=20))
        assert _paged(view, 13) == want
        assert view.ready == (not isinstance(view, ClockOutreachList))
        assert view.count == len(want) and view.ready
        assert list(view.rows(page=7)) == want
        assert _paged(view, 13) == want
        assert len(want) > 5 or days == 0
    finally:
        view.close()


@pytest.mark.parametrize("pages", [0, 1, 3])
def test_pages_from_the_clock_continue_in_the_whole_list(roster_db, pages):  # noqa: F811
    """The first screen from the clock; the whole list made meanwhile (the page does it in the
    background); the next pages follow on without a gap or a repeat; a mark recorded before
    the whole list was made shows in it."""
    as_of = date(2027, 1, 15)
    want = OutreachService(roster_db, SettingsService(roster_db)).due_within(60, as_of)
    view = Services(roster_db).lists.outreach(60, as_of)
    try:
        assert isinstance(view, ClockOutreachList) and len(want) > 30
        got, last = [], None
        for _ in range(pages):
            rows = view.page(last, 9)
            got.extend(rows)
            last = rows[-1]
        assert not view.ready
        marked = want[0].person_id
        view.set_mark(marked, "form_sent", "2027-01-15")
        view.complete()
        assert view.ready
        while True:
            rows = view.page(last, 9)
            got.extend(rows)
            if len(rows) < 9:
                break
            last = rows[-1]
        assert [r.person_id for r in got] == [r.person_id for r in want]
        assert [r for r in got if r.person_id != marked] == [r for r in want if r.person_id != marked]
        first = view.page(None, 1)[0]
        assert (first.person_id, first.last_outcome, first.last_marked_on) == (marked, "form_sent", "2027-01-15")
    finally:
        view.close()
    assert view.page(None, 10) == []


def test_sorting_filters_and_channels_on_the_list_from_the_clock(roster_db):  # noqa: F811
    as_of = date(2027, 1, 15)
    want = OutreachService(roster_db, SettingsService(roster_db)).due_within(60, as_of)
    pos = {r.person_id: i for i, r in enumerate(want)}
    view = Services(roster_db).lists.outreach(60, as_of)
    try:
        view.sort("name")  # another order: the whole list is made first
        assert _paged(view, 11) == sorted(want, key=lambda r: (r.name, pos[r.person_id]))
        assert view.ready
        view.sort(None)
        view.set_channel("remote")
        assert _paged(view, 11) == [r for r in want if r.channel == "remote"]
        view.set_channel(None)
        assert view.counts("channel") == {c: sum(1 for r in want if r.channel == c) for c in {r.channel for r in want}}
        for c in ("local", "remote", "home_visit"):
            assert list(view.rows(channel=c)) == [r for r in want if r.channel == c]
            assert view.matching(c) == sum(1 for r in want if r.channel == c)
    finally:
        view.close()


def test_closing_while_the_whole_list_is_made_does_not_wait(roster_db):  # noqa: F811
    """The page replaces a list whose whole list a worker is still making: close() returns at
    once and the worker gives the connection and the table back when it is done."""
    import threading
    import time

    view = Services(roster_db).lists.outreach(60, date(2027, 1, 15))
    assert isinstance(view, ClockOutreachList)
    started, release = threading.Event(), threading.Event()
    real = view._engine

    class SlowEngine:  # the worker's connection waits until the test has closed the list
        def connect(self):
            started.set()
            release.wait(10)
            return real.connect()

    view._engine = SlowEngine()
    worker = threading.Thread(target=view.complete)
    worker.start()
    assert started.wait(10)
    t = time.monotonic()
    view.close()  # returns although the worker holds the list
    assert time.monotonic() - t < 2
    release.set()
    worker.join(10)
    assert not worker.is_alive() and view._conn is None and view.page(None, 5) == []
    assert real.pool.checkedout() == 0
