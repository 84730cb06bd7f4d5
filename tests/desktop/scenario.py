"""Scenario builders shared by the core tests (imported by name: tests/desktop is on sys.path)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from desktop.domain.idnumber import make_number
from desktop.domain.rules import COHORTS
from desktop.services.database import Database
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.platform.workstation import Actor

ACTOR = Actor("tester", "ws-test", "admin")
TODAY = date(2026, 11, 29)


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


class Roster:
    """Build a roster by hand and import it: ``roster.add(...)`` then ``roster.load()``."""

    def __init__(self, db: Database, tmp_path: Path):
        self.db, self.tmp, self.rows, self.n = db, tmp_path, [], 0

    def person(self, birth=date(1950, 3, 1), region="152202") -> str:
        self.n += 1
        return make_number(region, birth, self.n)

    def add(self, number, cohort, start, last=None, amount=None, name=None, residence="本地", phone="13900000000"):
        self.rows.append([name or "测试" + "".join("零一二三四五六七八九"[int(c)] if c.isdigit() else "叉" for c in number[-3:]), number, COHORTS[cohort].name_zh, start.isoformat(),
                          last.isoformat() if last else "", phone, "阿尔山市林海街道", residence,
                          "" if amount is None else str(amount)])
        return number

    def load(self, today=TODAY):
        path = write_csv(self.tmp / f"roster{len(self.rows)}.csv", ROSTER_COLUMNS, self.rows)
        report = ImportService(self.db).import_roster(path, ACTOR, today=today)
        assert report.rejected == [], report.rejected
        return report


