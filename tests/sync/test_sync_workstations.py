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


def test_same_person_on_two_offline_workstations_keeps_both_and_one_status(stations, central):
    _, numbers = central
    a, b, c = stations
    ra = PersonService(a.db).record_certification(_pid(a, numbers[0]), date(2026, 11, 21), "counter", a.actor, today=TODAY)
    rb = PersonService(b.db).record_certification(_pid(b, numbers[0]), date(2026, 11, 25), "home_visit", b.actor,
                                                  today=TODAY)
    for _ in range(2):
        for ws in stations:
            ws.sync.sync_once()
    views = [PersonService(ws.db).show(numbers[0], TODAY) for ws in stations]
    for ws in stations:
        mine = [x for x in ws.certifications() if x[1] == _pid(ws, numbers[0])]
        assert {ra.id, rb.id} <= {x[0] for x in mine}
    assert len({(v.entitlements[0].status, v.entitlements[0].last_certified, v.entitlements[0].deadline)
                for v in views}) == 1
    assert views[0].entitlements[0].last_certified == date(2026, 11, 25)


def test_push_interrupted_after_central_commit_is_not_duplicated(stations, central, central_url):
    _, numbers = central
    a, b, _c = stations
    for n in numbers:
        PersonService(a.db).record_certification(_pid(a, n), date(2026, 11, 22), "counter", a.actor, today=TODAY)

    def crash():
        raise ConnectionError("network cable pulled after COMMIT")

    with pytest.raises(ConnectionError):
        a.sync.sync_once(after_central_commit=crash)
    assert a.sync.waiting() == len(numbers)  # not marked pushed
    again = a.sync.sync_once()
    assert again.pushed == len(numbers) and a.sync.waiting() == 0
    b.sync.sync_once()
    ids = [x[0] for x in b.certifications() if x[3] == "ws-a"]
    assert len(ids) == len(set(ids)) == len(numbers)
    from sqlalchemy import text

    db = central[0]
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM certifications WHERE workstation='ws-a'")).scalar() == len(numbers)
        dup = conn.execute(text("SELECT count(*) - count(DISTINCT id) FROM audit_log")).scalar()
        assert dup == 0


def test_server_killed_mid_sync_then_restarted(stations, central, pg_cluster):
    """Kill the server between push and the next sync's pull; restart; nothing lost or doubled."""
    from desktop.errors import SyncError

    _, numbers = central
    a, b, _c = stations
    for n in numbers[:3]:
        PersonService(a.db).record_certification(_pid(a, n), date(2026, 11, 23), "counter", a.actor, today=TODAY)
    killed = []

    def kill():
        pg_cluster.stop("immediate")
        killed.append(True)

    try:
        with pytest.raises(SyncError):
            a.sync.sync_once(after_central_commit=kill)
        with pytest.raises(SyncError):
            b.sync.sync_once()
    finally:
        pg_cluster.start()
    assert killed
    PersonService(a.db).record_certification(_pid(a, numbers[3]), date(2026, 11, 24), "counter", a.actor, today=TODAY)
    a.sync.sync_once()
    b.sync.sync_once()
    mine = [x[0] for x in b.certifications() if x[3] == "ws-a"]
    assert len(mine) == len(set(mine)) == 4
    assert a.sync.sync_once().pushed == 0


def test_central_death_beats_offline_certification_and_opens_case(stations, central, tmp_path):
    db, numbers = central
    a, b, _c = stations
    pid = _pid(a, numbers[1])
    # Offline on ws-a: certified on the 26th.
    cert = PersonService(a.db).record_certification(pid, date(2026, 11, 26), "home_visit", a.actor, today=TODAY)
    # Meanwhile the roster office records a death on the 20th, directly on the central database.
    from helpers import OFFICE
    from desktop.services.imports import DEATH_COLUMNS, ImportService
    import csv

    name = PersonService(db).show(numbers[1], TODAY).name
    path = tmp_path / "deaths.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(DEATH_COLUMNS)
        w.writerow([numbers[1], name, "2026-11-20", "民政"])
    rep = ImportService(db).import_results(path, OFFICE, today=TODAY)
    assert rep.imported == 1, rep.as_json()

    result = a.sync.sync_once()
    assert [c["kind"] for c in result.conflicts] == ["certified_after_death"]
    case = result.conflicts[0]
    assert case["certification_id"] == cert.id and case["death_date"] == "2026-11-20"
    assert numbers[1] not in str(result.as_json())  # never an ID number
    # The death wins on every workstation; the certification is kept as a fact; the case is visible.
    for ws in stations:
        ws.sync.sync_once()
        view = PersonService(ws.db).show(numbers[1], TODAY)
        assert view.death_date == date(2026, 11, 20)
        assert view.entitlements[0].status == "terminated"
        assert cert.id in {x[0] for x in ws.certifications()}
        assert [c["kind"] for c in ws.sync.open_conflicts()] == ["certified_after_death"]
    # Repeating does not raise the case again.
    assert a.sync.sync_once().conflicts == ()


def test_roster_central_newer_wins_and_offline_death_is_not_cleared(stations, central):
    """Roster rows: last writer by updated_at, judged at the centre; a death is never cleared."""
    from datetime import timedelta

    from sqlalchemy import text, update

    from db import journal
    from db.models import Person, utcnow

    db, numbers = central
    a, b, _c = stations
    pid = _pid(a, numbers[2])
    t = Person.__table__
    # ws-a edits the phone offline (older), the centre edits it later (newer).
    with a.db.engine.begin() as conn:
        conn.execute(update(t).where(t.c.id == pid).values(phone="13911111111", updated_at=utcnow() - timedelta(hours=1)))
        row = dict(conn.execute(t.select().where(t.c.id == pid)).mappings().one())
        journal.enqueue(conn, [("person", pid, journal.row_payload(row))])
    with db.engine.begin() as conn:
        conn.execute(update(t).where(t.c.id == pid).values(phone="13922222222", updated_at=utcnow()))
    a.sync.sync_once()
    b.sync.sync_once()
    for ws in (a, b):
        assert PersonService(ws.db).show(numbers[2], TODAY).phone == "13922222222"
    # ws-b edits later than the centre: its edit wins everywhere.
    with b.db.engine.begin() as conn:
        conn.execute(update(t).where(t.c.id == pid).values(phone="13933333333", updated_at=utcnow() + timedelta(minutes=1)))
        row = dict(conn.execute(t.select().where(t.c.id == pid)).mappings().one())
        journal.enqueue(conn, [("person", pid, journal.row_payload(row))])
    b.sync.sync_once()
    a.sync.sync_once()
    assert PersonService(a.db).show(numbers[2], TODAY).phone == "13933333333"
    # A centrally recorded death is not cleared by a newer workstation row without one (the
    # workstation had not pulled it yet: its cursor is moved past the death on purpose).
    with db.engine.begin() as conn:
        conn.execute(update(t).where(t.c.id == pid).values(death_date=date(2026, 10, 1), updated_at=utcnow()))
    from db import sync as dbsync

    with a.db.engine.begin() as conn:
        key = dbsync.cursor_key(dbsync.central_identity(db.engine))
        dbsync.set_state(conn, key, dbsync.central_head(db.engine))
    with a.db.engine.begin() as conn:
        conn.execute(update(t).where(t.c.id == pid).values(phone="13944444444", updated_at=utcnow() + timedelta(hours=1)))
        row = dict(conn.execute(t.select().where(t.c.id == pid)).mappings().one())
        journal.enqueue(conn, [("person", pid, journal.row_payload(row))])
    a.sync.sync_once()
    with db.engine.connect() as conn:
        phone, death = conn.execute(text("SELECT phone, death_date FROM persons WHERE id=:i"), {"i": pid}).one()
    assert phone == "13944444444" and death == date(2026, 10, 1)
    a.sync.sync_once()
    assert PersonService(a.db).show(numbers[2], TODAY).death_date == date(2026, 10, 1)
