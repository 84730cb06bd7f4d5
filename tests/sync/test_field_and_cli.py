"""Field laptop for home visits, and the command line against PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from helpers import OFFICE, TODAY, Workstation, seed_roster

from desktop.services.database import Database
from desktop.services.persons import PersonService
from desktop.services.visits import VisitService
from desktop.platform.workstation import Actor

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def central(central_url, tmp_path):
    db = Database.open(central_url)
    numbers = seed_roster(db, tmp_path, 6)
    yield db, numbers
    db.dispose()


def test_field_laptop_prepared_certifies_offline_and_syncs_back(central, central_url, tmp_path):
    db, numbers = central
    desk = VisitService(db, PersonService(db))  # the booking desk works on the central database directly
    people = [PersonService(db).show(n, TODAY) for n in numbers[:3]]
    visits = [desk.book(p.id, f"阿尔山市白狼镇{i}号", OFFICE, phone="13900000001", reason="行动不便",
                        preferred_dates=[date(2026, 12, 2)]) for i, p in enumerate(people)]
    desk.schedule(visits[0].id, "wang", date(2026, 12, 2), OFFICE)
    desk.schedule(visits[1].id, "wang", date(2026, 12, 3), OFFICE)
    desk.schedule(visits[2].id, "li", date(2026, 12, 2), OFFICE)  # someone else's
    assert [v.id for v in desk.schedule_of("wang", date(2026, 12, 1), date(2026, 12, 31))] == [visits[0].id, visits[1].id]

    laptop_db = Database.open(f"sqlite:///{tmp_path / 'laptop.sqlite'}")
    field = VisitService(laptop_db, PersonService(laptop_db))
    counts = field.prepare_field_laptop("wang", (date(2026, 12, 1), date(2026, 12, 7)), central_url,
                                        workstation="laptop-7")
    assert counts["visits"] == 2 and counts["persons"] == 2
    # Only what the visits need: two people, not the whole roster.
    assert len(PersonService(laptop_db).search("测试")) == 2

    # In the mountains: no network. The same certification flow runs on the local file.
    wang = Actor("wang", "laptop-7", "clerk")
    done = field.certify(visits[0].id, wang, cert_date=date(2026, 12, 2), today=date(2026, 12, 2))
    assert done.status == "done" and done.certification_id
    away = field.close(visits[1].id, "not_at_home", wang, note="邻居说住院了")
    assert away.status == "not_at_home"
    cert = PersonService(laptop_db).show(numbers[0], date(2026, 12, 2)).history[0]
    assert cert.text_zh == "上门认证"

    # Back at the office: sync.
    from desktop.services.sync import SyncService

    sync = SyncService(laptop_db, central_url, workstation="laptop-7")
    result = sync.sync_once()
    assert result.pushed >= 3 and result.conflicts == ()
    view = PersonService(db).show(numbers[0], date(2026, 12, 2))
    assert view.entitlements[0].last_certified == date(2026, 12, 2)
    assert {v.id: v.status for v in desk.list()} == {visits[0].id: "done", visits[1].id: "not_at_home",
                                                     visits[2].id: "scheduled"}
    # A closed visit is not re-opened by a later re-schedule from an out-of-date desk copy.
    with pytest.raises(Exception):
        desk.schedule(visits[0].id, "li", date(2026, 12, 9), OFFICE)
    assert sync.sync_once().pushed == 0
    sync.close()
    laptop_db.dispose()


def _cli(args, home, env_extra=None):
    from cli_auth import signed_env

    db = args[args.index("--db") + 1]  # the command signs in against the database it opens
    auth = signed_env(db if "://" in db else f"sqlite:///{db}")
    env = {**os.environ, "CERTDESK_HOME": str(home), "CERTDESK_MODE": "test", **auth, **(env_extra or {})}
    env.pop("CERTDESK_DB", None)
    return subprocess.run([sys.executable, "-m", "desktop", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_cli_sync_once_json_and_person_show_on_postgres(central, central_url, tmp_path):
    db, numbers = central
    home = tmp_path / "home"
    local = tmp_path / "ws.sqlite"
    r = _cli(["--db", str(local), "sync", "--once", "--json", "--central", central_url], home)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["pushed"] == 0 and doc["pulled"] > 0 and doc["conflicts"] == []

    # Certify locally (via the service, offline), then sync with the URL from the environment.
    ws = Database.open(f"sqlite:///{local}")
    pid = PersonService(ws).show(numbers[4], TODAY).id
    PersonService(ws).record_certification(pid, TODAY, "counter", Actor("clerk", "ws-cli"), today=TODAY)
    ws.dispose()
    r = _cli(["--db", str(local), "sync", "--once", "--json"], home, {"CERTDESK_CENTRAL": central_url})
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["pushed"] == 1 and doc["conflicts"] == []

    # Saved in the workstation's database.
    assert _cli(["--db", str(local), "sync", "--save-central", central_url], home).returncode == 0
    r = _cli(["--db", str(local), "sync", "--once", "--json"], home)
    assert json.loads(r.stdout)["pushed"] == 0

    # The command line works directly against PostgreSQL.
    r = _cli(["--db", central_url, "person", "show", numbers[4], "--as-of", TODAY.isoformat(), "--json"], home)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["entitlements"][0]["last_certified"] == TODAY.isoformat()

    # Unreachable central: a clear error, exit status 5 (device or network), nothing lost.
    r = _cli(["--db", str(local), "sync", "--once", "--json", "--central", "postgresql://postgres@127.0.0.1:1/x"], home)
    assert r.returncode == 5 and json.loads(r.stdout)["error"] == "offline"


def test_cli_visits_book_schedule_close(central, central_url, tmp_path):
    db, numbers = central
    home = tmp_path / "home"
    r = _cli(["--db", central_url, "visits", "book", numbers[5], "--address", "阿尔山市天池镇", "--phone", "13900000002",
              "--prefer", "2026-12-05", "--json"], home)
    assert r.returncode == 0, r.stderr
    visit = json.loads(r.stdout)
    assert visit["status"] == "booked" and numbers[5] not in r.stdout
    r = _cli(["--db", central_url, "visits", "schedule", visit["id"], "--staff", "zhao", "--date", "2026-12-05",
              "--json"], home)
    assert json.loads(r.stdout)["status"] == "scheduled"
    r = _cli(["--db", central_url, "visits", "list", "--staff", "zhao", "--json"], home)
    assert [v["id"] for v in json.loads(r.stdout)] == [visit["id"]]
    r = _cli(["--db", central_url, "visits", "close", visit["id"], "--outcome", "cancelled", "--json"], home)
    assert json.loads(r.stdout)["status"] == "cancelled"
