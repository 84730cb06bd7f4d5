"""Enrolment of a face reference at the counter: consent, encryption, use, replacement."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import text

from desktop.services.enrolment import (CONSENT_SHA, ConsentRecord, ConsentRequired, EnrolmentService,
                                        ReferenceStatus)
from desktop.services.hub import Services
from desktop.platform.workstation import Actor

TODAY = date(2026, 11, 29)
CLERK = Actor("zhangmin", "ws-01", "clerk")


@pytest.fixture(scope="module")
def faces_dir() -> Path:
    path = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "faces"
    if not path.is_dir():
        pytest.skip("../shared/fixtures/faces is not available")
    return path


@pytest.fixture
def person(roster):
    number = roster.add(roster.person(date(1950, 3, 1)), "enterprise_retiree", date(2010, 4, 1), date(2026, 3, 10))
    roster.load()
    from desktop.services.hub import Services

    return Services(roster.db).counter.lookup(number, TODAY).person.id


def consent(given=True, by="resident", **kw) -> ConsentRecord:
    return ConsentRecord(given, by, "zhangmin", datetime(2026, 11, 29, 9, 30, tzinfo=timezone.utc), **kw)


def png_of(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


PNG = png_of(np.full((40, 30, 3), 128, np.uint8))


def test_consent_is_required(db, person):
    svc = Services(db).enrolment
    for bad in (None, consent(given=False)):
        with pytest.raises(ConsentRequired):
            svc.enrol(person, PNG, bad, CLERK)
    with pytest.raises(Exception) as err:
        svc.enrol(person, PNG, consent(by="helper"), CLERK)   # a helper's consent names the helper
    assert getattr(err.value, "code", "") == "consent_helper_missing"
    assert svc.reference_png(person) is None
    # the evidence store itself refuses a reference without consent, too
    with pytest.raises(Exception) as err:
        svc.evidence.store(person, "reference", PNG, CLERK)
    assert err.value.code == "consent_required"


def test_stored_encrypted_with_the_consent_record(db, person):
    svc = Services(db).enrolment
    image_id = svc.enrol(person, PNG, consent(by="helper", helper_name="李强", helper_relationship="子女",
                                              helper_masked_id="1101**********1234"), CLERK, reason="no_reference",
                         frames_used=3, spread=0.05)
    with db.engine.connect() as conn:
        row = conn.execute(text("select kind, ciphertext, consent, purge_after from face_images where id=:i"),
                           {"i": image_id}).one()
    assert row.kind == "reference" and row.purge_after is None
    assert PNG not in bytes(row.ciphertext) and b"\x89PNG" not in bytes(row.ciphertext)
    rec = json.loads(row.consent)
    assert rec["given"] is True and rec["by"] == "helper" and rec["helper"]["name"] == "李强"
    assert rec["text_sha"] == CONSENT_SHA and rec["enrolment"]["frames_used"] == 3
    assert "1101**********1234" in row.consent
    assert svc.reference_png(person) == PNG
    assert svc.consent_of(image_id)["clerk"] == "zhangmin"


def test_re_enrolment_replaces_and_starts_retention_of_the_old_one(db, person):
    svc = Services(db).enrolment
    first = svc.enrol(person, PNG, consent(), CLERK)
    newer = png_of(np.full((40, 30, 3), 60, np.uint8))
    second = svc.enrol(person, newer, consent(), CLERK, reason="keeps_failing")
    assert svc.reference_png(person) == newer
    assert svc.status(person, has_chip_photo=False).enrolled_id == second
    keep = int(svc.evidence.settings.get("face_retention_days"))
    with db.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(text("select id, purge_after from face_images"))}
    assert rows[second].purge_after is None
    old_purge = rows[first].purge_after
    old_purge = date.fromisoformat(old_purge) if isinstance(old_purge, str) else old_purge
    assert old_purge == date.today() + timedelta(days=keep)


def test_when_enrolment_is_offered():
    none = ReferenceStatus(None, None, False, 0)
    assert not none.usable and none.enrolment_reason(TODAY) == "no_reference"
    chip = ReferenceStatus(None, None, True, 0)
    assert chip.enrolment_reason(TODAY) is None
    assert ReferenceStatus(None, None, True, 2).enrolment_reason(TODAY) == "keeps_failing"
    assert ReferenceStatus(None, None, True, 2).enrolment_reason(TODAY, chip_photo_old=True) == "reference_old"
    old = ReferenceStatus("x", TODAY - timedelta(days=11 * 365), False, 2)
    assert old.enrolment_reason(TODAY) == "reference_old"
    assert ReferenceStatus("x", TODAY, False, 1).enrolment_reason(TODAY) is None


def test_enrolled_reference_is_used_by_the_next_check(db, person, faces_dir):
    """Frames of a real photo -> EnrolmentCollector -> stored -> chosen over the chip photo ->
    the same person's other photo matches it, another person's does not."""
    from desktop.face.compare import Decision, decide, face_distance
    from desktop.face.detect import FaceEngine
    from desktop.face.enrol import Consent, EnrolmentCollector
    from desktop.face.reference import decode_image, encode_single_face, load_image

    engine = FaceEngine()
    img = load_image(faces_dir / "fr_obama" / "obama.jpg")
    img = cv2.resize(img, (int(img.shape[1] * 480 / img.shape[0]), 480))
    rng = np.random.default_rng(0)
    collector = EnrolmentCollector(engine, frames_needed=3, min_gap=1)
    for i in range(20):
        m = np.float32([[1, 0, 2 * np.sin(i)], [0, 1, 0]])
        frame = cv2.add(cv2.warpAffine(img, m, (img.shape[1], img.shape[0])),
                        rng.integers(0, 4, img.shape, dtype=np.uint8))
        if collector.add(frame):
            break
    assert collector.ready
    enrolment = collector.build(Consent(True, "spoken_recorded", "zhangmin", datetime.now(timezone.utc)))
    svc = Services(db).enrolment
    svc.enrol_from(person, enrolment, consent(), CLERK)

    chip = png_of(load_image(faces_dir / "fr_biden" / "biden.jpg"))   # an (old, wrong) chip photo
    source, data = svc.reference_image(person, chip)
    assert source == "enrolled" and data == enrolment.image_png
    ref = encode_single_face(engine, decode_image(data))
    same = encode_single_face(engine, load_image(faces_dir / "fr_obama" / "obama2.jpg"))
    other = encode_single_face(engine, load_image(faces_dir / "fr_biden" / "biden2.jpg"))
    assert decide(face_distance(ref, same)) is Decision.MATCH
    assert decide(face_distance(ref, other)) is Decision.NO_MATCH
    # without an enrolled reference the chip photo is used; with neither, nothing
    assert Services(db).enrolment.reference_image("nobody", chip) == ("chip", chip)
    assert Services(db).enrolment.reference_image("nobody", None) is None
