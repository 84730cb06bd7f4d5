"""Hand-built scenarios for the issue-8 services (imported by name; built through the services)."""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path

import pytest

from desktop.domain.idnumber import make_number
from desktop.domain.rules import COHORTS
from desktop.services.database import Database
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.platform.workstation import Actor

TODAY = date(2026, 11, 29)
ADMIN = Actor("管理员", "ws-test", "admin")
CLERK = Actor("张敏", "ws-test", "clerk")
SUPERVISOR = Actor("李主管", "ws-test", "supervisor")


class Roster:
    def __init__(self, db: Database, tmp: Path):
        self.db, self.tmp, self.rows, self.n = db, tmp, [], 0

    def add(self, name, cohort, start, last=None, *, amount=None, residence="本地", phone="13900000000",
            birth=date(1950, 3, 1), address="阿尔山市林海街道1号") -> str:
        self.n += 1
        number = make_number("152202", birth, self.n)
        self.rows.append([name, number, COHORTS[cohort].name_zh, start.isoformat(), last.isoformat() if last else "",
                          phone, address, residence, "" if amount is None else str(amount)])
        return number

    def load(self, today=TODAY):
        path = self.tmp / f"roster{len(self.rows)}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(ROSTER_COLUMNS)
            w.writerows(self.rows)
        report = ImportService(self.db).import_roster(path, ADMIN, today=today)
        assert report.rejected == [], report.rejected
        return report

    def pid(self, number: str) -> str:
        from desktop.services.persons import PersonService

        return PersonService(self.db).show(number, TODAY).id


