"""The audit log is tamper-evident: editing, deleting or inserting an event breaks the chain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date as d
from pathlib import Path

from sqlalchemy import text

from desktop.services.audit import verify_chain

ROOT = Path(__file__).resolve().parents[2]


def populate(db, roster):
    for i in range(3):
        roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2025, 3, 15), 2000)
    roster.load(today=d(2025, 12, 1))
    from desktop.domain.months import Month
    from desktop.services.payroll import PayrollService
    from desktop.services.settings import SettingsService
    from scenario import ACTOR

    PayrollService(db, SettingsService(db)).run(Month(2026, 4), ACTOR)


def tamper(db, sql):
    with db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        conn.execute(text(sql))


def test_intact_chain_verifies(db, roster):
    populate(db, roster)
    result = verify_chain(db)
    assert result.ok and result.events >= 3 and result.first_broken is None


def test_edited_event_is_found(db, roster):
    populate(db, roster)
    with db.engine.connect() as conn:
        seq = conn.execute(text("select seq from audit_log where action='payroll.instructions' order by seq limit 1")).scalar()
    tamper(db, f"update audit_log set operator='someone-else' where seq={seq}")
    result = verify_chain(db)
    assert not result.ok
    assert result.first_broken["seq"] == seq and result.first_broken["problem"] == "content_changed"


def test_deleted_event_is_found(db, roster):
    populate(db, roster)
    with db.engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("select seq from audit_log order by seq"))]
    tamper(db, f"delete from audit_log where seq={seqs[1]}")
    result = verify_chain(db)
    assert not result.ok and result.first_broken["seq"] == seqs[2]
    assert result.first_broken["problem"] == "chain_gap"


def test_cli_reports_json(db, roster, tmp_path):
    populate(db, roster)
    from cli_auth import signed_env

    env = {**os.environ, "CERTDESK_HOME": str(tmp_path / "h"), **signed_env(db, "supervisor")}
    r = subprocess.run([sys.executable, "-m", "ui", "--db", db.url, "audit", "verify", "--json"], cwd=ROOT,
                       capture_output=True, text=True, env=env)
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["ok"] is True and doc["first_broken"] is None and doc["events"] >= 3
    tamper(db, "update audit_log set detail='{}' where seq=(select max(seq) from audit_log)")
    r = subprocess.run([sys.executable, "-m", "ui", "--db", db.url, "audit", "verify", "--json"], cwd=ROOT,
                       capture_output=True, text=True, env=env)
    doc = json.loads(r.stdout)
    assert r.returncode == 3 and doc["ok"] is False and doc["first_broken"]["problem"] == "content_changed"
