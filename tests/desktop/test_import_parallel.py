"""Large rosters are validated in a second process, chunk by chunk: the outcome must be exactly
the single-process one (same report, same records), whatever the chunk boundaries."""

from __future__ import annotations

from collections import Counter
from datetime import date as d

from scenario import ACTOR, write_csv
from sqlalchemy import text

import desktop.services.imports as imports
from db import journal
from desktop.idnumber import make_number
from desktop.services.database import Database
from desktop.services.imports import ROSTER_COLUMNS, ImportService

TODAY = d(2026, 11, 29)


def rows():
    out = []
    for i in range(12):
        n = make_number("152202", d(1950, 1, 1 + i), i + 1)
        out.append([f"王{'一二三四五六七八九十甲乙'[i]}兰", n, "企业离退休人员", "2012-05-01", "2026-03-15", "", "", "本地", "1500"])
        if i % 4 == 0:  # the same person's second entitlement, a few lines later (crosses chunks)
            out.append([f"王{'一二三四五六七八九十甲乙'[i]}兰", n, "企业职工遗属", "2015-01-01", "", "", "", "本地", ""])
    out.insert(5, list(out[2]))  # an exact duplicate
    out.insert(9, ["坏行", "152202195001010019", "企业离退休人员", "2012-05-01", "", "", "", "本地", ""])  # check digit
    out.insert(11, ["李四", out[0][1], "工伤保险待遇领取人员", "2012-05-01", "", "", "", "本地", ""])  # name mismatch
    return out


def snapshot(db):
    with db.engine.connect() as conn:
        persons = sorted(conn.execute(text("select id_number, name, residence from persons")).fetchall())
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

    monkeypatch.setattr(imports, "PARALLEL_MIN_BYTES", 0)  # force the worker process …
    monkeypatch.setattr(imports, "PARALLEL_CHUNK", 3)  # … and chunk boundaries everywhere
    parallel = Database.open(f"sqlite:///{tmp_path / 'parallel.sqlite'}")
    got = ImportService(parallel).import_roster(path, ACTOR, today=TODAY).as_json()
    assert got == expected
    assert expected["imported"] == 15 and len(expected["rejected"]) == 3
    assert snapshot(parallel) == snapshot(single)
    again = ImportService(parallel).import_roster(path, ACTOR, today=TODAY).as_json()
    assert again["imported"] == 0 and again["unchanged"] == 15  # re-import through the worker: idempotent
