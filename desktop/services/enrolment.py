"""Enrolment and re-enrolment of a face reference at the counter, with recorded consent.

When a resident has no usable reference (no decoded chip photo and nothing enrolled) or the
reference is old and keeps failing, the clerk reads :data:`CONSENT_TEXT_ZH` to the resident, records
who consented (the resident, or the 代办 helper for a resident who cannot), and a few good live
frames are captured (:class:`desktop.face.enrol.EnrolmentCollector`). The best frame is stored
encrypted as the person's ``reference`` (:meth:`EvidenceService.store`); the replaced reference
starts its retention period. The next face check uses it (:meth:`reference_png`).

The consent record keeps no full ID number (the helper's is masked) and the image is never logged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timezone

from db import evidence_repo as repo
from desktop.errors import UserFacingError
from desktop.services.database import Database
from desktop.platform.workstation import Actor

CONSENT_VERSION = "2026-11"
CONSENT_TEXT_ZH = (
    "为办理社会保险待遇资格认证，社保经办机构将采集您本人的面部照片，作为今后人脸认证比对用的参考照片。"
    "照片加密保存在本经办机构，仅用于待遇资格认证，不用于其他用途，不向第三方提供；"
    "参考照片被更换后，旧照片在保存期满后删除。您可以拒绝采集，拒绝不影响您办理认证，"
    "工作人员可为您改用人工核验。"
)
CONSENT_SHA = hashlib.sha256(CONSENT_TEXT_ZH.encode("utf-8")).hexdigest()[:16]

BY_ZH = {"resident": "本人", "helper": "代办人（代为同意）"}
REASONS = ("no_reference", "reference_old", "keeps_failing")

OLD_AFTER_DAYS = 10 * 365      # a reference older than this counts as old (chip photos are often older)
FAILURES_BEFORE_RE_ENROL = 2   # the same as desktop.face.triage (re-enrolment after two failures)


class ConsentRequired(UserFacingError):
    code = "consent_required"


@dataclass(frozen=True)
class ConsentRecord:
    """What the clerk recorded in the consent dialog."""

    given: bool
    by: str                         # "resident" | "helper"
    clerk: str
    recorded_at: datetime
    helper_name: str = ""
    helper_relationship: str = ""
    helper_masked_id: str = ""      # never the full number
    note: str = ""

    def as_dict(self) -> dict:
        d = {"given": self.given, "by": self.by, "by_zh": BY_ZH.get(self.by, self.by), "clerk": self.clerk,
             "recorded_at": self.recorded_at.isoformat(), "text_version": CONSENT_VERSION, "text_sha": CONSENT_SHA,
             "method": "read_aloud_at_counter"}
        if self.by == "helper":
            d["helper"] = {"name": self.helper_name, "relationship": self.helper_relationship,
                           "id_masked": self.helper_masked_id}
        if self.note.strip():
            d["note"] = self.note.strip()
        return d


@dataclass(frozen=True)
class ReferenceStatus:
    enrolled_id: str | None         # the current enrolled reference, if any
    enrolled_on: date | None
    has_chip_photo: bool
    failures: int

    @property
    def usable(self) -> bool:
        return self.enrolled_id is not None or self.has_chip_photo

    def is_old(self, today: date) -> bool:
        return self.enrolled_on is not None and (today - self.enrolled_on).days > OLD_AFTER_DAYS

    def enrolment_reason(self, today: date, *, chip_photo_old: bool = False) -> str | None:
        """Why enrolment should be offered now, or None."""
        if not self.usable:
            return "no_reference"
        if self.failures >= FAILURES_BEFORE_RE_ENROL:
            return "reference_old" if (chip_photo_old or self.is_old(today)) else "keeps_failing"
        return None


class EnrolmentService:
    def __init__(self, db: Database, evidence):
        """``evidence``: the EvidenceService (built by desktop.services.hub.Services)."""
        self.db = db
        self.evidence = evidence

    def status(self, person_id: str, *, has_chip_photo: bool, failures: int = 0) -> ReferenceStatus:
        with self.db.engine.connect() as conn:
            row = repo.latest_reference(conn, person_id)
        if row is None or row["ciphertext"] is None:
            return ReferenceStatus(None, None, has_chip_photo, failures)
        created = row["created_at"]
        on = created.date() if isinstance(created, datetime) else created
        return ReferenceStatus(row["id"], on, has_chip_photo, failures)

    def enrol(self, person_id: str, image_png: bytes, consent: ConsentRecord, actor: Actor, *,
              reason: str = "no_reference", frames_used: int = 0, spread: float | None = None) -> str:
        """Store the new reference (encrypted); returns its image id. Refused without consent."""
        if consent is None or not consent.given:
            raise ConsentRequired("未取得本人（或代办人）同意，不能采集人脸参考照片", code="consent_required")
        if consent.by not in BY_ZH:
            raise ValueError(consent.by)
        if consent.by == "helper" and not consent.helper_name.strip():
            raise UserFacingError("由代办人同意时须记录代办人姓名", code="consent_helper_missing")
        if reason not in REASONS:
            raise ValueError(reason)
        if not image_png.startswith(b"\x89PNG"):
            raise UserFacingError("参考照片采集失败，请重新采集", code="enrol_no_image")
        record = consent.as_dict()
        record["enrolment"] = {"reason": reason, "frames_used": frames_used,
                               "spread": None if spread is None else round(float(spread), 4)}
        return self.evidence.store(person_id, "reference", image_png, actor, consent=record)

    def enrol_from(self, person_id: str, enrolment, consent: ConsentRecord, actor: Actor, *,
                   reason: str = "no_reference") -> str:
        """Store a :class:`desktop.face.enrol.Enrolment` (the collector's result)."""
        return self.enrol(person_id, enrolment.image_png, consent, actor, reason=reason,
                          frames_used=enrolment.frames_used, spread=enrolment.spread)

    def reference_png(self, person_id: str) -> bytes | None:
        """The current enrolled reference image (decrypted), for the next face check."""
        ref = self.evidence.reference_of(person_id)
        return None if ref is None else ref[1]

    def reference_image(self, person_id: str | None, chip_photo: bytes | None) -> tuple[str, bytes] | None:
        """The image the face check compares with: the enrolled reference when there is one (taken
        at this counter, with consent, usually newer than the chip photo), else the chip photo."""
        png = self.reference_png(person_id) if person_id else None
        if png:
            return "enrolled", png
        if chip_photo:
            return "chip", chip_photo
        return None

    def consent_of(self, image_id: str) -> dict | None:
        import json

        with self.db.engine.connect() as conn:
            row = repo.get_image(conn, image_id)
        return None if row is None or not row["consent"] else json.loads(row["consent"])


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
