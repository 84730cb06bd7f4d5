"""The repository functions the roster/results imports use since issue 14: SQLite fast paths and
the portable (SQLAlchemy) paths give the same answers; values stay data."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from db import bulk, import_repo
from db import certification_queries as certq
from db import repositories as repo
from desktop.services.database import Database

NOW = "2026-11-29 08:00:00.000000"
PERSON = ("id", "id_number", "name", "sex", "birth_date", "phone", "address", "residence")
CONST = {"death_date": None, "death_source": None, "created_at": NOW, "updated_at": NOW, "updated_by": "c",
         "workstation": "ws"}


@pytest.fixture(params=["sqlite", "portable"])
def conn(request, tmp_path, monkeypatch):
    db = Database.open(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with db.engine.connect() as c:
        tx = c.begin()
        bulk.insert_rows(c, repo.persons, PERSON, [
            ("p1", "152202195003011234", "王桂兰", "F", "1950-03-01", "139", "阿尔山", "local"),
            ("p2", "152202195003012345", "巴特尔·其其格", "M", "1950-03-01", None, None, "local")], CONST)
        c.execute(repo.persons.update().where(repo.persons.c.id == "p2").values(death_date=date(2026, 1, 10)))
        bulk.insert_rows(c, repo.entitlements, ("id", "person_id", "cohort", "start_date", "monthly_amount_fen"), [
            ("e1", "p1", "enterprise_retiree", "2012-05-01", 150_000),
            ("e2", "p2", "enterprise_retiree", "2012-05-01", None)],
            {"status": "active", "status_since": None, "created_at": NOW, "updated_at": NOW})
        bulk.insert_rows(c, repo.certifications, ("id", "person_id", "cert_date", "evidence"), [
            ("c1", "p1", "2026-03-15", None)],
            {"method": "legacy", "result": "passed", "operator": "c", "approver": None, "workstation": "ws",
             "batch_id": None, "created_at": NOW})
        import_repo.insert_amounts(c, [("a1", "e1", "2026-07", 160_000, 150_000), ("a2", "e1", "2026-09", 170_000, 160_000)],
                            {"batch_id": None, "operator": "c", "created_at": NOW})
        if request.param == "portable":  # the path other databases (PostgreSQL) take
            monkeypatch.setattr(c.dialect, "name", "portable")
        yield c
        tx.rollback()
    db.dispose()


def test_person_import_briefs(conn):
    briefs = import_repo.person_import_briefs(conn, ["152202195003011234", "152202195003012345", "152202195003010000"])
    assert set(briefs) == {"152202195003011234", "152202195003012345"}
    assert briefs["152202195003011234"]["death_date"] is None and briefs["152202195003011234"]["phone"] == "139"
    assert briefs["152202195003012345"]["death_date"] == "2026-01-10"  # ISO text, as the import compares it
    assert import_repo.person_import_briefs(conn, []) == {}


def test_certification_results_and_amount_months(conn):
    assert certq.certification_results_for_persons(conn, ["p1", "p2"]) == [("p1", "2026-03-15", "passed")]
    assert import_repo.latest_amount_months(conn, ["e1", "e2"]) == {"e1": "2026-09"}
    assert import_repo.has_amount_history(conn)
    assert [(a["from_month"], a["amount_fen"], a["previous_fen"]) for a in import_repo.amounts_of(conn, ["e1"])] == [
        ("2026-07", 160_000, 150_000), ("2026-09", 170_000, 160_000)]


def test_update_rows_writes_values_and_constants_as_data(conn):
    odd = "O'Brien -- ; DROP TABLE persons; '"
    bulk.update_rows(conn, repo.persons, "id", ("phone", "address", "residence"),
                     [("138", "新城'街", "remote", "p1"), ("137", None, "local", "p2")],
                     {"updated_at": "2026-11-30 09:00:00.000000", "updated_by": odd, "workstation": "柜台'1"})
    bulk.update_rows(conn, repo.entitlements, "id", ("start_date", "monthly_amount_fen"),
                     [("2012-06-01", 180_000, "e1")], {"updated_at": "2026-11-30 09:00:00.000000"})
    rows = {r["id"]: r for r in conn.execute(select(repo.persons)).mappings()}
    assert (rows["p1"]["phone"], rows["p1"]["address"], rows["p1"]["residence"]) == ("138", "新城'街", "remote")
    assert rows["p2"]["phone"] == "137" and rows["p2"]["address"] is None
    assert {r["updated_by"] for r in rows.values()} == {odd} and {r["workstation"] for r in rows.values()} == {"柜台'1"}
    assert rows["p1"]["updated_at"] == datetime(2026, 11, 30, 9, 0)  # read back as SQLAlchemy wrote it
    ent = conn.execute(select(repo.entitlements).where(repo.entitlements.c.id == "e1")).mappings().one()
    assert (ent["start_date"], ent["monthly_amount_fen"]) == (date(2012, 6, 1), 180_000)
    assert conn.execute(select(repo.entitlements.c.monthly_amount_fen).where(repo.entitlements.c.id == "e2")).scalar() is None


def test_update_rows_binds_constants_without_a_literal(conn):
    bulk.update_rows(conn, repo.persons, "id", ("phone",), [("136", "p1")], {"updated_by": "a\x00b"})
    row = conn.execute(select(repo.persons).where(repo.persons.c.id == "p1")).mappings().one()
    assert (row["phone"], row["updated_by"]) == ("136", "a\x00b")


def test_open_cases_once(conn):
    now = datetime(2026, 11, 29, 8)
    case = {"id": "k1", "kind": "certified_after_death", "entity": "person", "entity_id": "p2", "person_id": "p2",
            "detail": "{}", "workstation": "ws", "status": "open", "resolved_by": None, "resolved_at": None,
            "created_at": now, "updated_at": now}
    assert import_repo.open_cases_once(conn, [case, dict(case)]) == ["k1"]
    assert import_repo.open_cases_once(conn, [case, {**case, "id": "k2"}]) == ["k2"]
    assert import_repo.open_cases_once(conn, []) == []
