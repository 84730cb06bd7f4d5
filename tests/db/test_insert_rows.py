"""db.bulk.insert_rows: the bulk-import insert, with per-import constants written into the
statement once (SQLite literals) — quoting must be exact and nothing may change meaning."""

from __future__ import annotations

from sqlalchemy import select

from db import bulk
from db import repositories as repo
from desktop.services.database import Database

NOW = "2026-11-29 08:00:00.000000"


def _person(pid: str, number: str) -> tuple:
    return (pid, number, "王桂兰", "F", "1950-01-01", None, "阿尔山市", "local")


def test_constants_are_written_as_exact_literals(tmp_path):
    db = Database.open(f"sqlite:///{tmp_path / 'x.sqlite'}")
    odd = "O'Brien -- ; DROP TABLE persons; '"  # quotes and SQL in an operator name stay data
    const = {"death_date": None, "death_source": None, "created_at": NOW, "updated_at": NOW,
             "updated_by": odd, "workstation": "柜台'1"}
    with db.engine.begin() as conn:
        bulk.insert_rows(conn, repo.persons, ("id", "id_number", "name", "sex", "birth_date", "phone", "address",
                                              "residence"),
                         [_person("p1", "152202195003011234"), _person("p2", "152202195003012345")], const)
    with db.engine.connect() as conn:
        rows = conn.execute(select(repo.persons).order_by(repo.persons.c.id)).mappings().all()
    assert [r["id"] for r in rows] == ["p1", "p2"]
    assert {r["updated_by"] for r in rows} == {odd}
    assert {r["workstation"] for r in rows} == {"柜台'1"}
    assert rows[0]["created_at"].isoformat(sep=" ") == "2026-11-29 08:00:00"
    assert rows[0]["death_date"] is None


def test_values_without_a_literal_are_bound_instead(tmp_path):
    db = Database.open(f"sqlite:///{tmp_path / 'x.sqlite'}")
    const = {"death_date": None, "death_source": "a\x00b", "created_at": NOW, "updated_at": NOW,
             "updated_by": "clerk", "workstation": "ws"}
    with db.engine.begin() as conn:
        bulk.insert_rows(conn, repo.persons, ("id", "id_number", "name", "sex", "birth_date", "phone", "address",
                                              "residence"), [_person("p1", "152202195003011234")], const)
    with db.engine.connect() as conn:
        assert conn.execute(select(repo.persons.c.death_source)).scalar() == "a\x00b"
