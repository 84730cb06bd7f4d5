"""Fixtures for the assist-form tests: a fresh SQLite file per test, built through the services."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from desktop.domain.idnumber import make_number
from desktop.domain.months import Month
from desktop.domain.rules import COHORTS
from desktop.services.database import Database
from desktop.services.forms import FormService
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.services.payroll import PayrollService
from desktop.services.settings import SettingsService
from desktop.platform.workstation import Actor

ACTOR = Actor("clerk1", "ws-forms", "clerk")
SUPERVISOR = Actor("sup1", "ws-forms", "supervisor")  # roster import and payroll runs need a supervisor
TODAY = date(2026, 11, 29)


class Roster:
    """``add(...)`` rows, then ``load()`` them through ImportService.import_roster."""

    def __init__(self, db: Database, tmp: Path):
        self.db, self.tmp, self.rows, self.n = db, tmp, [], 0

    def number(self, birth=date(1950, 3, 1)) -> str:
        self.n += 1
        return make_number("152202", birth, self.n)

    def add(self, name, cohort, last, *, residence="异地", start=date(2010, 1, 1), amount=2500,
            address="辽宁省大连市沙河口区西安路街道锦绣社区3号楼502室", number=None) -> str:
        number = number or self.number()
        self.rows.append([name, number, COHORTS[cohort].name_zh, start.isoformat(),
                          last.isoformat() if last else "", "13900000000", address, residence, str(amount)])
        return number

    def load(self, today=TODAY):
        path = self.tmp / f"roster-{len(self.rows)}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(ROSTER_COLUMNS)
            w.writerows(self.rows)
        report = ImportService(self.db).import_roster(path, SUPERVISOR, today=today)
        assert report.rejected == [], report.rejected
        return report


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'forms.sqlite'}"


@pytest.fixture
def db(db_url) -> Database:
    database = Database.open(db_url)
    yield database
    database.dispose()


@pytest.fixture
def roster(db, tmp_path) -> Roster:
    return Roster(db, tmp_path)


@pytest.fixture
def forms(db) -> FormService:
    # the default key provider: a key file created in the test's private config dir
    from desktop.services.hub import Services

    return Services(db).forms


def sn(n: int, year: int = 2026) -> str:
    """The n-th serial this test's workstation hands out (its id lives in the test's config dir)."""
    from desktop.services.forms import workstation_tag
    from desktop.platform.workstation import workstation_id

    return f"AES-{year}-{workstation_tag(workstation_id())}-{n:06d}"


def run_payroll(db, month: str):
    return PayrollService(db, SettingsService(db)).run(Month.parse(month), SUPERVISOR)
