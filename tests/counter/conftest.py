"""Counter tests (Qt-free): a fresh SQLite database per test, people imported through the services."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "desktop"))

from desktop.services.database import Database  # noqa: E402

TODAY = date(2026, 11, 29)


@pytest.fixture
def db(tmp_path):
    database = Database.open(f"sqlite:///{tmp_path / 'counter.sqlite'}")
    yield database
    database.dispose()


@pytest.fixture
def fast_hasher():
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def roster(db, tmp_path):
    from scenario import Roster

    return Roster(db, tmp_path)
