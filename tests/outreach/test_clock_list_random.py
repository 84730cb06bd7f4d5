"""The whole outreach list made from the maintained clock (db.list_views.clock_snapshot, issue 20)
equals OutreachService.due_within on random rosters made to be awkward for its SQL: names shared
and prefixes of each other (ties in the list's order fall to the person id), phones missing or
sharing digits, two or three entitlements a person (the earliest listed one counts; the others
are read again through the entitlements' person key), the dead, stored suspensions, house-bound
flags set and cleared, home visits in every status, several contact marks a person before and
after the marks' cut-off day — for every sort column in both directions, every channel and text
filter, the channel counts and the per-channel exports; under the default rules, a table with
every rule kind and one where two cohorts share a deadline but not the month payment stops."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update
from test_list_sql import _every_rule_kind

from db.bulk import bulk_insert
from db.models import Certification, CycleRule, Entitlement, HomeVisit, Person, new_id
from db.outreach_models import OutreachFlag, OutreachMark
from desktop.domain.idnumber import make_number
from desktop.domain.rules import COHORTS
from desktop.services.hub import Services
from desktop.services.outreach import OutreachService
from desktop.services.paged_lists import ClockOutreachList, OutreachList
from desktop.services.settings import SettingsService

TODAY = date(2026, 11, 29)
NAMES = ["王芳", "王芳芳", "王", "李娜", "张伟", "Anna", "anna", "王芳 "]
VISIT_STATUSES = ["booked", "scheduled", "done", "not_at_home", "cancelled"]
ATTR = {"deadline": "deadline", "name": "name", "phone": "phone", "suspend": "suspend_from", "channel": "channel",
        "last_outcome": "last_outcome", "id_number": "id_number"}


def _roster(db, seed: int, n: int = 260) -> None:
    rng = random.Random(seed)
    now = datetime(2026, 11, 1)
    persons, ents, certs, flags, visits, marks = [], [], [], [], [], []
    stamp = iter(rng.sample(range(100_000), 4 * n))  # distinct creation times: the latest mark is defined
    for i in range(n):
        pid = new_id()
        persons.append({"id": pid, "id_number": make_number("152202", date(1940, 1, 1) + timedelta(days=i), 1 + i % 7),
                        "name": rng.choice(NAMES), "sex": "F", "birth_date": date(1940, 1, 1),
                        "phone": rng.choice([None, f"1390000{rng.randint(0, 9999):04d}", "13912345678"]),
                        "address": rng.choice([None, "林海街道"]), "residence": rng.choice(["local", "local", "remote"]),
                        "death_date": date(2026, 9, 1) if rng.random() < 0.05 else None, "death_source": None,
                        "created_at": now, "updated_at": now, "updated_by": "t", "workstation": "t"})
        for cohort in rng.sample(list(COHORTS), rng.choice([1, 1, 1, 2, 3])):
            ents.append({"id": new_id(), "person_id": pid, "cohort": cohort,
                         "start_date": TODAY - timedelta(days=rng.choice([rng.randint(0, 400), rng.randint(400, 4000)])),
                         "monthly_amount_fen": 100_000, "status": rng.choices(["active", "suspended"], [0.9, 0.1])[0],
                         "status_since": None, "created_at": now, "updated_at": now})
        for _ in range(rng.choice([0, 1, 1, 2])):
            certs.append({"id": new_id(), "person_id": pid, "cert_date": TODAY - timedelta(days=rng.randint(0, 500)),
                          "method": "counter", "result": "failed" if rng.random() < 0.15 else "passed", "evidence": None,
                          "operator": "t", "approver": None, "workstation": "t", "batch_id": None, "created_at": now})
        if rng.random() < 0.1:
            flags.append({"person_id": pid, "housebound": rng.random() < 0.6, "note": None, "updated_by": "t",
                          "updated_at": now})
        if rng.random() < 0.1:
            visits.append({"id": new_id(), "person_id": pid, "address": "林海街道", "status": rng.choice(VISIT_STATUSES),
                           "created_at": now, "updated_at": now})
        for _ in range(rng.choice([0, 0, 1, 2, 3])):
            marks.append({"id": new_id(), "person_id": pid, "outcome": rng.choice(["called", "no_answer", "will_come"]),
                          "marked_on": TODAY + timedelta(days=rng.randint(-150, 40)), "operator": "t",
                          "created_at": now + timedelta(seconds=next(stamp))})
    with db.engine.begin() as conn:
        bulk_insert(conn, Person.__table__, persons)
        bulk_insert(conn, Entitlement.__table__, ents)
        bulk_insert(conn, Certification.__table__, certs)
        bulk_insert(conn, OutreachFlag.__table__, flags)
        bulk_insert(conn, HomeVisit.__table__, visits)
        bulk_insert(conn, OutreachMark.__table__, marks)


def _paged(view, page: int) -> list:
    out, last = [], None
    while True:
        rows = view.page(last, page)
        out.extend(rows)
        if len(rows) < page:
            return out
        last = rows[-1]


def _sorted(rows: list, key: str | None, descending: bool) -> list:
    """SQLite's order: NULL first ascending, ties in the list's order (reversed when descending)."""
    if key is None:
        return list(reversed(rows)) if descending else list(rows)
    keyed = [((getattr(r, ATTR[key]) is not None, getattr(r, ATTR[key]) or "", i), r) for i, r in enumerate(rows)]
    return [r for _, r in sorted(keyed, key=lambda kr: kr[0], reverse=descending)]


def _matches(r, text: str) -> bool:
    return text in r.name or text in (r.phone or "") or r.id_number.endswith(text)


def _later_suspension(db) -> None:
    """Institution retirees are suspended a month later than enterprise retirees, under the same
    12-month deadline: a person with both has two listed entitlements with one deadline."""
    t = CycleRule.__table__
    with db.engine.begin() as conn:
        conn.execute(update(t).where(t.c.cohort == "institution_retiree").values(suspend_offset_months=2))


@pytest.mark.parametrize("rules", ["default rules", "every rule kind", "later suspension"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_whole_list_from_the_clock_is_the_python_list_in_every_order_and_filter(db, seed, rules):
    _roster(db, seed)
    {"every rule kind": _every_rule_kind, "later suspension": _later_suspension}.get(rules, lambda _db: None)(db)
    svc = OutreachService(db, SettingsService(db))
    seen_multi = seen_home = seen_mark = seen_tie = False
    for as_of in (TODAY, TODAY + timedelta(days=45)):
        for days in (0, 30, 60):
            for overdue in (True, False):
                want = svc.due_within(days, as_of, include_overdue=overdue)
                view = Services(db).lists.outreach(days, as_of, include_overdue=overdue)
                try:
                    assert isinstance(view, ClockOutreachList)
                    assert view.page(None, 9) == want[:9]  # the first screen, straight from the clock
                    view.complete()
                    assert view.count == len(want) and list(view.rows(page=11)) == want
                    texts = {"", "王芳", "9", "anna", "不在名单里"} | {r.id_number[-3:] for r in want[:3]}
                    for key in (None, *OutreachList.SORTS):
                        for desc in (False, True):
                            view.sort(key, desc)
                            for channel in (None, "local", "remote", "home_visit"):
                                view.set_channel(channel)
                                for text in sorted(texts) if key in (None, "name", "phone") else ("",):
                                    view.filter(text)
                                    expect = [r for r in _sorted(want, key, desc)
                                              if (channel is None or r.channel == channel) and _matches(r, text)]
                                    assert _paged(view, 13) == expect, (key, desc, channel, text)
                                    assert view.matching() == len(expect)
                                    if not text:  # an export streams the same rows in the same order
                                        assert list(view.rows(page=7)) == expect
                            view.set_channel(None)
                            view.filter("")
                    view.sort(None)
                    channels = {r.channel for r in want}
                    assert view.counts("channel") == {c: sum(r.channel == c for r in want) for c in channels}
                    for c in ("local", "remote", "home_visit"):
                        assert list(view.rows(channel=c)) == [r for r in want if r.channel == c]
                finally:
                    view.close()
                seen_multi |= any(r.entitlements > 1 for r in want)
                seen_home |= any(r.channel == "home_visit" for r in want)
                seen_mark |= any(r.last_outcome for r in want)
                seen_tie |= any(a.deadline == b.deadline and a.name == b.name for a, b in zip(want, want[1:]))
    assert seen_multi and seen_home and seen_mark and seen_tie  # the awkward cases were there
