"""Issue 16: a copy of a field laptop's data folder gives nothing away.

The database is SQLCipher under the OS account's ``database-key``; scans and face images are
AES-GCM under the image key; both keys live in the key store, never in the data folder. Demo/test
mode uses the fixed simulation keys (desktop/platform/keystore.py), so a copied folder is read here
*without* them: raw bytes only.
"""

from __future__ import annotations

import os
import stat
from datetime import date as d
from pathlib import Path

import pytest
from scenario import ACTOR, Roster
from sqlalchemy import text

from db import encryption
from db import engine as db_engine
from desktop.platform import keystore, paths
from desktop.formats import qrsign
from desktop.services.database import Database, DatabaseLocked
from desktop.services.hub import Services
from desktop.platform.vault import open_scan

NAME = "乌云其木格"
ADMIN = ACTOR  # an admin: imports, purges


def needles(id_number: str, name: str = NAME) -> list[bytes]:
    """The ways an ID number and a name can sit in a file: UTF-8, GBK, UTF-16 (both orders)."""
    out = [id_number.encode("ascii"), id_number.encode("utf-16-le")]
    for enc in ("utf-8", "gbk", "utf-16-le", "utf-16-be"):
        out.append(name.encode(enc))
    return out


def leaks(folder: Path, id_number: str) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.relative_to(folder)}: {n!r}" for n in needles(id_number) if n in data]
    return found


def _field_laptop(tmp_path) -> tuple[Database, str, str]:
    """The local database (default location) with an imported roster, a certification received
    on an assist form with its scan, and a captured face image."""
    db = Database.open()  # data_dir()/certdesk.sqlite, as on a laptop
    outside = tmp_path / "outside"  # the roster file and the scan's source are not in the data folder
    outside.mkdir()
    roster = Roster(db, outside)
    number = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 12, 10), name=NAME)
    for _ in range(20):
        roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2026, 3, 1))
    roster.load()
    from desktop.services.hub import Services

    forms = Services(db).forms
    pdf = outside / "form.pdf"
    issued = forms.issue(number, ACTOR, pdf, today=d(2026, 11, 2))
    payload = qrsign.make_payload(issued.serial, number, issued.form.deadline, forms.key_provider)
    scan_src = outside / "returned.pdf"
    scan_src.write_bytes(b"%PDF-1.4\n" + f"{NAME} {number}".encode("utf-8") + NAME.encode("gbk") + b"\n%%EOF\n")
    res = forms.receive(text=payload, scan_path=scan_src, body_name="锡林浩特市宝力根街道", body_date=d(2026, 11, 20),
                        certifier="王芳", actor=ACTOR, today=d(2026, 11, 29), expected_id_number=number)
    assert res.accepted, res.reason_zh
    from desktop.services.persons import PersonService

    person_id = PersonService(db).show(number).id
    face = b"\x89PNG\r\n\x1a\n" + f"{NAME}{number}".encode("utf-8") * 50
    Services(db).evidence.store(person_id, "captured", face, ACTOR, certification_id=res.certification_id,
                              today=d(2026, 11, 29))
    return db, number, res.scan_path


def test_a_copied_data_folder_reveals_no_id_number_or_name(tmp_path):
    db, number, scan_rel = _field_laptop(tmp_path)
    try:
        home = Path(os.environ["CERTDESK_HOME"])
        # the data is there, through the keys ...
        with db.engine.connect() as conn:
            assert conn.execute(text("select name from persons where id_number = :n"), {"n": number}).scalar() == NAME
        kept = paths.data_dir() / scan_rel
        assert NAME.encode() in open_scan(kept)
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert stat.S_IMODE(paths.default_db_path().stat().st_mode) == 0o600
        # ... while the app is open (the WAL holds the latest pages) and after it closed
        assert leaks(home, number) == []
    finally:
        db.dispose()
    assert leaks(home, number) == []
    copy = tmp_path / "stolen"
    import shutil

    shutil.copytree(home, copy)
    assert leaks(copy, number) == []
    assert not any(p.name in ("data-key", "database-key") for p in copy.rglob("*"))
    # the database file is not SQLite to anyone without the key
    assert not encryption.is_plaintext(copy / "data" / "certdesk.sqlite")
    assert not encryption.can_open(copy / "data" / "certdesk.sqlite", os.urandom(32))


def test_the_grep_finds_a_plaintext_database(tmp_path, monkeypatch):
    """The control: the same search finds the name in a database written without a key."""
    monkeypatch.setattr(db_engine, "_key_provider", None)
    folder = tmp_path / "plain"
    folder.mkdir()
    db = Database.open(f"sqlite:///{folder / 'plain.sqlite'}")
    roster = Roster(db, tmp_path)
    number = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2026, 3, 1), name=NAME)
    roster.load()
    db.dispose()
    assert leaks(folder, number)


def _plaintext_db(tmp_path, monkeypatch, name="old.sqlite") -> tuple[Path, str]:
    """A database as an earlier version left it: plaintext, WAL mode, a roster imported."""
    folder = tmp_path / "laptop"
    folder.mkdir(exist_ok=True)
    path = folder / name
    with monkeypatch.context() as m:
        m.setattr(db_engine, "_key_provider", None)
        db = Database.open(f"sqlite:///{path}")
        roster = Roster(db, tmp_path)
        number = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2026, 3, 1), name=NAME)
        for _ in range(30):
            roster.add(roster.person(), "enterprise_retiree", d(2015, 1, 1), d(2026, 10, 1))
        roster.load()
        close(db)
    assert encryption.is_plaintext(path) and NAME.encode() in path.read_bytes()
    return path, number


def close(db: Database) -> None:
    """Dispose, and let the import's background WAL checkpoint give its connection back (a
    connection returned to a disposed pool closes only when collected): the next step needs the
    file to itself, as at a real first start."""
    import gc
    import threading

    for t in threading.enumerate():
        if t.name == "sqlite-checkpoint":
            t.join()
    db.dispose()
    gc.collect()


def _persons(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("select count(*) from persons")).scalar()


def test_a_plaintext_database_is_encrypted_in_place_on_first_start(tmp_path, monkeypatch):
    path, number = _plaintext_db(tmp_path, monkeypatch)
    db = Database.open(f"sqlite:///{path}")
    try:
        assert _persons(db) == 31
        with db.engine.connect() as conn:
            assert conn.execute(text("select name from persons where id_number = :n"), {"n": number}).scalar() == NAME
    finally:
        db.dispose()
    assert not encryption.is_plaintext(path)
    assert sorted(p.name for p in path.parent.iterdir() if p.name != "old.sqlite-migrate.lock") in (
        ["old.sqlite"], ["old.sqlite", "old.sqlite-shm", "old.sqlite-wal"])
    assert (path.parent / "old.sqlite-migrate.lock").stat().st_size == 0
    assert leaks(path.parent, number) == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_second_start_waits_for_the_first_ones_migration(tmp_path, monkeypatch):
    import threading

    path, number = _plaintext_db(tmp_path, monkeypatch)
    result = {}

    def second_start():
        result["state"] = encryption.prepare(path, keystore.get_key(keystore.DATABASE_KEY))

    with encryption.migration_lock(path):  # the first start, in the middle of its migration
        t = threading.Thread(target=second_start)
        t.start()
        t.join(1.5)
        assert t.is_alive() and encryption.is_plaintext(path)  # waiting; nothing touched
    t.join(120)
    assert result["state"] == "migrated" and not encryption.is_plaintext(path)


CRASH = """
import os, signal, sys
from db import encryption
point = sys.argv[2]
def die(*a, **k):
    os.kill(os.getpid(), signal.SIGKILL)
if point == "verify":
    encryption.open_verified = die               # export written, not yet checked
elif point == "replace":
    real = os.replace
    def replace(src, dst):
        if str(src).endswith(encryption.TMP_SUFFIX):
            die()
        return real(src, dst)
    encryption.os.replace = replace              # checked, plaintext linked, not yet swapped
elif point == "shred":
    encryption.shred = die                       # swapped, the plaintext's second name still there
from desktop.services.database import Database
Database.open("sqlite:///" + sys.argv[1])
"""


@pytest.mark.parametrize("point", ["verify", "replace", "shred"])
def test_a_crash_mid_migration_leaves_a_usable_database(tmp_path, monkeypatch, point):
    import subprocess
    import sys

    path, number = _plaintext_db(tmp_path, monkeypatch)
    root = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, "-c", CRASH, str(path), point], cwd=root, capture_output=True,
                       env={**os.environ, "CERTDESK_MODE": "test"})
    assert r.returncode == -9, r.stderr[-2000:]
    if point in ("verify", "replace"):
        # the plaintext database is untouched and opens as it is (an older version could use it)
        assert encryption.is_plaintext(path)
        conn = encryption.connect(path, None)
        assert conn.execute("select count(*) from persons").fetchone()[0] == 31
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        conn.close()
    else:
        assert not encryption.is_plaintext(path)
        assert (path.parent / ("old.sqlite" + encryption.PLAINTEXT_SUFFIX)).exists()
    # the next start finishes the job and cleans up
    db = Database.open(f"sqlite:///{path}")
    try:
        assert _persons(db) == 31
    finally:
        db.dispose()
    assert not encryption.is_plaintext(path)
    left = {p.name for p in path.parent.iterdir()}
    assert not left & {"old.sqlite" + encryption.TMP_SUFFIX, "old.sqlite" + encryption.PLAINTEXT_SUFFIX}
    assert leaks(path.parent, number) == []


def test_another_accounts_key_is_refused_in_chinese(tmp_path):
    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    Database.open(url).dispose()
    keystore.put_key(keystore.DATABASE_KEY, os.urandom(32))  # a new OS account: another key
    try:
        with pytest.raises(DatabaseLocked) as err:
            Database.open(url)
        assert err.value.code == "database_key_mismatch" and "恢复密钥" in err.value.message_zh
    finally:
        keystore.forget_memory()
    Database.open(url).dispose()  # the right key opens it again


def test_secure_delete_is_on(db):
    with db.engine.connect() as conn:
        assert conn.execute(text("pragma secure_delete")).scalar() == 1
        assert conn.execute(text("pragma cipher_version")).scalar()  # SQLCipher, not plain SQLite


def test_the_scan_purge_overwrites_and_removes_kept_scans(tmp_path):
    db, number, scan_rel = _field_laptop(tmp_path)
    try:
        kept = paths.data_dir() / scan_rel
        svc = Services(db).evidence
        from desktop.services.settings import SettingsService

        keep = int(SettingsService(db).get("scan_retention_days"))
        received = d.today()  # received_at is the real clock, whatever the business date
        from datetime import timedelta

        assert svc.purge(ADMIN, today=received + timedelta(days=keep - 1))["scans"] == 0
        assert kept.is_file()
        done = svc.purge(ADMIN, today=received + timedelta(days=keep + 1))
        assert done["scans"] == 1 and not kept.exists()
        assert svc.purge(ADMIN, today=received + timedelta(days=keep + 2))["scans"] == 0
        with db.engine.connect() as conn:  # the form still says a scan existed
            assert conn.execute(text("select scan_path from assist_forms where scan_path is not null")).scalar()
            assert conn.execute(text("select count(*) from audit_log where action = 'assist_form.scan_purge'")).scalar() == 1
    finally:
        db.dispose()


class _StoreBackend:
    """Stands in for the OS key store (no Secret Service runs here): keyring's own backend API."""

    priority = 1

    def __init__(self):
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, name):
        return self.items.get((service, name))

    def set_password(self, service, name, value):
        self.items[(service, name)] = value

    def delete_password(self, service, name):
        self.items.pop((service, name), None)


def test_production_keeps_both_keys_in_the_key_store_and_takes_in_a_deployed_key_file(tmp_path, monkeypatch):
    store = _StoreBackend()
    monkeypatch.setattr("desktop.platform.runmode._override", None)
    monkeypatch.setenv("CERTDESK_MODE", "production")
    monkeypatch.setattr(keystore, "_keyring", lambda: store)
    deployed = paths.config_dir() / "data-key"
    image_key = os.urandom(32)
    deployed.write_text(image_key.hex(), encoding="ascii")
    db = Database.open(f"sqlite:///{tmp_path / 'p.sqlite'}")
    try:
        Services(db).evidence  # opens the vault: the deployed file moves into the key store
    finally:
        db.dispose()
    assert store.items[("CertDesk", "data-key")] == image_key.hex()
    assert not deployed.exists()
    key = bytes.fromhex(store.items[("CertDesk", "database-key")])
    assert key != keystore.simulation_key(keystore.DATABASE_KEY)
    assert encryption.can_open(tmp_path / "p.sqlite", key)
    Database.open(f"sqlite:///{tmp_path / 'p.sqlite'}").dispose()  # the same key next time
    assert bytes.fromhex(store.items[("CertDesk", "database-key")]) == key
    home = Path(os.environ["CERTDESK_HOME"])
    assert not any(key.hex() in p.read_text(errors="ignore") for p in home.rglob("*") if p.is_file())


def test_production_without_a_key_store_refuses_and_writes_no_key(tmp_path, monkeypatch):
    monkeypatch.setattr("desktop.platform.runmode._override", None)
    monkeypatch.setenv("CERTDESK_MODE", "production")
    monkeypatch.setattr(keystore, "_keyring", lambda: None)
    with pytest.raises(keystore.KeyStoreUnavailable) as err:
        Database.open(f"sqlite:///{tmp_path / 'p.sqlite'}")
    assert "系统密钥库" in err.value.message_zh and "不会把它写成文件" in err.value.message_zh
    assert not (tmp_path / "p.sqlite").exists()
    home = Path(os.environ["CERTDESK_HOME"])
    assert [p for p in home.rglob("*") if p.is_file()] == []
    monkeypatch.setenv("CERTDESK_KEYSTORE", "memory")  # and no in-memory way around it
    with pytest.raises(keystore.KeyStoreUnavailable):
        Database.open(f"sqlite:///{tmp_path / 'p.sqlite'}")
