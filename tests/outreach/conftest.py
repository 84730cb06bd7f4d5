"""Fixtures for the issue-8 services: a fresh SQLite per test, built through the services."""

from __future__ import annotations

import pytest

from desktop.services.database import Database
from issue8_scenario import Roster


@pytest.fixture
def db(tmp_path) -> Database:
    database = Database.open(f"sqlite:///{tmp_path / 'test.sqlite'}")
    yield database
    database.dispose()


@pytest.fixture
def roster(db, tmp_path) -> Roster:
    return Roster(db, tmp_path)


@pytest.fixture
def services(db):
    from desktop.services.hub import Services

    return Services(db)
