"""Opening the database: URL resolution, migrations, the rule table."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from db.engine import make_engine, session_factory, sqlite_url
from db.migrate import upgrade
from desktop import paths
from desktop.rules import CycleRule, RuleTable


def resolve_url(explicit: str | None = None, demo: bool = False) -> str:
    """``--db URL`` > ``CERTDESK_DB`` > the local SQLite file in the user's data directory.

    A bare file path is accepted as an SQLite database.
    """
    url = explicit or os.environ.get("CERTDESK_DB")
    if not url:
        return sqlite_url(paths.default_db_path(demo))
    if "://" not in url:
        return sqlite_url(Path(url).resolve())
    return url


def _device_keys(db: "Database") -> None:
    """An enrolled workstation MACs its audit events with its own key (from the OS key store)."""
    from sqlalchemy import text

    with db.engine.connect() as conn:
        enrolled = conn.execute(text("SELECT 1 FROM sync_state WHERE key = 'device_id'")).first()
    if enrolled:
        from desktop.services.central import register_audit_key

        register_audit_key(db)


@dataclass
class Database:
    url: str
    engine: Engine

    @classmethod
    def open(cls, url: str | None = None, *, demo: bool = False, migrate: bool = True) -> "Database":
        resolved = resolve_url(url, demo)
        engine = make_engine(resolved)
        if migrate:
            upgrade(engine)
        db = cls(resolved, engine)
        if migrate and engine.dialect.name == "sqlite":
            _device_keys(db)
        return db

    def session(self):
        return session_factory(self.engine)()

    def rule_table(self) -> RuleTable:
        from db.repositories import rule_rows

        with self.engine.connect() as conn:
            rows = rule_rows(conn)
        return RuleTable(
            {
                r["cohort"]: CycleRule(r["cohort"], r["kind"], r["period"], r["warn_days"], r["suspend_offset_months"])
                for r in rows
            }
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()
