"""Saved import source profiles (revision 0010): name → kind and column mapping (JSON).

The model registers on ``db.base.Base`` (re-exported by db.models, which imports this module at its end).
Persistence only; synced like ``settings`` (db/sync/tables.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, DateTime, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class ImportProfile(Base):
    """A source's column mapping: which header of the bureau's file feeds which field."""

    __tablename__ = "import_profiles"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # roster | results
    mapping: Mapped[str] = mapped_column(Text)  # JSON {field: source header}
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


profiles = ImportProfile.__table__


def all_rows(conn: Connection) -> list[dict]:
    return [dict(r) for r in conn.execute(select(profiles).order_by(profiles.c.name)).mappings()]


def get(conn: Connection, name: str) -> dict | None:
    row = conn.execute(select(profiles).where(profiles.c.name == name)).mappings().first()
    return dict(row) if row else None


def put(conn: Connection, name: str, kind: str, mapping_json: str, by: str | None) -> None:
    values = dict(kind=kind, mapping=mapping_json, updated_by=by, updated_at=utcnow())
    if get(conn, name) is not None:
        conn.execute(profiles.update().where(profiles.c.name == name).values(**values))
    else:
        conn.execute(profiles.insert().values(name=name, **values))
