"""Issue 16: ``certdesk backup FILE`` / ``certdesk restore FILE`` and the recovery key.

Backups are encrypted with the database's own key and verified after writing; a restore checks
the backup completely before it replaces anything. A laptop whose OS account was lost is unlocked
with the bureau's recovery private key.
"""

from __future__ import annotations

import io
import json
import os
import stat
from datetime import date as d
from pathlib import Path

import pytest
from cli_auth import signed_env
from scenario import Roster
from sqlalchemy import text

from db import encryption
from desktop.platform import keystore, recovery
from desktop.cli import main
from desktop.services.database import Database, DatabaseLocked

NAME = "巴特尔"


@pytest.fixture
def laptop(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    db = Database.open(url)
    roster = Roster(db, tmp_path)
    number = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2026, 3, 1), name=NAME)
    for _ in range(10):
        roster.add(roster.person(), "enterprise_retiree", d(2015, 1, 1), d(2026, 10, 1))
    roster.load()
    for k, v in signed_env(db, "supervisor").items():
        monkeypatch.setenv(k, v)
    yield {"url": url, "db": db, "number": number, "path": tmp_path / "live.sqlite"}
    db.dispose()


def cli(capsys, *argv) -> tuple[int, dict]:
    rc = main(list(argv))
    out = capsys.readouterr().out
    return rc, (json.loads(out) if out.strip() else {})


def persons(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("select count(*) from persons")).scalar()


def add_person(db, tmp_path) -> None:
    roster = Roster(db, tmp_path)
    roster.n = 500
    roster.add(roster.person(), "enterprise_retiree", d(2015, 1, 1), d(2026, 10, 1))
    roster.load()


def test_backup_is_encrypted_verified_and_private(laptop, tmp_path, capsys):
    dest = tmp_path / "backups" / "monday.cdbak"
    dest.parent.mkdir()
    rc, out = cli(capsys, "--db", laptop["url"], "backup", str(dest), "--json")
    assert rc == 0, out
    assert out["verified"] is True and out["encrypted"] is True and out["integrity"] == "ok"
    assert out["file"] == str(dest) and out["rows"] > 11 and out["bytes"] == dest.stat().st_size
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    raw = dest.read_bytes()
    assert NAME.encode() not in raw and laptop["number"].encode() not in raw and not encryption.is_plaintext(dest)
    key = keystore.get_key(keystore.DATABASE_KEY)
    counts = encryption.open_verified(dest, key)
    assert counts["persons"] == 11
    assert not list(dest.parent.glob("*.partial"))
    assert out["mac"] == str(dest) + ".mac" and stat.S_IMODE(Path(out["mac"]).stat().st_mode) == 0o600
    with laptop["db"].engine.connect() as conn:
        assert conn.execute(text("select count(*) from audit_log where action = 'database.backup'")).scalar() == 1


def test_backup_needs_a_supervisor(laptop, tmp_path, capsys, monkeypatch):
    for k, v in signed_env(laptop["db"], "clerk").items():
        monkeypatch.setenv(k, v)
    rc, out = cli(capsys, "--db", laptop["url"], "backup", str(tmp_path / "b"), "--json")
    assert rc == 3 and out["error"] == "permission_denied" and out["message"]
    monkeypatch.delenv("CERTDESK_OPERATOR")
    rc, out = cli(capsys, "--db", laptop["url"], "backup", str(tmp_path / "b"), "--json")
    assert rc == 3 and out["error"] == "sign_in_required"
    assert not (tmp_path / "b").exists()


def test_restore_puts_the_backup_back(laptop, tmp_path, capsys):
    dest = tmp_path / "b.cdbak"
    assert cli(capsys, "--db", laptop["url"], "backup", str(dest), "--json")[0] == 0
    add_person(laptop["db"], tmp_path)
    assert persons(laptop["db"]) == 12
    rc, out = cli(capsys, "--db", laptop["url"], "restore", str(dest), "--json")
    assert rc == 0, out
    assert out["restored"] == str(dest) and out["integrity"] == "ok" and out["rows"] > 11
    db = Database.open(laptop["url"])  # a new process's view
    try:
        assert persons(db) == 11
        with db.engine.connect() as conn:
            assert conn.execute(text("select count(*) from audit_log where action = 'database.restore'")).scalar() == 1
            assert conn.execute(text("pragma integrity_check")).scalar() == "ok"
    finally:
        db.dispose()


def test_a_damaged_backup_replaces_nothing(laptop, tmp_path, capsys):
    dest = tmp_path / "b.cdbak"
    assert cli(capsys, "--db", laptop["url"], "backup", str(dest), "--json")[0] == 0
    add_person(laptop["db"], tmp_path)
    data = bytearray(dest.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)  # one page damaged (its structure may still look fine)
    dest.write_bytes(bytes(data))
    rc, out = cli(capsys, "--db", laptop["url"], "restore", str(dest), "--json")
    assert rc == 3 and out["error"] == "backup_corrupt" and "没有替换" in out["message"]
    assert persons(laptop["db"]) == 12


def test_restore_refuses_foreign_files(laptop, tmp_path, capsys):
    rc, out = cli(capsys, "--db", laptop["url"], "restore", str(tmp_path / "missing.cdbak"), "--json")
    assert rc == 4 and out["error"] == "file_not_found"
    plain = tmp_path / "plain.sqlite"
    conn = encryption.connect(plain, None)
    conn.execute("create table persons(id)")
    conn.commit()
    conn.close()
    rc, out = cli(capsys, "--db", laptop["url"], "restore", str(plain), "--json")
    assert rc == 3 and out["error"] == "backup_not_encrypted"
    other = tmp_path / "other.sqlite"
    conn = encryption.connect(other, os.urandom(32))  # another laptop's backup
    conn.execute("create table persons(id)")
    conn.commit()
    conn.close()
    rc, out = cli(capsys, "--db", laptop["url"], "restore", str(other), "--json")
    assert rc == 3 and out["error"] == "backup_wrong_key"
    ours = tmp_path / "ours.sqlite"  # our key, but not a CertDesk database
    conn = encryption.connect(ours, keystore.get_key(keystore.DATABASE_KEY))
    conn.execute("create table t(a)")
    conn.commit()
    conn.close()
    rc, out = cli(capsys, "--db", laptop["url"], "restore", str(ours), "--json")
    assert rc == 3 and out["error"] == "backup_mac_missing"  # not made by certdesk backup
    encryption.write_mac(ours, keystore.get_key(keystore.DATABASE_KEY))
    rc, out = cli(capsys, "--db", laptop["url"], "restore", str(ours), "--json")
    assert rc == 3 and out["error"] == "backup_not_certdesk"
    assert persons(laptop["db"]) == 11


def test_a_laptop_whose_account_was_lost_is_unlocked_with_the_recovery_key(laptop, tmp_path, capsys, monkeypatch):
    from desktop.platform import paths

    centre = tmp_path / "centre"
    rc, out = cli_stdin(capsys, monkeypatch, "correct horse battery\n", "recovery", "keygen",
                        "--private-out", str(centre / "recovery.pem"), "--public-out", str(centre / "recovery-public.pem"),
                        "--passphrase-stdin", "--json")
    assert rc == 0 and len(out["fingerprint"]) == 16
    assert b"ENCRYPTED PRIVATE KEY" in (centre / "recovery.pem").read_bytes()
    # IT deploys the public key; the next start escrows the database key beside the database
    (paths.config_dir() / recovery.PUBLIC_NAME).write_bytes((centre / "recovery-public.pem").read_bytes())
    laptop["db"].dispose()
    Database.open(laptop["url"]).dispose()
    escrow = recovery.escrow_path(laptop["path"])
    doc = json.loads(escrow.read_text())
    old_key = keystore.get_key(keystore.DATABASE_KEY)
    assert doc["key_id"] == recovery.key_id(old_key) and old_key.hex() not in escrow.read_text()
    assert stat.S_IMODE(escrow.stat().st_mode) == 0o600

    keystore.put_key(keystore.DATABASE_KEY, os.urandom(32))  # the OS account (and its key store) is gone
    try:
        with pytest.raises(DatabaseLocked):
            Database.open(laptop["url"])
        assert json.loads(escrow.read_text())["key_id"] == recovery.key_id(old_key)  # a wrong key never re-escrows
        rc, out = cli_stdin(capsys, monkeypatch, "wrong passphrase!!\n", "--db", laptop["url"], "recovery", "unlock",
                            "--private-key", str(centre / "recovery.pem"), "--passphrase-stdin", "--json")
        assert rc == 3 and out["error"] == "recovery_private_key_bad"
        rc, out = cli_stdin(capsys, monkeypatch, "correct horse battery\n", "--db", laptop["url"], "recovery", "unlock",
                            "--private-key", str(centre / "recovery.pem"), "--passphrase-stdin", "--json")
        assert rc == 0, out
        assert out["rekeyed"] is True and out["rows"] > 11
        db = Database.open(laptop["url"])
        try:
            assert persons(db) == 11
            with db.engine.connect() as conn:
                assert conn.execute(text("select count(*) from audit_log where action = 'database.recovered'")).scalar() == 1
        finally:
            db.dispose()
        assert not encryption.can_open(laptop["path"], old_key)  # the old key opens nothing any more
        assert json.loads(escrow.read_text())["key_id"] == recovery.key_id(keystore.get_key(keystore.DATABASE_KEY))
    finally:
        keystore.forget_memory()


def cli_stdin(capsys, monkeypatch, stdin: str, *argv) -> tuple[int, dict]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli(capsys, *argv)


def test_the_key_file_is_never_beside_the_database(laptop):
    folder = Path(laptop["path"]).parent
    key = keystore.get_key(keystore.DATABASE_KEY)
    for p in folder.rglob("*"):
        if p.is_file():
            assert key not in p.read_bytes() and key.hex().encode() not in p.read_bytes()
