"""Storage of encrypted face images (rows of ``face_images``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, and_, insert, select, update

from db.models import FaceImage

images = FaceImage.__table__


def insert_image(conn: Connection, row: dict) -> None:
    conn.execute(insert(images), [row])


def get_image(conn: Connection, image_id: str) -> dict | None:
    row = conn.execute(select(images).where(images.c.id == image_id)).mappings().first()
    return dict(row) if row else None


def latest_reference(conn: Connection, person_id: str) -> dict | None:
    stmt = (
        select(images)
        .where(and_(images.c.person_id == person_id, images.c.kind == "reference", images.c.purged_at.is_(None)))
        .order_by(images.c.created_at.desc())
        .limit(1)
    )
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def set_purge_after(conn: Connection, image_id: str, day: date, when: datetime) -> None:
    conn.execute(update(images).where(images.c.id == image_id).values(purge_after=day, updated_at=when))


def due_for_purge(conn: Connection, today: date) -> list[str]:
    stmt = select(images.c.id).where(and_(images.c.purge_after <= today, images.c.purged_at.is_(None)))
    return [r[0] for r in conn.execute(stmt)]


def purge(conn: Connection, ids: list[str], when: datetime) -> None:
    for i in range(0, len(ids), 800):
        conn.execute(
            update(images).where(images.c.id.in_(ids[i : i + 800])).values(ciphertext=None, purged_at=when, updated_at=when)
        )
