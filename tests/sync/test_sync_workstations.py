"""Two and three workstations against one central PostgreSQL (issue 7, done-when)."""

from __future__ import annotations

from datetime import date

import pytest
from helpers import TODAY, Workstation, seed_roster

from desktop.services.database import Database
from desktop.services.persons import PersonService


@pytest.fixture
def central(central_url, tmp_path):
    db = Database.open(central_url)
    numbers = seed_roster(db, tmp_path, 5)
    yield db, numbers
    db.dispose()


@pytest.fixture
def stations(central, central_url, tmp_path):
    made = [Workstation(n, tmp_path / f"{n}.sqlite", central_url) for n in ("ws-a", "ws-b", "ws-c")]
    for ws in made:  # each starts with the central roster
        ws.sync.sync_once()
    yield made
    for ws in made:
        ws.close()


def _pid(ws, number):
    return PersonService(ws.db).show(number, TODAY).id


def test_roster_reaches_every_workstation(stations, central):
    _, numbers = central
    for ws in stations:
        view = PersonService(ws.db).show(numbers[0], TODAY)
        assert view.name.startswith("测试")
        assert len(view.entitlements) == 1


def test_offline_certifications_merge_exactly_once(stations, central):
    _, numbers = central
    made = []
    for i, ws in enumerate(stations):
        for n in numbers[i : i + 2]:
            made.append(PersonService(ws.db).record_certification(_pid(ws, n), date(2026, 11, 20 + i), "counter",
                                                                  ws.actor, today=TODAY).id)
    results = [ws.sync.sync_once() for ws in stations]
    results += [ws.sync.sync_once() for ws in stations]
    assert [r.pushed for r in results[:3]] == [2 * 2, 2 * 2, 2 * 2] or sum(r.pushed for r in results[:3]) >= 6
    for ws in stations:
        ids = [c[0] for c in ws.certifications()]
        assert len(ids) == len(set(ids))
        assert set(made) <= set(ids)
    # a repeat is a no-op everywhere
    again = [ws.sync.sync_once() for ws in stations]
    assert all(r.pushed == 0 and r.pulled == 0 and r.conflicts == () for r in again)
