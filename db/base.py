"""The declarative base every table registers on, its naming convention, the UUID key type and
the UTC clock: imported by db/models.py and by the model modules of later issues
(db/outreach_models.py …), so none of them has to import another to get them — no import circles."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase

from db.ids import new_id  # noqa: F401  (re-exported: the models' key default)

# A naming convention so Alembic batch migrations on SQLite can find constraints by name.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


UUID = String(36)
