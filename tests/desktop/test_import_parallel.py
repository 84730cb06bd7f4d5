"""Large rosters are validated in a second process, chunk by chunk: the outcome must be exactly
the single-process one (same report, same records), whatever the chunk boundaries."""

from __future__ import annotations

from collections import Counter
from datetime import date as d

import pytest
from scenario import ACTOR, write_csv
from sqlalchemy import text

import desktop.services.roster_import as roster_import
from db import journal
from desktop.domain.idnumber import make_number
from desktop.services.database import Database
from desktop.services.imports import ROSTER_COLUMNS, ImportService

TODAY = d(2026, 11, 29)


def rows():
    out = []
    for i in range(12):
        n = make_number("152202", d(1950, 1, 1 + i), i + 1)
        out.append([f"王{'一二三四五六七八九十甲乙'[i]}兰", n, "企业离退休人员", "2012-05-01", "2026-03-15", "", "", "本地", "1500"])
        if i % 4 == 0:  # the same person's second entitlement, a few lines later (crosses chunks);
            # for one of them the later line adds a phone and an address the first one lacked
            phone, address = ("13912345678", "阿尔山市温泉街") if i == 4 else ("", "")
            out.append([f"王{'一二三四五六七八九十甲乙'[i]}兰", n, "企业职工遗属", "2015-01-01", "", phone, address, "本地", ""])
    out.insert(5, list(out[2]))  # an exact duplicate
    out.insert(9, ["坏行", "152202195001010019", "企业离退休人员", "2012-05-01", "", "", "", "本地", ""])  # check digit
    out.insert(11, ["李四", out[0][1], "工伤保险待遇领取人员", "2012-05-01", "", "", "", "本地", ""])  # name mismatch
    return out


def snapshot(db):
    with db.engine.connect() as conn:
        persons = sorted(conn.execute(text("select id_number, name, residence, phone, address from persons")).fetchall())
        ents = sorted(conn.execute(text(
            "select p.id_number, e.cohort, e.start_date, e.monthly_amount_fen from entitlements e "
            "join persons p on p.id = e.person_id")).fetchall())
        certs = sorted(conn.execute(text(
            "select p.id_number, c.cert_date from certifications c join persons p on p.id = c.person_id")).fetchall())
        outbox = sorted(Counter(e for e, _ in journal.queued(conn)).items())  # records queued for the sync
    return persons, ents, certs, outbox


def test_second_process_gives_the_single_process_result(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "roster.csv", ROSTER_COLUMNS, rows())
    single = Database.open(f"sqlite:///{tmp_path / 'single.sqlite'}")
    expected = ImportService(single).import_roster(path, ACTOR, today=TODAY).as_json()

    monkeypatch.setattr(roster_import, "PARALLEL_MIN_BYTES", 0)  # force the worker process …
    monkeypatch.setattr(roster_import, "PARALLEL_CHUNK", 3)  # … and chunk boundaries everywhere
    parallel = Database.open(f"sqlite:///{tmp_path / 'parallel.sqlite'}")
    got = ImportService(parallel).import_roster(path, ACTOR, today=TODAY).as_json()
    assert got == expected
    assert expected["imported"] == 15 and len(expected["rejected"]) == 3
    assert snapshot(parallel) == snapshot(single)
    again = ImportService(parallel).import_roster(path, ACTOR, today=TODAY).as_json()
    assert again["imported"] == 0 and again["unchanged"] == 15  # re-import through the worker: idempotent


@pytest.mark.parametrize("chunk", [1, 1000])  # the later line in another chunk / in the same chunk
def test_a_new_persons_later_line_completes_its_contact_details(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(roster_import, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(roster_import, "PARALLEL_CHUNK", chunk)
    db = Database.open(f"sqlite:///{tmp_path / 'p.sqlite'}")
    ImportService(db).import_roster(write_csv(tmp_path / "r.csv", ROSTER_COLUMNS, rows()), ACTOR, today=TODAY)
    with db.engine.connect() as conn:
        phones = dict(conn.execute(text("select name, phone from persons where phone is not null")).fetchall())
    assert phones == {"王五兰": "13912345678"}
    with db.engine.connect() as conn:
        updates = conn.execute(text("select count(*) from audit_log where action = 'person.update'")).scalar()
    assert updates == 1  # the completed details are an audited change of the new record


def test_whole_file_problems_stop_the_worker_and_keep_their_message(tmp_path, monkeypatch):
    import multiprocessing

    from desktop.errors import UserFacingError

    monkeypatch.setattr(roster_import, "PARALLEL_MIN_BYTES", 0)
    db = Database.open(f"sqlite:///{tmp_path / 'p.sqlite'}")
    bad = write_csv(tmp_path / "bad.csv", ["姓名", "公民身份号码"], [["王一兰", make_number("152202", d(1950, 1, 1), 1)]])
    with pytest.raises(UserFacingError) as err:
        ImportService(db).import_roster(bad, ACTOR, today=TODAY)
    assert err.value.code == "missing_columns" and "认证对象" in str(err.value.message_zh)
    assert multiprocessing.active_children() == []  # the worker was stopped, not left behind
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from persons")).scalar() == 0


def test_a_gbk_file_through_the_worker(tmp_path, monkeypatch):
    utf8 = write_csv(tmp_path / "u.csv", ROSTER_COLUMNS, rows())
    gbk = write_csv(tmp_path / "g.csv", ROSTER_COLUMNS, rows(), encoding="gbk")
    single = Database.open(f"sqlite:///{tmp_path / 'single.sqlite'}")
    expected = ImportService(single).import_roster(utf8, ACTOR, today=TODAY).as_json()
    monkeypatch.setattr(roster_import, "PARALLEL_MIN_BYTES", 0)
    parallel = Database.open(f"sqlite:///{tmp_path / 'parallel.sqlite'}")
    assert ImportService(parallel).import_roster(gbk, ACTOR, today=TODAY).as_json() == expected
    assert snapshot(parallel) == snapshot(single)


def test_the_worker_is_joined_where_the_import_finishes_and_no_thread_is_left(tmp_path, monkeypatch):
    """No reaper thread (issue 18 §4: one background bridge): the import itself joins the worker
    that sent everything, after its commit."""
    import multiprocessing.context
    import threading

    started, start = [], multiprocessing.context.SpawnProcess.start

    def spied(proc):
        started.append(proc)
        start(proc)

    monkeypatch.setattr(multiprocessing.context.SpawnProcess, "start", spied)
    monkeypatch.setattr(roster_import, "PARALLEL_MIN_BYTES", 0)
    db = Database.open(f"sqlite:///{tmp_path / 'p.sqlite'}")
    before = set(threading.enumerate())
    report = ImportService(db).import_roster(write_csv(tmp_path / "r.csv", ROSTER_COLUMNS, rows()), ACTOR, today=TODAY)
    assert report.imported == 15
    # only the database's WAL checkpoint may still run (db/engine.py, documented in docs/architecture.md)
    assert {t.name for t in set(threading.enumerate()) - before} <= {"sqlite-checkpoint"}
    assert len(started) == 1 and started[0].exitcode == 0  # ran to its end, and was reaped
