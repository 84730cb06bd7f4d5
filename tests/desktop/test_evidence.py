"""Face images are encrypted at rest, bound to their record, purged on schedule, never logged."""

from __future__ import annotations

from datetime import date as d

import pytest
from scenario import ACTOR
from sqlalchemy import text

from desktop.errors import PermissionDenied, UserFacingError
from desktop.services.evidence import EvidenceService
from desktop.services.hub import Services
from desktop.services.settings import SettingsService
from desktop.platform.vault import Vault, VaultError, load_or_create_key
from desktop.platform.workstation import Actor

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # stands in for a captured frame


@pytest.fixture
def person_id(db, roster):
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2026, 3, 1))
    roster.load()
    from desktop.services.persons import PersonService

    return PersonService(db).show(n).id


def test_image_is_encrypted_in_the_database_and_decrypts_with_the_key(db, person_id, tmp_path):
    svc = EvidenceService(db, Vault.open(tmp_path / "key"), SettingsService(db))
    image_id = svc.store(person_id, "captured", PNG, ACTOR, today=d(2026, 11, 29))
    with db.engine.connect() as conn:
        blob = conn.execute(text("select ciphertext from face_images")).scalar()
    assert PNG[:64] not in blob and bytes(range(256)) not in blob
    assert svc.load(image_id, ACTOR) == PNG
    raw = db.url.split("///")[-1]
    assert bytes(range(64, 128)) not in open(raw, "rb").read()  # nothing in the file either
    # another installation's key cannot read it
    other = EvidenceService(db, Vault.open(tmp_path / "other-key"), SettingsService(db))
    with pytest.raises(VaultError):
        other.load(image_id, ACTOR)


def test_ciphertext_moved_to_another_record_does_not_decrypt(tmp_path):
    vault = Vault.open(tmp_path / "key")
    blob = vault.encrypt(PNG, "record-a")
    with pytest.raises(VaultError):
        vault.decrypt(blob, "record-b")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(VaultError):
        vault.decrypt(tampered, "record-a")


def test_key_file_is_private(tmp_path):
    load_or_create_key(tmp_path / "k")
    assert (tmp_path / "k").stat().st_mode & 0o077 == 0
    assert load_or_create_key(tmp_path / "k") == load_or_create_key(tmp_path / "k")


def test_reference_needs_consent_and_replacement_starts_retention(db, person_id, tmp_path):
    svc = EvidenceService(db, Vault.open(tmp_path / "key"), SettingsService(db))
    with pytest.raises(UserFacingError):
        svc.store(person_id, "reference", PNG, ACTOR)
    first = svc.store(person_id, "reference", PNG, ACTOR, consent={"by": "本人", "how": "口头同意并签字"},
                      today=d(2026, 1, 1))
    second = svc.store(person_id, "reference", PNG[::-1], ACTOR, consent={"by": "本人"}, today=d(2026, 6, 1))
    assert svc.reference_of(person_id) == (second, PNG[::-1])
    admin = Actor("admin", "ws", "admin")
    assert svc.purge_expired(admin, today=d(2027, 5, 31)) == 0
    assert svc.purge_expired(admin, today=d(2027, 6, 1)) == 1  # the replaced one, 365 days after
    assert svc.load(first, ACTOR) is None
    assert svc.load(second, ACTOR) == PNG[::-1]


def test_purge_respects_retention_and_permissions(db, person_id, tmp_path):
    svc = EvidenceService(db, Vault.open(tmp_path / "key"), SettingsService(db))
    kept = svc.store(person_id, "captured", PNG, ACTOR, today=d(2026, 11, 29))
    with pytest.raises(PermissionDenied):
        svc.purge_expired(Actor("c", "ws", "clerk"), today=d(2028, 1, 1))
    admin = Actor("admin", "ws", "admin")
    assert svc.purge_expired(admin, today=d(2027, 11, 28)) == 0
    assert svc.purge_expired(admin, today=d(2027, 11, 29)) == 1
    assert svc.load(kept, ACTOR) is None
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from face_images where purged_at is not null")).scalar() == 1
        details = " ".join(r[0] or "" for r in conn.execute(text("select detail from audit_log")))
    assert "PNG" not in details


def test_purge_command(db, person_id, tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from cli_auth import signed_env

    svc = Services(db).evidence  # the installation's key (CERTDESK_HOME of this test)
    svc.store(person_id, "captured", PNG, ACTOR, today=d(2025, 1, 1))
    root = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, "-m", "ui", "--db", db.url, "evidence", "purge", "--as-of", "2026-11-29", "--json"],
                       cwd=root, capture_output=True, text=True, env={**os.environ, **signed_env(db)})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"purged": 1, "scans_purged": 0}
