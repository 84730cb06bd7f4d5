"""Face images, chip photos and returned-form scans as evidence: encrypted at rest, kept no
longer than needed.

Retention (settings ``face_retention_days``, default 365): a captured live frame is purged that
many days after the certification; a reference photo is kept while it is the person's current
reference and purged when replaced (plus the same grace period). Purging keeps the record that an
image existed and drops the image itself. Images are never written to logs or exports.

Scans of returned assist forms (``data/scans/…``, encrypted by desktop/platform/vault.py) are purged
``scan_retention_days`` (default 365) after the form was received: the file is overwritten and
removed, the form keeps its ``scan_path`` as the record that a scan existed. With SQLite's
``secure_delete`` (db/engine.py) a purged image leaves no bytes in the database's free pages.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from db import evidence_repo as repo
from db import journal
from db.encryption import shred
from db.models import AssistForm, new_id, utcnow
from desktop.platform import paths
from desktop.services.database import Database
from desktop.services.guard import require
from desktop.services.settings import SettingsService
from desktop.platform.vault import Vault
from desktop.platform.workstation import Actor

KINDS = ("captured", "reference", "chip_photo")


class EvidenceService:
    def __init__(self, db: Database, vault: Vault, settings: SettingsService):
        self.db = db
        self.vault = vault
        self.settings = settings

    def store(self, person_id: str, kind: str, image: bytes, actor: Actor, *, certification_id: str | None = None,
              consent: dict | None = None, media_type: str = "image/png", today: date | None = None, conn=None) -> str:
        """Encrypt and store an image; returns its id. Pass ``conn`` to join the caller's
        transaction (a certification and its photo commit together)."""
        if kind not in KINDS:
            raise ValueError(kind)
        if kind == "reference" and not consent:
            from desktop.errors import UserFacingError

            raise UserFacingError("登记人脸参考照片需要本人同意", code="consent_required")
        today = today or date.today()
        image_id = new_id()
        now = utcnow()
        keep = int(self.settings.get("face_retention_days"))
        row = {
            "id": image_id, "person_id": person_id, "kind": kind, "certification_id": certification_id,
            "ciphertext": self.vault.encrypt(image, image_id), "media_type": media_type,
            "consent": json.dumps(consent, ensure_ascii=False) if consent else None,
            "purge_after": None if kind == "reference" else today + timedelta(days=keep),
            "purged_at": None, "operator": actor.operator, "workstation": actor.workstation,
            "created_at": now, "updated_at": now,
        }

        def write(c):
            if kind == "reference":
                old = repo.latest_reference(c, person_id)
                if old is not None:  # the replaced reference starts its retention period now
                    repo.set_purge_after(c, old["id"], today + timedelta(days=keep), now)
                    journal.enqueue(c, [("face_image", old["id"], None)])
            repo.insert_image(c, row)
            journal.audit(c, actor.operator, actor.workstation, f"face_image.store", "face_image", image_id,
                          {"kind": kind, "bytes": len(image), "consent": bool(consent)})
            journal.enqueue(c, [("face_image", image_id, None)])

        if conn is not None:
            write(conn)
        else:
            with self.db.engine.begin() as c:
                write(c)
        return image_id

    def load(self, image_id: str, actor: Actor) -> bytes | None:
        """The decrypted image, or None when it has been purged. Viewing is audited."""
        with self.db.engine.begin() as conn:
            row = repo.get_image(conn, image_id)
            if row is None or row["ciphertext"] is None:
                return None
            journal.audit(conn, actor.operator, actor.workstation, "face_image.view", "face_image", image_id, None)
        return self.vault.decrypt(row["ciphertext"], image_id)

    def reference_of(self, person_id: str) -> tuple[str, bytes] | None:
        with self.db.engine.connect() as conn:
            row = repo.latest_reference(conn, person_id)
        if row is None or row["ciphertext"] is None:
            return None
        return row["id"], self.vault.decrypt(row["ciphertext"], row["id"])

    def purge_expired(self, actor: Actor, today: date | None = None) -> int:
        """The retention job (images and scans); returns how many images were dropped."""
        return self.purge(actor, today)["images"]

    def purge(self, actor: Actor, today: date | None = None) -> dict:
        """The retention job: drop every image past its ``purge_after`` day and every kept scan
        of a form received more than ``scan_retention_days`` ago. ``{"images": n, "scans": n}``."""
        require(self.db, actor, "data.purge")
        today = today or date.today()
        now = utcnow()
        with self.db.engine.begin() as conn:
            ids = repo.due_for_purge(conn, today)
            repo.purge(conn, ids, now)
            journal.enqueue(conn, [("face_image", i, None) for i in ids])
            journal.audit(conn, actor.operator, actor.workstation, "face_image.purge", None, None,
                          {"count": len(ids), "as_of": today.isoformat()})
        scans = self._purge_scans(today)
        if scans:
            with self.db.engine.begin() as conn:
                journal.audit(conn, actor.operator, actor.workstation, "assist_form.scan_purge", None, None,
                              {"count": scans, "as_of": today.isoformat()})
        return {"images": len(ids), "scans": scans}

    def _purge_scans(self, today: date) -> int:
        keep = int(self.settings.get("scan_retention_days"))
        cutoff = datetime.combine(today - timedelta(days=keep), time.min)
        t = AssistForm.__table__
        with self.db.engine.connect() as conn:
            kept = [r[0] for r in conn.execute(
                select(t.c.scan_path).where(t.c.scan_path.is_not(None), t.c.received_at < cutoff))]
        root = (paths.data_dir() / "scans").resolve()
        n = 0
        for relative in kept:
            path = (paths.data_dir() / relative).resolve()
            if root not in path.parents or not path.is_file():  # purged already, or not ours
                continue
            shred(path)
            n += 1
        return n
