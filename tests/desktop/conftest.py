"""Fixtures for core tests: a fresh SQLite file per test, built through the real services."""

from __future__ import annotations

import pytest
from scenario import Roster

from desktop.services.database import Database


@pytest.fixture
def db(tmp_path) -> Database:
    database = Database.open(f"sqlite:///{tmp_path / 'test.sqlite'}")
    yield database
    database.dispose()


@pytest.fixture
def roster(db, tmp_path) -> Roster:
    return Roster(db, tmp_path)
