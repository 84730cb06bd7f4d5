"""The roster import's set-wise path (issue 20, db/import_bulk.py): the persons a file creates go
through TEMP staging tables and ``INSERT … SELECT``, and their share of the maintained aggregates
and the clock is added once at the end. The outcome must be exactly the ordinary path's — rows,
report, audit, sync queue and aggregates — on a file that mixes persons already in the database
(changed, unchanged, a new entitlement, a certification after a recorded death) with new ones
(second lines in the same chunk and in later chunks), duplicates and rejected lines."""

from __future__ import annotations

from collections import Counter
from datetime import date as d

import pytest
from scenario import ACTOR, write_csv
from sqlalchemy import text

import desktop.services.roster_import as roster_import
from db import aggregates, import_bulk, journal
from desktop.domain.idnumber import make_number
from desktop.formats.roster_rows import AMOUNT_FROM
from desktop.services.database import Database
from desktop.services.imports import ROSTER_COLUMNS, ImportService

TODAY = d(2026, 11, 29)
COLUMNS = [*ROSTER_COLUMNS, AMOUNT_FROM]
NAMES = "一二三四五六七八九十甲乙丙丁戊己庚辛壬癸"


def number(i: int) -> str:
    return make_number("152202", d(1950, 1, 1 + i), i + 1)


def first_file() -> list[list]:
    """Persons 0–5, in the database before the second file."""
    return [[f"王{NAMES[i]}兰", number(i), "企业离退休人员", "2012-05-01", "2026-03-15", "13900000000",
             "阿尔山市", "本地", "1500", ""] for i in range(6)]


def second_file() -> list[list]:
    rows = [
        ["王一兰", number(0), "企业离退休人员", "2012-05-01", "2026-03-15", "13900000000", "阿尔山市", "本地", "1500", ""],  # unchanged
        ["王二兰", number(1), "企业离退休人员", "2012-05-01", "2026-10-02", "13911111111", "阿尔山市", "本地", "1500", ""],  # new date, phone
        ["王三兰", number(2), "企业离退休人员", "2012-05-01", "2026-03-15", "", "", "", "1800", "2026-12"],  # amount
        ["王四兰", number(3), "企业职工遗属", "2016-01-01", "2025-12-01", "", "", "", "900", ""],  # a new entitlement
        ["王五兰", number(4), "企业离退休人员", "2012-05-01", "2026-08-01", "", "", "", "", ""],  # died: a case
        ["李某", number(5), "企业离退休人员", "2012-05-01", "", "", "", "", "", ""],  # name mismatch: rejected
    ]
    for i in range(6, 20):  # new persons; some have a second line, in the same chunk or later ones
        rows.append([f"王{NAMES[i]}兰", number(i), ["企业离退休人员", "城乡居民养老保险待遇领取人员"][i % 2],
                     f"20{10 + i % 8}-0{1 + i % 9}-01", "" if i % 5 == 0 else f"2026-0{1 + i % 9}-1{i % 10}",
                     "", "", "异地" if i % 3 == 0 else "", str(1000 + i), ""])
        if i % 4 == 2:
            rows.append([f"王{NAMES[i]}兰", number(i), "企业职工遗属", "2019-07-01", f"2026-1{i % 2}-20",
                         "13800000000" if i == 10 else "", "温泉街" if i == 10 else "", "", "", ""])
    rows.append(list(rows[8]))  # an exact duplicate
    rows.append(["坏行", "152202195001010019", "企业离退休人员", "2012-05-01", "", "", "", "", "", ""])  # check digit
    rows.append([f"王{NAMES[7]}兰", number(7), "企业职工遗属", "2020-02-01", "2026-11-01", "", "", "", "", ""])  # far later
    # a new person's later line certified *before* their first line's date: the latest stays
    rows.append([f"王{NAMES[11]}兰", number(11), "企业职工遗属", "2020-02-01", "2025-12-01", "", "", "", "", ""])
    return rows


def natural(conn) -> dict:
    """Every record the import writes, by natural keys instead of ids (which differ per run)."""
    key: dict[str, object] = {}
    for pid, num in conn.execute(text("select id, id_number from persons")):
        key[pid] = num
    for eid, pid, cohort in conn.execute(text("select id, person_id, cohort from entitlements")):
        key[eid] = (key[pid], cohort)
    for cid, pid, day in conn.execute(text("select id, person_id, cert_date from certifications")):
        key[cid] = (key[pid], str(day))
    for aid, eid, month in conn.execute(text("select id, entitlement_id, from_month from entitlement_amounts")):
        key[aid] = (key[eid], month)

    def rows(sql):
        return sorted(tuple(key.get(v, v) if isinstance(v, str) else v for v in r) for r in conn.execute(text(sql)))

    maintained = aggregates.maintained(conn)
    assert maintained == aggregates.from_scratch(conn)
    return {
        "persons": rows("select id, name, sex, birth_date, phone, address, residence, death_date, updated_by, "
                        "workstation from persons"),
        "entitlements": rows("select id, cohort, start_date, monthly_amount_fen, status, status_since from entitlements"),
        "certifications": rows("select id, method, result, evidence, operator, workstation from certifications"),
        "amounts": rows("select id, amount_fen, previous_fen from entitlement_amounts"),
        "outbox": [(e, key[i]) for e, i in journal.queued(conn) if i in key],  # push order
        "outbox_other": Counter(e for e, i in journal.queued(conn) if i not in key),
        "audit": Counter(conn.execute(text("select action from audit_log")).scalars()),
        "cases": rows("select kind, person_id, status from sync_conflicts"),
        "aggregates": {k: sorted(tuple(key.get(v, v) for v in r) for r in rs) for k, rs in maintained.items()},
    }


def run(tmp_path, name: str, monkeypatch, *, staged: bool, chunk: int, worker: bool):
    with monkeypatch.context() as m:
        m.setattr(roster_import, "PARALLEL_CHUNK", chunk)
        if worker:
            m.setattr(roster_import, "PARALLEL_MIN_BYTES", 0)
        if not staged:
            m.setattr(import_bulk, "available", lambda conn: False)
        db = Database.open(f"sqlite:///{tmp_path / name}.sqlite")
        svc = ImportService(db)
        first = write_csv(tmp_path / "first.csv", COLUMNS, first_file())
        assert svc.import_roster(first, ACTOR, today=d(2026, 6, 1)).imported == 6
        with db.engine.begin() as conn:  # person 4 died (the trigger moves their buckets)
            conn.execute(text("update persons set death_date = '2026-05-01' where id_number = :n"), {"n": number(4)})
        second = write_csv(tmp_path / "second.csv", COLUMNS, second_file())
        report = svc.import_roster(second, ACTOR, today=TODAY).as_json()
        with db.engine.connect() as conn:
            return report, natural(conn)


@pytest.mark.parametrize(("chunk", "worker"), [(1000, False), (3, False), (4, True)])
def test_the_staged_path_writes_what_the_ordinary_path_writes(tmp_path, monkeypatch, chunk, worker):
    ordinary = run(tmp_path, "ordinary", monkeypatch, staged=False, chunk=chunk, worker=worker)
    staged = run(tmp_path, "staged", monkeypatch, staged=True, chunk=chunk, worker=worker)
    report = ordinary[0]
    assert (report["imported"], report["updated"], report["unchanged"]) == (21, 2, 2)
    assert [r["line"] for r in report["rejected"]] == [7, 26, 27] and report["warnings"]
    assert ordinary[1]["cases"] and ordinary[1]["amounts"]
    assert staged[0] == ordinary[0]
    for part, value in ordinary[1].items():
        assert staged[1][part] == value, part


def test_staging_tables_are_gone_after_a_dry_run_and_an_import(tmp_path):
    """The staged rows (personal data) do not stay behind in the pooled connection's memory."""
    db = Database.open(f"sqlite:///{tmp_path / 'x.sqlite'}")
    path = write_csv(tmp_path / "first.csv", COLUMNS, first_file())

    def temps():
        with db.engine.connect() as conn:
            return conn.execute(text("select name from sqlite_temp_master where name like 'roster%'")).fetchall()

    ImportService(db).import_roster(path, ACTOR, today=TODAY, dry_run=True)
    assert temps() == []
    ImportService(db).import_roster(path, ACTOR, today=TODAY)
    assert temps() == []
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from persons")).scalar() == 6
        assert aggregates.maintained(conn) == aggregates.from_scratch(conn)


def test_the_reading_process_makes_records_in_the_staging_columns():
    from desktop.formats.roster_rows import REC_COLS

    assert REC_COLS == import_bulk.STAGE_COLS


def test_a_failure_while_writing_stops_the_worker_and_its_receiving_thread(tmp_path, monkeypatch):
    """The chunks are received on a thread while the writer writes: an error in the writer stops
    the worker (which may be blocked sending), ends the thread and leaves nothing written."""
    import multiprocessing
    import threading

    monkeypatch.setattr(roster_import, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(roster_import, "PARALLEL_CHUNK", 2)
    apply, calls = roster_import.apply_roster, []

    def failing(conn, rows, report, st):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        apply(conn, rows, report, st)

    monkeypatch.setattr(roster_import, "apply_roster", failing)
    db = Database.open(f"sqlite:///{tmp_path / 'x.sqlite'}")
    before = set(threading.enumerate())
    with pytest.raises(RuntimeError, match="disk full"):
        ImportService(db).import_roster(write_csv(tmp_path / "s.csv", COLUMNS, second_file()), ACTOR, today=TODAY)
    assert {t.name for t in set(threading.enumerate()) - before} <= {"sqlite-checkpoint"}
    assert multiprocessing.active_children() == []
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from persons")).scalar() == 0
        assert aggregates.maintained(conn) == aggregates.from_scratch(conn)


def test_a_failure_receiving_a_chunk_reaches_the_writer(tmp_path, monkeypatch):
    """The receiving thread hands any failure (here: a chunk that cannot be unpickled) to the
    writer, which raises it instead of waiting for a chunk that never comes."""
    import multiprocessing
    import multiprocessing.connection
    import threading

    monkeypatch.setattr(roster_import, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(roster_import, "PARALLEL_CHUNK", 2)
    recv, calls = multiprocessing.connection.Connection.recv, []

    def broken(self):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("no room for the chunk")
        return recv(self)

    monkeypatch.setattr(multiprocessing.connection.Connection, "recv", broken)
    db = Database.open(f"sqlite:///{tmp_path / 'x.sqlite'}")
    path, raised = write_csv(tmp_path / "s.csv", COLUMNS, second_file()), []

    def run_import():  # on a thread, so that waiting forever fails the test instead of hanging it
        try:
            ImportService(db).import_roster(path, ACTOR, today=TODAY)
        except MemoryError as exc:
            raised.append(exc)

    runner = threading.Thread(target=run_import, daemon=True)
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive() and raised
    assert multiprocessing.active_children() == []
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from persons")).scalar() == 0


# --- random files: the staged path against the ordinary one -------------------------------------

COHORT_NAMES = ["企业离退休人员", "城乡居民养老保险待遇领取人员", "企业职工遗属"]


def _line(draw, p: int, later_name: bool):
    from hypothesis import strategies as st

    name = f"王{NAMES[p]}兰"
    if later_name and draw(st.integers(0, 9)) == 0:
        name = f"王·{NAMES[p]}兰" if draw(st.booleans()) else "李某"  # a separator (same) or another name
    return [name, number(p), draw(st.sampled_from(COHORT_NAMES)),
            draw(st.sampled_from(["2012-05-01", "2016-01-01", "2025-03-01"])),
            draw(st.sampled_from(["", "2025-12-01", "2026-03-15", "2026-10-02", "2026-11-20"])),
            draw(st.sampled_from(["", "13900000000", "13911111111"])),
            draw(st.sampled_from(["", "阿尔山市", "温泉街"])),
            draw(st.sampled_from(["", "本地", "异地"])),
            draw(st.sampled_from(["", "1500", "1800"])),
            draw(st.sampled_from(["", "", "2026-12"]))]


def _files(draw):
    from hypothesis import strategies as st

    first = [_line(draw, p, False) for p in sorted(draw(st.sets(st.integers(0, 7), max_size=4)))]
    second = [_line(draw, p, True) for p in draw(st.lists(st.integers(0, 9), min_size=1, max_size=16))]
    return first, second


def _import_both_ways(root, first, second, dead: int | None, chunk: int, staged: bool):
    from pytest import MonkeyPatch

    with MonkeyPatch.context() as m:
        m.setattr(roster_import, "PARALLEL_CHUNK", chunk)
        if not staged:
            m.setattr(import_bulk, "available", lambda conn: False)
        db = Database.open(f"sqlite:///{root / ('staged' if staged else 'ordinary')}.sqlite")
        svc = ImportService(db)
        if first:
            svc.import_roster(write_csv(root / "first.csv", COLUMNS, first), ACTOR, today=d(2026, 6, 1))
        if dead is not None:
            with db.engine.begin() as conn:
                conn.execute(text("update persons set death_date = '2026-05-01' where id_number = :n"),
                             {"n": number(dead)})
        report = svc.import_roster(write_csv(root / "second.csv", COLUMNS, second), ACTOR, today=TODAY).as_json()
        with db.engine.connect() as conn:
            out = natural(conn)
        db.dispose()
        return report, out


def test_random_files_are_written_the_same_both_ways():
    """Hypothesis: random first and second files — persons known or new, second lines in the same
    chunk or later ones, changed contact details, names and amounts, certifications earlier or
    later than the one on file, a death, duplicates and mismatches — imported in random chunk
    sizes give the same report and the same records, audit, sync queue and aggregates (each equal
    to a count from scratch) on the staged path as on the ordinary one."""
    import tempfile
    from pathlib import Path

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def check(data):
        first, second = _files(data.draw)
        dead = data.draw(st.sampled_from([None, 0, 1]))
        chunk = data.draw(st.integers(1, 6))
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            ordinary = _import_both_ways(root, first, second, dead, chunk, staged=False)
            staged = _import_both_ways(root, first, second, dead, chunk, staged=True)
        assert staged[0] == ordinary[0]
        for part, value in ordinary[1].items():
            assert staged[1][part] == value, part

    check()


def test_new_persons_are_created_alive(tmp_path):
    """The staged path counts every person it creates as alive (the buckets' ``alive`` = 1):
    constants with a death date are refused before anything is staged."""
    db = Database.open(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with db.engine.connect() as conn:
        for death in ("2026-05-01", d(2026, 5, 1)):
            consts = {"persons": {"death_date": death}, "entitlements": {"status": "active"},
                      "certifications": {"method": "legacy", "result": "passed"}}
            with pytest.raises(ValueError, match="^new persons are created alive$"):
                import_bulk.NewPersons(conn, consts)
        alive = {"persons": {"death_date": None}, "entitlements": {"status": "active"},
                 "certifications": {"method": "legacy", "result": "passed"}}
        assert import_bulk.NewPersons(conn, alive).staged == 0
