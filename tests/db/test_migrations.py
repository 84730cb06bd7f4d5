"""Migrations: a new database gets the head schema, which matches the models; re-running is a
no-op; the audit log refuses updates and deletes."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from db.engine import make_engine
from db.migrate import current_revision, head_revision, upgrade
from db.models import Base


@pytest.fixture
def engine(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    yield e
    e.dispose()


def test_upgrade_creates_head_schema_matching_models(engine):
    assert current_revision(engine) is None
    assert upgrade(engine) is True
    assert current_revision(engine) == head_revision()
    assert upgrade(engine) is False
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_sqlite_pragmas_and_file_mode(engine, tmp_path):
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (tmp_path / "m.sqlite").stat().st_mode & 0o077 == 0  # readable by its user only


def test_audit_log_is_append_only(engine):
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_log (id, ts, action) VALUES ('a', '2026-01-01 00:00:00', 'x')"))
    for stmt in ("UPDATE audit_log SET action='y'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(stmt))


def test_rule_table_is_seeded_as_data(engine):
    upgrade(engine)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT cohort, kind || ':' || period FROM cycle_rules")).fetchall())
    assert rows == {
        "enterprise_retiree": "rolling_months:12",
        "institution_retiree": "rolling_months:12",
        "resident_pension": "calendar_windows:6",
        "enterprise_survivor": "rolling_months:1",
        "injury_recipient": "calendar_windows:6",
        "injury_dependant": "calendar_windows:6",
    }
