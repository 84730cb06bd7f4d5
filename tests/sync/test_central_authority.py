"""Issue 15 §2–§6 against a throw-away PostgreSQL with TLS (the fixture's own test CA): devices
enrolled centrally and syncing as their own roles; clones refused; authority at the centre."""

from __future__ import annotations

import os

import psycopg
import pytest
from central_helpers import ADMIN, Device
from tests.sync.conftest import make_test_pki
from helpers import TODAY, seed_roster
from sqlalchemy import text

from desktop.errors import SyncError
from desktop.services import central
from desktop.services.database import Database
from desktop.services.persons import PersonService

pytestmark = pytest.mark.postgres


@pytest.fixture
def centre(pg_cluster, central_url, tmp_path):
    """A central database with a roster (the roster office), migrated and with the authority
    layer installed by the admin step."""
    db = Database.open(central_url)
    numbers = seed_roster(db, tmp_path, 4)
    it = Database.open(f"sqlite:///{tmp_path / 'it-desk.sqlite'}")
    central.migrate(it, central_url, ADMIN, ca_file=str(pg_cluster.ca_file))
    central.rotate_form_key(it, central_url, ADMIN, ca_file=str(pg_cluster.ca_file))
    yield {"url": central_url, "db": db, "numbers": numbers, "ca": pg_cluster.ca_file, "port": pg_cluster.port}
    it.dispose()
    db.dispose()


@pytest.fixture
def devices(centre, tmp_path):
    made = []

    def make(name: str) -> Device:
        d = Device(tmp_path / f"{name}.sqlite", centre["url"], centre["ca"], name=name)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def _device_conn(centre, device: Device) -> psycopg.Connection:
    """Straight to the centre as the device's role (what a hostile client could do)."""
    from desktop.platform import keystore

    ident = central.identity(device.db)
    pw = keystore.get_secret(ident.secret("pg"))
    dbname = centre["url"].rsplit("/", 1)[1]
    return psycopg.connect(host="127.0.0.1", port=centre["port"], dbname=dbname, user=ident.device_id, password=pw,
                           sslmode="verify-full", sslrootcert=str(centre["ca"]))


# --- §3 devices enrolled, clones detected ---------------------------------------------------------


def test_enrolled_device_syncs_as_its_own_role_over_verified_tls(centre, devices):
    a = devices("ws-a")
    ident = central.identity(a.db)
    assert ident.device_id.startswith("ws_") and len(ident.tag) == 4
    # the credential is in the key store, never in the database
    with a.db.engine.connect() as conn:
        values = [r[0] for r in conn.execute(text("SELECT value FROM sync_state"))]
    from desktop.platform import keystore

    pw = keystore.get_secret(ident.secret("pg"))
    assert pw and not any(pw in v for v in values)
    assert "verify-full" in a.enrolment.central and pw not in a.enrolment.central
    a.sync_once()
    view = PersonService(a.db).show(centre["numbers"][0], TODAY)
    assert view.name.startswith("测试")
    with _device_conn(centre, a) as c:
        assert c.execute("SELECT current_user").fetchone()[0] == ident.device_id
        assert c.info.pgconn.ssl_in_use


def test_a_cloned_installation_is_refused_at_its_next_sync(centre, devices, tmp_path):
    a = devices("ws-a")
    a.sync_once()
    twin = a.clone_to(tmp_path / "twin.sqlite")
    try:
        a.sync_once()  # the original goes on
        with pytest.raises(SyncError) as err:
            twin.sync_once()
        assert err.value.code == "clone_detected"
        assert "重新登记" in err.value.message_zh and "certdesk central enrol" in err.value.message_zh
        a.sync_once()  # still fine
        # re-enrolled, the twin becomes a device of its own
        twin.sync.close()
        twin._sync = None
        twin.enrolment = central.enrol(twin.db, centre["url"], ADMIN, ca_file=twin.ca_file)
        twin.sync_once()
        assert twin.device_id != a.device_id
    finally:
        twin.close()


def test_a_database_restored_under_another_installation_is_refused(centre, devices):
    a = devices("ws-a")
    with a.db.engine.begin() as conn:
        conn.execute(text("UPDATE sync_state SET value = 'another-install' WHERE key = 'install_id'"))
    a.sync.close()
    a._sync = None
    with pytest.raises(SyncError) as err:
        a.sync_once()
    assert err.value.code in ("clone_detected", "no_credential")


def test_a_tls_failure_says_tls_not_offline(centre, devices, tmp_path):
    a = devices("ws-a")
    other = tmp_path / "other-ca"
    other.mkdir()
    wrong = make_test_pki(other)["ca"]
    from desktop.services.sync import SyncService

    svc = SyncService(a.db, a.enrolment.central, ca_file=str(wrong))
    try:
        with pytest.raises(SyncError) as err:
            svc.sync_once()
    finally:
        svc.close()
    assert err.value.code == "tls"
    assert "TLS" in err.value.message_zh


def test_migrations_are_an_admin_step_never_run_by_a_device(centre, devices):
    a = devices("ws-a")
    with centre["db"].engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0008'"))
    with pytest.raises(SyncError) as err:
        a.sync_once()
    assert err.value.code == "central_schema" and "central migrate" in err.value.message_zh
    with centre["db"].engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0009'"))


# --- §2 authority at the centre -------------------------------------------------------------------


def _central_operator(centre, username: str, role: str) -> None:
    from cli_auth import PASSWORD
    from desktop.services.operators import OperatorService
    from desktop.platform.workstation import Actor

    ops = OperatorService(centre["db"])
    ops.ensure_admin("central", PASSWORD, must_change=False)
    ops.create(username, username, role, PASSWORD, Actor("admin", "central", "admin"), must_change=False)


def test_a_role_edited_in_the_sqlite_file_is_refused_at_sync(centre, devices):
    _central_operator(centre, "zhang", "clerk")
    a = devices("ws-a")
    a.sync_once()
    with a.db.engine.begin() as conn:  # the clerk, with a shell and an SQLite tool
        assert conn.execute(text("UPDATE operators SET role = 'admin' WHERE username = 'zhang'")).rowcount == 1
    result = a.sync_once()
    refused = [c for c in result.conflicts if c["kind"] == "authority_refused"]
    assert refused and refused[0]["entity"] == "operators" and refused[0]["fields"] == ["role"]
    assert refused[0]["local"] == {"role": "admin"} and refused[0]["central"] == {"role": "clerk"}
    with a.db.engine.connect() as conn:  # put back here …
        assert conn.execute(text("SELECT role FROM operators WHERE username = 'zhang'")).scalar() == "clerk"
    with centre["db"].engine.connect() as conn:  # … never changed there, and the centre was told
        assert conn.execute(text("SELECT role FROM operators WHERE username = 'zhang'")).scalar() == "clerk"
        kinds = [r[0] for r in conn.execute(text("SELECT kind FROM sync_conflicts"))]
        actions = [r[0] for r in conn.execute(text("SELECT action FROM audit_log WHERE workstation = :w"),
                                               {"w": a.device_id})]
    assert "authority_refused" in kinds and "sync.authority_refused" in actions
    # and PostgreSQL itself refuses the device's role, whatever the client does
    with _device_conn(centre, a) as c, pytest.raises(psycopg.errors.InsufficientPrivilege):
        c.execute("UPDATE operators SET role = 'admin' WHERE username = 'zhang'")


def test_settings_changed_on_a_workstation_are_put_back(centre, devices):
    from desktop.services.settings import SettingsService

    SettingsService(centre["db"]).set("bureau_name", "阿尔山市社保局", ADMIN)
    a = devices("ws-a")
    a.sync_once()
    with a.db.engine.begin() as conn:
        conn.execute(text("UPDATE settings SET value = '\"别的局\"' WHERE key = 'bureau_name'"))
    result = a.sync_once()
    assert any(c["kind"] == "authority_refused" and c["entity"] == "settings" for c in result.conflicts)
    assert SettingsService(a.db).get("bureau_name") == "阿尔山市社保局"


def test_a_device_role_cannot_change_another_devices_rows(centre, devices):
    a, b = devices("ws-a"), devices("ws-b")
    for d in (a, b):
        d.sync_once()
    pid = PersonService(a.db).show(centre["numbers"][0], TODAY).id
    cert = PersonService(a.db).record_certification(pid, TODAY, "counter", a.actor, today=TODAY)
    a.sync_once()
    with centre["db"].engine.connect() as conn:
        assert conn.execute(text("SELECT origin FROM certifications WHERE id = :i"), {"i": cert.id}).scalar() == a.device_id
    with _device_conn(centre, b) as c:
        # an UPDATE sees none of A's rows …
        cur = c.execute("UPDATE certifications SET result = 'failed' WHERE id = %s", (cert.id,))
        assert cur.rowcount == 0
        c.commit()
        # … an upsert over one is refused …
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("INSERT INTO certifications (id, person_id, cert_date, method, result, operator, workstation, "
                      "created_at) SELECT id, person_id, cert_date, method, 'failed', operator, workstation, created_at "
                      "FROM certifications WHERE id = %s ON CONFLICT (id) DO UPDATE SET result = excluded.result",
                      (cert.id,))
        c.rollback()
        # … it cannot insert rows in A's name, nor append to A's audit chain, nor delete anything
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("INSERT INTO certifications (id, person_id, cert_date, method, result, operator, workstation, "
                      "created_at, origin) VALUES ('x-1', %s, '2026-11-01', 'counter', 'passed', 'x', 'x', now(), %s)",
                      (pid, a.device_id))
        c.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("INSERT INTO audit_log (id, ts, action, workstation) VALUES ('x-2', now(), 'forged', %s)",
                      (a.device_id,))
        c.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("DELETE FROM certifications WHERE id = %s", (cert.id,))
        c.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("SELECT token FROM devices")
    with centre["db"].engine.connect() as conn:
        assert conn.execute(text("SELECT result FROM certifications WHERE id = :i"), {"i": cert.id}).scalar() == "passed"


# --- §4 form keys and serials ----------------------------------------------------------------------


def _form_at(device: Device, number: str, tmp_path, name: str):
    from desktop.services.hub import Services

    forms = Services(device.db).forms
    res = forms.issue(number, device.actor, tmp_path / f"{name}.pdf", today=TODAY)
    # the payload the QR on that PDF carries (same serial, person, deadline and key)
    payload = forms._form_data(res.serial, {"id_number": number, "name": "", "id": res.form.person_id}, [],
                               res.form.deadline, TODAY).qr_payload
    return forms, res, payload


def test_a_form_printed_at_a_verifies_and_is_received_at_b(centre, devices, tmp_path):
    from desktop.services.hub import Services

    a, b = devices("ws-a"), devices("ws-b")
    for d in (a, b):
        d.sync_once()  # the roster, and the central form keys
    number = centre["numbers"][1]
    _forms_a, res, payload = _form_at(a, number, tmp_path, "a")
    assert payload.startswith("CD2.K1.")  # signed with the central key, its id printed
    tag = central.identity(a.db).tag
    assert res.serial.split("-")[2] == tag  # the serial carries A's centrally allocated tag
    a.sync_once()
    b.sync_once()
    forms_b = Services(b.db).forms
    chk = forms_b.check(text=payload)
    assert chk.ok and chk.qr_verified, chk.reason
    got = forms_b.receive(text=payload, body_name="沈阳市和平区南湖街道", body_date=TODAY, certifier="赵敏",
                          actor=b.actor, today=TODAY)
    assert got.accepted, got.reason
    b.sync_once()  # B may move A's outstanding form to received (a workflow step), nothing more
    assert b.sync.refused() == []
    with centre["db"].engine.connect() as conn:
        status, origin = conn.execute(text("SELECT status, origin FROM assist_forms WHERE serial = :s"),
                                      {"s": res.serial}).one()
    assert status == "received" and origin == a.device_id


def test_a_rotated_key_still_verifies_old_forms(centre, devices, tmp_path):
    from desktop.services.hub import Services

    a, b = devices("ws-a"), devices("ws-b")
    for d in (a, b):
        d.sync_once()
    _, _, old = _form_at(a, centre["numbers"][0], tmp_path, "old")
    it = Database.open(f"sqlite:///{tmp_path / 'it-desk.sqlite'}")
    try:
        assert central.rotate_form_key(it, centre["url"], ADMIN, ca_file=str(centre["ca"])) == "K2"
    finally:
        it.dispose()
    a.sync_once()
    _, _, new = _form_at(a, centre["numbers"][2], tmp_path, "new")
    assert old.startswith("CD2.K1.") and new.startswith("CD2.K2.")
    forms_b = Services(b.db).forms
    assert forms_b.check(text=new).reason == "unknown_key"  # B has not synced since the rotation
    a.sync_once()
    b.sync_once()  # B learns K2 (and A's forms)
    for payload in (old, new):
        chk = forms_b.check(text=payload)
        assert chk.ok and chk.qr_verified, chk.reason
    # a forged signature is still refused
    forged = new[:-3] + ("AAA" if not new.endswith("AAA") else "BBB")
    assert forms_b.check(text=forged).reason == "bad_signature"


def test_no_installation_makes_a_form_key_on_its_own_in_production(tmp_path, monkeypatch):
    from desktop.formats import qrsign
    from desktop.platform import runmode
    from desktop.services.forms import default_key_provider
    from desktop.services.hub import Services

    db = Database.open(f"sqlite:///{tmp_path / 'prod.sqlite'}")
    try:
        monkeypatch.setattr(runmode, "_override", runmode.PRODUCTION)
        provider = default_key_provider(db)
        with pytest.raises(qrsign.QrKeyError) as err:
            provider()
        assert "central enrol" in err.value.message_zh
        assert Services(db).forms.check(text="CD1.AES-2026-000001.ABCDEFGH.20261231.ABCDEFGHIJKLMNOPQRSTUVWX").reason == "no_key"
        from desktop.platform import paths

        assert not (paths.config_dir() / "qr-hmac.key").exists()
    finally:
        monkeypatch.setattr(runmode, "_override", None)
        db.dispose()


# --- §5 audit anchored ------------------------------------------------------------------------------


def _busy(device: Device, centre, n: int = 3) -> None:
    """A few audited changes on the device (certifications), then a sync (checkpoint)."""
    from datetime import date

    for i, number in enumerate(centre["numbers"][:n]):
        pid = PersonService(device.db).show(number, TODAY).id
        PersonService(device.db).record_certification(pid, date(2026, 11, 20 + i), "counter", device.actor,
                                                      today=TODAY)
    device.sync_once()


def _own_events(device: Device) -> list[dict]:
    with device.db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(text("SELECT * FROM audit_log WHERE workstation = :w ORDER BY seq"),
                                              {"w": device.device_id}).mappings()]


def _unlock(device: Device) -> None:
    with device.db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))


def test_own_events_are_maced_and_checkpointed_at_each_sync(centre, devices):
    from db import journal
    from desktop.services.audit import verify_chain, verify_with_central

    a = devices("ws-a")
    a.sync_once()
    _busy(a, centre)
    mine = _own_events(a)
    key = central.audit_key(central.identity(a.db))
    assert mine and all(e["mac"] == journal.event_mac(key, e["hash"]) for e in mine)
    with centre["db"].engine.connect() as conn:
        cp = conn.execute(text("SELECT count, head_hash, central_count, server_mac FROM audit_checkpoints "
                               "WHERE device_id = :d ORDER BY seq DESC LIMIT 1"), {"d": a.device_id}).one()
    assert cp.count == cp.central_count == len(mine) and cp.head_hash == mine[-1]["hash"] and cp.server_mac
    result, check = verify_with_central(a.db, verify_chain(a.db))
    assert result.ok and check.checked and check.checkpoints >= 2


def test_truncation_of_the_local_chain_is_found_against_the_centre(centre, devices):
    from desktop.services.audit import verify_chain, verify_with_central

    a = devices("ws-a")
    a.sync_once()
    _busy(a, centre)
    mine = _own_events(a)
    _unlock(a)
    with a.db.engine.begin() as conn:  # the last two events deleted: what is left is a valid chain
        conn.execute(text("DELETE FROM audit_log WHERE seq >= :s"), {"s": mine[-2]["seq"]})
    local = verify_chain(a.db)
    assert local.ok  # nothing local shows it …
    result, check = verify_with_central(a.db, local)
    assert check.checked and not result.ok
    assert result.first_broken["problem"] == "truncated"  # … the centre does


def test_a_consistent_rewrite_of_the_local_chain_is_found_against_the_centre(centre, devices):
    from db import journal
    from desktop.services.audit import verify_chain, verify_with_central

    a = devices("ws-a")
    a.sync_once()
    _busy(a, centre)
    mine = _own_events(a)
    key = central.audit_key(central.identity(a.db))
    _unlock(a)
    # someone with the file AND this account's key store rewrites an event and re-hashes (and
    # re-MACs) everything after it: locally the chain is perfect
    target = mine[-2]
    prev = mine[-3]["hash"] if len(mine) >= 3 else None
    with a.db.engine.begin() as conn:
        for ev in mine[mine.index(target):]:
            row = dict(ev)
            if ev["id"] == target["id"]:
                row["operator"] = "someone-else"
            row["prev_hash"] = prev
            row["hash"] = prev = journal.event_hash(prev, row)
            conn.execute(text("UPDATE audit_log SET operator = :o, prev_hash = :p, hash = :h, mac = :m WHERE id = :i"),
                         {"o": row["operator"], "p": row["prev_hash"], "h": row["hash"],
                          "m": journal.event_mac(key, row["hash"]), "i": ev["id"]})
    local = verify_chain(a.db)
    assert local.ok
    result, check = verify_with_central(a.db, local)
    assert not result.ok and result.first_broken["problem"] == "rewritten"
    assert result.first_broken["id"] == target["id"]


def test_a_rewrite_without_the_device_key_is_found_locally(centre, devices):
    from db import journal
    from desktop.services.audit import verify_chain

    a = devices("ws-a")
    a.sync_once()
    _busy(a, centre, 2)
    mine = _own_events(a)
    _unlock(a)
    ev = dict(mine[-1])
    ev["operator"] = "someone-else"
    with a.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET operator = :o, hash = :h WHERE id = :i"),
                     {"o": ev["operator"], "h": journal.event_hash(ev["prev_hash"], ev), "i": ev["id"]})
    result = verify_chain(a.db)
    assert not result.ok and result.first_broken["problem"] == "rewritten"


def test_a_forked_chain_is_found_and_the_cli_keeps_its_keys(centre, devices, tmp_path, monkeypatch, capsys):
    """A database restored from an older copy that carried on: the centre holds events the local
    chain replaced with others."""
    import json

    from cli_auth import signed_env
    from desktop.cli import main

    a = devices("ws-a")
    a.sync_once()
    _busy(a, centre, 1)
    backup = tmp_path / "backup.sqlite"
    a.db.dispose()
    import shutil

    shutil.copyfile(a.path, backup)
    _busy(a, centre, 3)  # more events, pushed and checkpointed
    a.db.dispose()
    shutil.copyfile(backup, a.path)  # restored …
    for suffix in ("-wal", "-shm"):
        p = str(a.path) + suffix
        if os.path.exists(p):
            os.remove(p)
    restored = Database.open(f"sqlite:///{a.path}")
    try:
        pid = PersonService(restored).show(centre["numbers"][3], TODAY).id
        PersonService(restored).record_certification(pid, TODAY, "counter", a.actor, today=TODAY)  # … and carried on
        env = signed_env(restored, "supervisor")
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("CERTDESK_DB", f"sqlite:///{a.path}")
        capsys.readouterr()
        code = main(["audit", "verify", "--json", "--ca", str(centre["ca"])])
        doc = json.loads(capsys.readouterr().out)
    finally:
        restored.dispose()
    assert code == 3
    assert {"ok", "events", "first_broken"} <= set(doc) and doc["ok"] is False
    assert doc["first_broken"]["problem"] == "forked" and doc["central"]["checked"] is True


def test_an_enrolled_field_laptop_closes_a_centrally_booked_visit(centre, devices):
    """A cross-origin workflow step the centre accepts: a visit booked and scheduled centrally,
    certified and closed on the laptop, pushed by the laptop's own role."""
    from datetime import date

    from helpers import OFFICE
    from desktop.services.visits import VisitService

    desk = VisitService(centre["db"], PersonService(centre["db"]))
    person = PersonService(centre["db"]).show(centre["numbers"][0], TODAY)
    visit = desk.book(person.id, "阿尔山市白狼镇1号", OFFICE, phone="13900000001", reason="行动不便")
    desk.schedule(visit.id, "wang", date(2026, 12, 2), OFFICE)
    laptop = devices("laptop")
    field = VisitService(laptop.db, PersonService(laptop.db))
    counts = field.prepare_field_laptop("wang", (date(2026, 12, 1), date(2026, 12, 7)), laptop.enrolment.central)
    assert counts["visits"] == 1
    done = field.certify(visit.id, laptop.actor, cert_date=date(2026, 12, 2), today=date(2026, 12, 2))
    assert done.status == "done"
    laptop.sync_once()
    assert laptop.sync.refused() == []
    with centre["db"].engine.connect() as conn:
        status, origin = conn.execute(text("SELECT status, origin FROM home_visits WHERE id = :i"), {"i": visit.id}).one()
    assert status == "done" and origin == "central"
