"""The same NEW resident imported on two offline workstations (docs/sync.md §3.4), refused
uploads retried, and supervisors resolving sync cases — against the real PostgreSQL fixture."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from helpers import OFFICE, TODAY, Workstation, seed_roster
from sqlalchemy import func, select, text

from db.models import Certification, Person, SyncConflict
from desktop.errors import PermissionDenied, UserFacingError
from desktop.domain.idnumber import make_number
from desktop.domain.rules import COHORTS
from desktop.services.database import Database
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.services.persons import PersonService
from desktop.services.sync import ConflictService
from desktop.platform.workstation import Actor

NEW = make_number("152202", date(1948, 6, 1), 77)
SUP = Actor("sup", "ws-a", "supervisor")


@pytest.fixture
def central(central_url, tmp_path):
    db = Database.open(central_url)
    seed_roster(db, tmp_path, 3)
    yield db
    db.dispose()


@pytest.fixture
def stations(central, central_url, tmp_path):
    made = [Workstation(n, tmp_path / f"{n}.sqlite", central_url) for n in ("ws-a", "ws-b", "ws-c")]
    for ws in made:
        ws.sync.sync_once()
    yield made
    for ws in made:
        ws.close()


def import_new(ws, tmp_path, name="新居民", cohorts=("enterprise_retiree",)):
    path = tmp_path / f"new-{ws.name}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        for cohort in cohorts:
            w.writerow([name, NEW, COHORTS[cohort].name_zh, "2020-01-01", "2025-12-01", "13900000077",
                        "阿尔山市新村", "本地", "2600"])
    report = ImportService(ws.db).import_roster(path, Actor(f"sup-{ws.name}", ws.name, "supervisor"), today=TODAY)
    assert report.rejected == []
    return PersonService(ws.db).show(NEW, TODAY).id


def persons_with(db, number):
    t = Person.__table__
    with db.engine.connect() as conn:
        return conn.execute(select(t.c.id).where(t.c.id_number == number)).scalars().all()


def certs_of(db, person_id):
    t = Certification.__table__
    with db.engine.connect() as conn:
        return set(conn.execute(select(t.c.id).where(t.c.person_id == person_id)).scalars())


def test_same_new_person_on_two_offline_workstations_merges(stations, central, tmp_path):
    a, b, c = stations
    pa = import_new(a, tmp_path)
    pb = import_new(b, tmp_path, cohorts=("enterprise_retiree", "injury_recipient"))
    assert pa != pb
    ca = PersonService(a.db).record_certification(pa, date(2026, 11, 26), "counter", a.actor, today=TODAY).id
    cb = PersonService(b.db).record_certification(pb, date(2026, 11, 27), "home_visit", b.actor, today=TODAY).id

    ra = a.sync.sync_once()
    assert ra.rejected == 0
    rb = b.sync.sync_once()
    assert rb.rejected == 0 and rb.waiting == 0
    (case,) = [x for x in rb.conflicts if x["kind"] == "duplicate_person_merged"]
    assert case["central_person_id"] == pa and case["local_person_id"] == pb and case["differing_fields"] == []
    assert NEW not in str(case)
    for _ in range(2):
        for ws in stations:
            assert ws.sync.sync_once().rejected == 0

    for db in (central, a.db, b.db, c.db):
        assert persons_with(db, NEW) == [pa]  # ONE person everywhere, the central one
        assert {ca, cb} <= certs_of(db, pa)  # both certifications
    views = [PersonService(db).show(NEW, TODAY) for db in (central, a.db, b.db, c.db)]
    # the extra cohort B imported travelled under the central person; the shared one was merged
    assert {len(v.entitlements) for v in views} == {2}
    assert len({tuple((e.cohort, e.status, e.last_certified) for e in sorted(v.entitlements, key=lambda e: e.cohort))
                for v in views}) == 1
    assert {e.last_certified for e in views[0].entitlements} == {date(2026, 11, 27)}
    with b.db.engine.connect() as conn:
        waiting = conn.execute(text("select count(*) from outbox where pushed_at is null")).scalar()
        audited = conn.execute(text("select count(*) from audit_log where action='sync.duplicate_person_merged'")).scalar()
    assert waiting == 0 and audited == 1
    with central.engine.connect() as conn:
        kinds = conn.execute(select(SyncConflict.__table__.c.kind, SyncConflict.__table__.c.status)).all()
    assert ("duplicate_person_merged", "resolved") in kinds  # same identity: recorded, nothing to do


def test_differing_identity_opens_a_case_a_supervisor_resolves(stations, central, tmp_path):
    a, b, _c = stations
    pa = import_new(a, tmp_path, name="张三")
    pb = import_new(b, tmp_path, name="张叁")
    PersonService(b.db).record_certification(pb, date(2026, 11, 27), "counter", b.actor, today=TODAY)
    a.sync.sync_once()
    b.sync.sync_once()
    a.sync.sync_once()
    svc_b = ConflictService(b.db)
    (case,) = [x for x in svc_b.cases() if x.kind == "duplicate_person_merged"]
    assert case.status == "open" and case.person_id == pa and case.name == "张三"
    assert case.masked_id != NEW and "*" in case.masked_id
    assert "姓名" in case.summary_zh and "张叁" in case.summary_zh
    # the case reached the other workstation
    assert [x.id for x in ConflictService(a.db).cases()] == [case.id]
    with pytest.raises(PermissionDenied):
        ConflictService(a.db).resolve(case.id, "核对", a.actor)
    with pytest.raises(UserFacingError):
        ConflictService(a.db).resolve(case.id, "  ", SUP)
    assert ConflictService(a.db).resolve(case.id, "已核对户籍，姓名以中心为准", SUP) is True
    assert ConflictService(a.db).resolve(case.id, "again", SUP) is False
    a.sync.sync_once()
    b.sync.sync_once()
    for db in (central, b.db):
        (done,) = [x for x in ConflictService(db).cases(None) if x.id == case.id]
        assert done.status == "resolved" and done.resolved_by == "sup" and done.note == "已核对户籍，姓名以中心为准"
    with a.db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from audit_log where action='sync.conflict_resolved'")).scalar() == 1


def test_entries_stuck_before_the_fix_are_merged_and_retried(stations, central, tmp_path):
    """Entries refused by the old rule (push_error set) are picked up: the person is merged and its
    dependants' errors cleared; a manual 重试 clears anything else."""
    a, b, _c = stations
    pa = import_new(a, tmp_path)
    pb = import_new(b, tmp_path)
    cb = PersonService(b.db).record_certification(pb, date(2026, 11, 27), "counter", b.actor, today=TODAY).id
    a.sync.sync_once()
    with b.db.engine.begin() as conn:  # what the old push left behind
        conn.execute(text("update outbox set push_error='UniqueViolation' where pushed_at is null"))
    assert ConflictService(b.db).refused_count() > 0
    r = b.sync.sync_once()
    assert r.rejected == 0
    assert ConflictService(b.db).refused_count() == 0
    assert cb in certs_of(central, pa)

    # manual retry of an entry refused for another reason
    with b.db.engine.begin() as conn:
        conn.execute(text("insert into outbox (id, entity, entity_id, op, created_at, push_error) values "
                          "('11111111-1111-1111-1111-111111111111', 'certification', :c, 'upsert', CURRENT_TIMESTAMP, 'X')"),
                     {"c": cb})
    svc = ConflictService(b.db)
    assert [e["push_error"] for e in svc.refused()] == ["X"]
    with pytest.raises(PermissionDenied):
        svc.retry_refused(b.actor)
    assert svc.retry_refused(SUP) == 1
    assert b.sync.sync_once().pushed == 1 and svc.refused_count() == 0


def test_refused_entry_is_retried_when_its_row_changes(stations, central, tmp_path):
    a, *_ = stations
    with a.db.engine.begin() as conn:
        pid = conn.execute(select(Person.__table__.c.id).limit(1)).scalar()
        conn.execute(text("insert into outbox (id, entity, entity_id, op, created_at, push_error) values "
                          "('22222222-2222-2222-2222-222222222222', 'person', :p, 'upsert', CURRENT_TIMESTAMP, 'X')"),
                     {"p": pid})
    assert a.sync.sync_once().pushed == 0 and ConflictService(a.db).refused_count() == 1
    with a.db.engine.begin() as conn:  # the row changes (a new outbox entry for it)
        conn.execute(text("insert into outbox (id, entity, entity_id, op, created_at) values "
                          "('33333333-3333-3333-3333-333333333333', 'person', :p, 'upsert', CURRENT_TIMESTAMP)"),
                     {"p": pid})
    assert a.sync.sync_once().pushed == 2 and ConflictService(a.db).refused_count() == 0
