"""Power-cut safety: SIGKILL a busy process at random moments; after each kill the database is
intact, every certification is complete (with its audit event and outbox entry) or absent, and
the outbox matches the records."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from db import journal
from desktop.domain.idnumber import make_number
from desktop.domain.rules import COHORTS
from desktop.services.audit import verify_chain
from desktop.services.database import Database
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.platform.workstation import Actor

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL semantics")


def build_roster(path: Path, n: int, variant: int) -> None:
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        cohorts = list(COHORTS.values())
        for i in range(n):
            number = make_number("152202", date(1940, 1, 1 + i % 28), i + 1)
            w.writerow(["测" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "甲乙丙丁戊己庚辛壬癸"[(i // 10) % 10], number,
                        cohorts[i % 6].name_zh, "2012-05-01", "2026-01-15", f"1390000{variant:04d}", "阿尔山市", "本地", ""])


def check_consistent(db: Database) -> dict:
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
        q = lambda sql: conn.execute(text(sql)).scalar()  # noqa: E731
        certs = q("select count(*) from certifications where method='counter'")
        # every counter certification has exactly its audit event and outbox entry
        assert q("""select count(*) from certifications c where c.method='counter' and not exists
                    (select 1 from audit_log a where a.entity_id=c.id and a.action='certification.record')""") == 0
        assert q("""select count(*) from certifications c where c.method='counter' and not exists
                    (select 1 from outbox o where o.entity_id=c.id and o.entity='certification')""") == 0
        assert q("select count(*) from audit_log where action='certification.record'") == certs
        # the outbox (bulk entries expanded) names exactly the records there are: none missing,
        # none that does not exist
        queued = set(journal.queued(conn))
        for entity, table in (("certification", "certifications"), ("person", "persons"), ("entitlement", "entitlements")):
            ids = {str(i) for i in conn.execute(text(f"select id from {table}")).scalars()}
            assert {i for e, i in queued if e == entity} == ids, entity
        # every import batch committed whole: its audit event is there
        assert q("select count(*) from import_batches") == q("select count(*) from audit_log where action='roster.import'")
        assert q("select count(*) from entitlements") == 120
    assert verify_chain(db).ok
    return {"certifications": certs}


KILLS = int(os.environ.get("CERTDESK_CRASH_KILLS", "100"))


def test_sigkill_during_certifications_and_imports(tmp_path):
    """A hundred SIGKILLs at random moments (0–300 ms into a busy worker); after every one the
    database is intact and consistent, and nothing committed before it was lost."""
    url = f"sqlite:///{tmp_path / 'crash.sqlite'}"
    db = Database.open(url)
    roster = tmp_path / "roster.csv"
    build_roster(roster, 120, 0)
    assert ImportService(db).import_roster(roster, Actor("s", "ws-setup", "supervisor"), today=date(2026, 11, 29)).imported == 120
    build_roster(roster, 120, 1)  # the worker re-imports a changed roster (updates) now and then
    rng = random.Random(7)
    zygote = subprocess.Popen([sys.executable, str(HERE / "zygote.py"), url, str(roster)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert zygote.stdout.readline().strip() == "ready"
    seen, losses = [], 0
    try:
        for _ in range(KILLS):
            zygote.stdin.write("go\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            time.sleep(rng.uniform(0.0, 0.3))
            os.kill(pid, signal.SIGKILL)
            zygote.stdin.write("reap\n")
            zygote.stdin.flush()
            assert zygote.stdout.readline().strip() == "reaped"
            count = check_consistent(db)["certifications"]
            losses += bool(seen and count < seen[-1])
            seen.append(count)
    finally:
        zygote.stdin.write("quit\n")
        zygote.stdin.flush()
        zygote.wait(10)
    print(f"crash test: {KILLS} kills, {seen[-1]} certifications survived, {losses} losses")
    assert losses == 0
    assert seen[-1] > 0  # the workers did real work between kills
