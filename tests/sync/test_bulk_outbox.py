"""Bulk outbox entries (revision 0007): a roster import queues its records as a few entries of up
to journal.BULK_ITEMS ids each; the push expands them in place, counts records (not entries), cuts
batches near their size, and splits an entry when the central database refuses one of its records.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from helpers import OFFICE, TODAY, Workstation
from sqlalchemy import select, text

from db import journal
from db import sync as dbsync
from db.models import Person
from desktop.domain.idnumber import make_number
from desktop.services.database import Database
from desktop.services import sync_policy
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.services.sync import ConflictService
from desktop.platform.workstation import Actor

SUP = Actor("sup", "ws-a", "supervisor")


def write_roster(path: Path, n: int, amount_of=lambda i: "2500") -> list[str]:
    numbers = [make_number("152202", date(1948, 1, 1) + timedelta(days=i // 900), i % 900 + 1) for i in range(n)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        for i, number in enumerate(numbers, 1):
            w.writerow([f"居民{'甲乙丙丁戊己庚辛壬癸'[i % 10]}", number, "企业离退休人员", "2015-01-01", "2026-02-01",
                        "", "阿尔山市", "本地", amount_of(i)])
    return numbers


@pytest.fixture
def central(central_url):
    db = Database.open(central_url)  # the central schema
    yield db
    db.dispose()


@pytest.fixture
def ws(central, central_url, tmp_path):
    station = Workstation("ws-a", tmp_path / "a.sqlite", central_url)
    yield station
    station.close()


def central_count(central: Database, table: str) -> int:
    with central.engine.connect() as conn:
        return conn.execute(text(f"select count(*) from {table}")).scalar()


def test_bulk_import_is_a_few_entries_counted_as_records_and_pushed_in_order(ws, central, tmp_path):
    numbers = write_roster(tmp_path / "r.csv", 2_500)
    report = ImportService(ws.db).import_roster(tmp_path / "r.csv", OFFICE, today=TODAY)
    assert report.imported == 2_500
    with ws.db.engine.connect() as conn:
        entries = conn.execute(text("select entity, op, item_count from outbox order by seq")).all()
        queued = journal.queued(conn, pending=True)
    # 3 entities × ceil(2500 / 1000) entries, persons before entitlements before certifications
    assert len(entries) == 9 and {e[1] for e in entries} == {"bulk"}
    assert [e[0] for e in entries] == ["person"] * 3 + ["entitlement"] * 3 + ["certification"] * 3
    assert sum(e[2] for e in entries) == len(queued) == 7_500
    assert dbsync.waiting(ws.db.engine) == 7_500  # the status bar counts records, not entries

    # small batches: each central transaction holds about `batch` records, parents first
    result = sync_policy.push(ws.db.engine, central.engine, "ws-a", batch=700)
    assert result.pushed == 7_500 and result.rejected == 0
    assert dbsync.waiting(ws.db.engine) == 0
    assert central_count(central, "persons") == 2_500
    assert central_count(central, "entitlements") == 2_500
    assert central_count(central, "certifications") == 2_500
    with central.engine.connect() as conn:
        got = set(conn.execute(text("select id_number from persons")).scalars())
    assert got == set(numbers)


def test_a_refused_record_is_split_out_and_the_rest_of_its_entry_is_pushed(ws, central, central_url, tmp_path):
    # the central database refuses entitlements over 50,000 yuan a month (a stand-in for any
    # central rule a workstation's row can break)
    with psycopg.connect(central_url, autocommit=True) as c:
        c.execute("ALTER TABLE entitlements ADD CONSTRAINT test_amount_cap CHECK (monthly_amount_fen < 5000000)")
    write_roster(tmp_path / "r.csv", 30, amount_of=lambda i: "60000" if i == 17 else "2500")
    ImportService(ws.db).import_roster(tmp_path / "r.csv", OFFICE, today=TODAY)
    with ws.db.engine.connect() as conn:
        bad = conn.execute(text("select id from entitlements where monthly_amount_fen = 6000000")).scalar()

    result = ws.sync.sync_once()
    assert result.rejected == 1
    assert central_count(central, "persons") == 30
    assert central_count(central, "entitlements") == 29  # only the refused one is missing
    assert central_count(central, "certifications") == 30
    conflicts = ConflictService(ws.db)
    refused = conflicts.refused()
    assert [(r["entity"], str(r["entity_id"])) for r in refused] == [("entitlement", bad)]
    assert "CheckViolation" in refused[0]["push_error"]
    assert dbsync.waiting(ws.db.engine) == 0  # the bulk entries are done; the refused one waits apart

    # the cause is fixed centrally; a supervisor retries; the record arrives
    with psycopg.connect(central_url, autocommit=True) as c:
        c.execute("ALTER TABLE entitlements DROP CONSTRAINT test_amount_cap")
    assert conflicts.retry_refused(SUP) == 1
    again = ws.sync.sync_once()
    assert again.pushed >= 1 and again.rejected == 0
    assert central_count(central, "entitlements") == 30
    assert conflicts.refused_count() == 0


def test_pull_does_not_overwrite_rows_waiting_in_a_bulk_entry(ws, central, tmp_path):
    """A row queued in a bulk entry counts as a local change waiting to be pushed: a pull must not
    replace it with the central copy. (The last person of the entry: not its entity_id.)"""
    write_roster(tmp_path / "r.csv", 5)
    ImportService(ws.db).import_roster(tmp_path / "r.csv", OFFICE, today=TODAY)
    with ws.db.engine.connect() as conn:
        pid = conn.execute(text("select id from persons order by id desc limit 1")).scalar()
        person = dict(conn.execute(select(Person.__table__).where(Person.__table__.c.id == pid)).mappings().one())
    central_row = {**person, "address": "中心的地址"}
    applied, _ = dbsync.apply_rows(ws.db.engine, None, {"persons": [central_row]})
    assert applied == 0
    with ws.db.engine.connect() as conn:
        assert conn.execute(text("select address from persons where id = :i"), {"i": pid}).scalar() == "阿尔山市"
