"""Central authority tables (issue 15, revision 0009): enrolled devices, form-signing keys and
audit checkpoints. They exist in every database (one schema everywhere) but are filled only on the
central PostgreSQL, by ``certdesk central …`` (admin) and by definer functions the devices call
(db/central.py). A workstation's own copy of its identity lives in ``sync_state``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class Device(Base):
    """One enrolled workstation. ``device_id`` is also its PostgreSQL login role; ``tag`` goes into
    its form serials; ``install_id`` binds the identity to one database; ``token`` rotates at
    every sync so a second database presenting the same identity (a cloned disk) is refused."""

    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    tag: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str | None] = mapped_column(String(64))
    install_id: Mapped[str] = mapped_column(String(36))
    token: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | revoked
    enrolled_by: Mapped[str | None] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)


class FormKey(Base):
    """A form-signing (QR) key made centrally; ``key_id`` is printed in the QR payload."""

    __tablename__ = "form_keys"

    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    secret: Mapped[str] = mapped_column(Text)  # hex
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditCheckpoint(Base):
    """Where a device's audit chain stood at a sync: count and head, the device's MAC over them,
    what the centre itself held for that device, and the centre's own MAC (server time)."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(63), index=True)
    count: Mapped[int] = mapped_column(Integer)
    head_id: Mapped[str | None] = mapped_column(String(36))
    head_hash: Mapped[str | None] = mapped_column(String(64))
    device_mac: Mapped[str | None] = mapped_column(String(64))
    central_count: Mapped[int | None] = mapped_column(Integer)
    server_mac: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
