"""Building workstations and a central roster for the sync tests."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from db.models import Certification
from desktop.domain.idnumber import make_number
from desktop.domain.rules import COHORTS
from desktop.services.database import Database
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.services.sync import SyncService
from desktop.platform.workstation import Actor

TODAY = date(2026, 11, 29)
OFFICE = Actor("roster-office", "central-office", "admin")


class Workstation:
    def __init__(self, name: str, path: Path, central_url: str):
        self.name = name
        self.db = Database.open(f"sqlite:///{path}")
        self.actor = Actor(f"clerk-{name}", name, "clerk")
        self.sync = SyncService(self.db, central_url, workstation=name)

    def certifications(self) -> list[tuple]:
        t = Certification.__table__
        with self.db.engine.connect() as conn:
            return conn.execute(select(t.c.id, t.c.person_id, t.c.cert_date, t.c.workstation)).all()

    def count(self, table) -> int:
        with self.db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()

    def close(self) -> None:
        self.sync.close()
        self.db.dispose()


def seed_roster(db: Database, tmp: Path, n: int = 5, cohort: str = "enterprise_retiree") -> list[str]:
    """Import ``n`` people (ID numbers returned) through the real roster import."""
    numbers, rows = [], []
    for i in range(1, n + 1):
        number = make_number("152202", date(1950, 3, 1), i)
        numbers.append(number)
        rows.append(["测试" + "".join("零一二三四五六七八九"[int(c)] for c in str(i)), number, COHORTS[cohort].name_zh, "2020-01-01",
                     "2025-12-01", "13900000000", "阿尔山市林海街道", "本地", "250000"])
    path = tmp / f"roster-{n}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        w.writerows(rows)
    report = ImportService(db).import_roster(path, OFFICE, today=TODAY)
    assert report.rejected == [], report.rejected
    return numbers
