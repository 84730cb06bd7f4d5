"""The outreach list as a paged view (issue 20, desktop.services.lists.OutreachList): kept by
SQLite and read a page at a time, it shows exactly the rows of OutreachService.due_within —
same people, deadlines, suspension months, cohorts, contact marks and channels, same order —
on the random roster of test_list_sql (failed and future certifications, late starts, two
entitlements, the dead, stored statuses) under the default rules and every rule kind; keyset
pages, SQL sorting and the filters agree with the same operations on the whole list."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_list_sql import TODAY, _every_rule_kind, _populate

from desktop.services.hub import Services
from desktop.services.outreach import OutreachService
from desktop.services.settings import SettingsService
from desktop.platform.workstation import Actor

ADMIN = Actor("管理员", "ws-test", "admin")


@pytest.fixture(params=["default rules", "every rule kind"])
def roster_db(db, request):
    _populate(db)
    if request.param == "every rule kind":
        _every_rule_kind(db)
    svc = OutreachService(db, SettingsService(db))
    rows = svc.due_within(60, TODAY)
    for i, r in enumerate(rows[:40]):  # contact marks, a house-bound flag: the list shows them
        svc.mark(r.person_id, ["called", "no_answer", "will_come"][i % 3], ADMIN, as_of=TODAY - timedelta(days=i))
    for r in rows[40:45]:
        svc.set_housebound(r.person_id, True, ADMIN)
    return db


def _paged(view, page: int) -> list:
    out, last = [], None
    while True:
        rows = view.page(last, page)
        out.extend(rows)
        if len(rows) < page:
            return out
        last = rows[-1]


@pytest.mark.parametrize("as_of", [TODAY, date(2026, 12, 31), date(2027, 3, 1)])
@pytest.mark.parametrize("days", [0, 30, 60])
@pytest.mark.parametrize("include_overdue", [True, False])
def test_paged_view_shows_the_rows_of_the_list(roster_db, as_of, days, include_overdue):
    want = OutreachService(roster_db, SettingsService(roster_db)).due_within(days, as_of, include_overdue=include_overdue)
    view = Services(roster_db).lists.outreach(days, as_of, include_overdue=include_overdue)
    try:
        assert view.count == len(want)
        assert list(view.rows(page=7)) == want
        assert _paged(view, 13) == want
        assert len(want) > 5 or days == 0
    finally:
        view.close()


def test_sorting_and_filters_are_the_same_operations_on_the_whole_list(roster_db):
    want = OutreachService(roster_db, SettingsService(roster_db)).due_within(60, TODAY)
    pos = {r.person_id: i for i, r in enumerate(want)}
    view = Services(roster_db).lists.outreach(60, TODAY)
    try:
        assert {r.last_outcome for r in want} >= {"called", "no_answer", "will_come"}
        assert any(r.channel == "home_visit" for r in want)
        view.sort("name")
        assert _paged(view, 11) == sorted(want, key=lambda r: (r.name, pos[r.person_id]))
        view.sort("suspend", descending=True)
        assert _paged(view, 11) == sorted(want, key=lambda r: (r.suspend_from, pos[r.person_id]), reverse=True)
        view.sort(None)
        view.set_channel("remote")
        assert _paged(view, 11) == [r for r in want if r.channel == "remote"]
        assert view.matching() == len([r for r in want if r.channel == "remote"])
        text = want[3].name[-2:]
        view.filter(text)
        assert _paged(view, 5) == [r for r in want if r.channel == "remote" and text in r.name]
        view.set_channel(None)
        view.filter(want[5].id_number[-4:])
        assert want[5] in _paged(view, 5)
        assert view.counts("channel") == {c: sum(1 for r in want if r.channel == c) for c in {r.channel for r in want}}
        view.filter("")
        view.set_mark(want[0].person_id, "form_sent", "2026-11-29")
        first = view.page(None, 1)[0]
        assert (first.person_id, first.last_outcome, first.last_marked_on) == (want[0].person_id, "form_sent",
                                                                               "2026-11-29")
    finally:
        view.close()
    assert view.page(None, 10) == []
