"""The permission matrix is enforced in the core services, and refusals are audited."""

from __future__ import annotations

from datetime import date as d

import pytest
from scenario import ROSTER_COLUMNS, write_csv
from sqlalchemy import text

from desktop.errors import PermissionDenied
from desktop.domain.idnumber import make_number
from desktop.domain.months import Month
from desktop.domain.permissions import MATRIX, allowed, matrix_rows
from desktop.services.imports import ImportService
from desktop.services.payroll import PayrollService
from desktop.services.settings import SettingsService
from desktop.platform.workstation import Actor

CLERK = Actor("clerk1", "ws-1", "clerk")
SUP = Actor("sup1", "ws-1", "supervisor")
ADMIN = Actor("admin", "ws-1", "admin")


def denied_events(db):
    with db.engine.connect() as conn:
        return conn.execute(text("select operator, detail from audit_log where action='permission.denied'")).fetchall()


def test_clerk_cannot_import_the_roster_and_the_attempt_is_recorded(db, tmp_path):
    path = write_csv(tmp_path / "r.csv", ROSTER_COLUMNS,
                     [["王桂兰", make_number("152202", d(1950, 1, 1), 1), "企业离退休人员", "2012-05-01"] + [""] * 5])
    with pytest.raises(PermissionDenied) as exc:
        ImportService(db).import_roster(path, CLERK, today=d(2026, 11, 29))
    assert "主管" in exc.value.message_zh
    (event,) = denied_events(db)
    assert event[0] == "clerk1" and "roster.import" in event[1]
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from persons")).scalar() == 0
    assert ImportService(db).import_roster(path, SUP, today=d(2026, 11, 29)).imported == 1


def test_clerk_may_preview_but_not_record_a_payroll_run(db):
    PayrollService(db, SettingsService(db)).run(Month(2026, 12), CLERK, record=False)
    with pytest.raises(PermissionDenied):
        PayrollService(db, SettingsService(db)).run(Month(2026, 12), CLERK)
    PayrollService(db, SettingsService(db)).run(Month(2026, 12), SUP)


def test_only_admin_changes_settings(db):
    settings = SettingsService(db)
    with pytest.raises(PermissionDenied):
        settings.set("bureau_phone", "0482-0000000", SUP)
    settings.set("bureau_phone", "0482-0000000", ADMIN)
    assert SettingsService(db).get("bureau_phone") == "0482-0000000"


def test_matrix_is_complete_and_monotonic():
    # whatever a clerk may do, a supervisor may; whatever a supervisor may do, an admin may
    for action in MATRIX:
        if allowed("clerk", action):
            assert allowed("supervisor", action)
        if allowed("supervisor", action):
            assert allowed("admin", action)
    assert not allowed("clerk", "death.reverse") and allowed("supervisor", "death.reverse")
    assert len(matrix_rows()) == len(MATRIX)
