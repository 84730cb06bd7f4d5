"""The shared settings table (key → JSON text)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from db.models import Setting, utcnow

settings = Setting.__table__


def all_values(conn: Connection) -> dict[str, str]:
    return {k: v for k, v in conn.execute(select(settings.c.key, settings.c.value))}


def put(conn: Connection, key: str, value_json: str) -> None:
    exists = conn.execute(select(settings.c.key).where(settings.c.key == key)).first()
    if exists:
        conn.execute(settings.update().where(settings.c.key == key).values(value=value_json, updated_at=utcnow()))
    else:
        conn.execute(settings.insert().values(key=key, value=value_json, updated_at=utcnow()))
