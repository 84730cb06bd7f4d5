"""Issue 15 §1: every command that reads personal data or changes anything runs as a signed-in
operator, under the same permission matrix as the window; diagnostics need no sign-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from cli_auth import PASSWORD, signed_env
from desktop.services.database import Database
from scenario import Roster

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path, url, *args, env=None, stdin=None):
    e = {**os.environ, "CERTDESK_HOME": str(tmp_path / "home"), "CERTDESK_DB": url, **(env or {})}
    e.pop("CERTDESK_OPERATOR", None) if env is None or "CERTDESK_OPERATOR" not in env else None
    return subprocess.run([sys.executable, "-m", "ui", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          env=e, input=stdin)


@pytest.fixture
def roster_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    db = Database.open(url)
    r = Roster(db, tmp_path)
    number = r.add(r.person(), "enterprise_retiree", date(2010, 1, 1), date(2025, 3, 15), 1000)
    r.load(today=date(2026, 3, 1))
    yield url, db, number
    db.dispose()


def test_init_then_accounts_then_scheduled_job_sign_in(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    r = run(tmp_path, url, "init", "--admin-password-stdin", "--json", stdin="Admin2026x\n")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"created": True, "username": "admin", "one_time_password": None}
    again = run(tmp_path, url, "init", "--json")
    assert json.loads(again.stdout)["created"] is False  # never a second admin, never a reset
    admin = {"CERTDESK_OPERATOR": "admin", "CERTDESK_PASSWORD": "Admin2026x"}
    r = run(tmp_path, url, "operators", "add", "zhangmin", "--role", "clerk", "--password-stdin",
            "--service-account", "--json", env=admin, stdin="Clerk2026x\n")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"username": "zhangmin", "role": "clerk", "must_change_password": False}
    clerk = {"CERTDESK_OPERATOR": "zhangmin", "CERTDESK_PASSWORD": "Clerk2026x"}
    r = run(tmp_path, url, "operators", "add", "x", "--role", "admin", "--password-stdin", "--json",
            env=clerk, stdin="Xyz2026abc\n")
    assert r.returncode == 3 and json.loads(r.stdout)["error"] == "permission_denied"
    listed = json.loads(run(tmp_path, url, "operators", "list", "--json", env=admin).stdout)
    assert [o["username"] for o in listed] == ["admin", "zhangmin"]
    # --operator NAME takes the password from the environment when there is no terminal
    r = run(tmp_path, url, "--operator", "zhangmin", "person", "show", "152202195003010011", "--json",
            env={"CERTDESK_PASSWORD": "Clerk2026x"})
    assert r.returncode == 4 and json.loads(r.stdout)["error"] == "not_found"  # signed in; nobody by that number


def test_no_sign_in_no_personal_data(tmp_path, roster_db):
    url, db, number = roster_db
    for args in (("person", "show", number, "--json"), ("ledger", number, "--json"),
                 ("payroll", "--month", "2026-04", "--json"), ("audit", "verify", "--json"),
                 ("forms", "list", "--outstanding", "--json")):
        r = run(tmp_path, url, *args)
        assert r.returncode == 3, (args, r.stdout, r.stderr)
        doc = json.loads(r.stdout)
        assert doc["error"] == "sign_in_required" and "CERTDESK_OPERATOR" in doc["message"]
        assert number not in r.stdout
    # diagnostics need none
    assert run(tmp_path, url, "idcard", "check", "152202194009012240", "--json").returncode == 0
    assert run(tmp_path, url, "--version").returncode == 0


def test_wrong_password_counts_towards_the_lockout(tmp_path, roster_db):
    url, db, number = roster_db
    signed_env(db, "clerk")
    bad = {"CERTDESK_OPERATOR": "t_clerk", "CERTDESK_PASSWORD": "wrong-one1"}
    for _ in range(5):
        r = run(tmp_path, url, "person", "show", number, "--json", env=bad)
        assert r.returncode == 3 and json.loads(r.stdout)["error"] in ("bad_credentials", "locked")
    good = {"CERTDESK_OPERATOR": "t_clerk", "CERTDESK_PASSWORD": PASSWORD}
    r = run(tmp_path, url, "person", "show", number, "--json", env=good)
    assert r.returncode == 3 and json.loads(r.stdout)["error"] == "locked"


def test_a_clerk_is_refused_what_the_window_refuses(tmp_path, roster_db):
    url, db, number = roster_db
    clerk = signed_env(db, "clerk")
    r = run(tmp_path, url, "person", "show", number, "--json", env=clerk)
    assert r.returncode == 0 and json.loads(r.stdout)["id_number"] == number
    for args in (("payroll", "--month", "2026-04", "--json"), ("roster", "import", tmp_path / "roster1.csv", "--json"),
                 ("evidence", "purge", "--json"), ("audit", "verify", "--json")):
        r = run(tmp_path, url, *args, env=clerk)
        assert r.returncode == 3 and json.loads(r.stdout)["error"] == "permission_denied", (args, r.stdout)
    # a clerk may preview the month (as in the window), not record it
    assert run(tmp_path, url, "payroll", "--month", "2026-04", "--preview", "--json", env=clerk).returncode == 0
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from payroll_runs")).scalar() == 0
        denied = conn.execute(text("select count(*) from audit_log where action='permission.denied' "
                                   "and operator='t_clerk'")).scalar()
    assert denied >= 4
    sup = signed_env(db, "supervisor")
    r = run(tmp_path, url, "payroll", "--month", "2026-04", "--json", env=sup)
    assert r.returncode == 0 and [i["id_number"] for i in json.loads(r.stdout)["suspend"]] == [number]
    with db.engine.connect() as conn:
        assert conn.execute(text("select operator from payroll_runs")).scalar() == "t_supervisor"


def test_another_business_date_is_a_supervisors_act_and_audited(tmp_path, roster_db):
    url, db, number = roster_db
    clerk = signed_env(db, "clerk")
    # reading as of another day is free
    r = run(tmp_path, url, "person", "show", number, "--as-of", "2026-01-01", "--json", env=clerk)
    assert r.returncode == 0
    # changing data as of another day is not, for a clerk
    r = run(tmp_path, url, "forms", "issue", number, "--pdf", tmp_path / "f.pdf", "--as-of", "2026-01-10", "--json",
            env=clerk)
    assert r.returncode == 3 and json.loads(r.stdout)["error"] == "permission_denied"
    sup = signed_env(db, "supervisor")
    r = run(tmp_path, url, "forms", "issue", number, "--pdf", tmp_path / "f.pdf", "--as-of", "2026-01-10", "--json",
            env=sup)
    assert r.returncode == 0, r.stdout
    with db.engine.connect() as conn:
        detail = conn.execute(text("select detail from audit_log where action='cli.as_of'")).scalar()
    assert json.loads(detail)["as_of"] == "2026-01-10"
