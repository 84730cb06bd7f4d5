"""Screenshots of the administration pages (operators, approvals, sync conflicts) on small real
databases built through the services. Only with CERTDESK_SCREENSHOTS=1 (saves screenshots/*.png);
the pages' behaviour is tested in test_operators_page / test_approvals_page / test_sync_conflicts_page."""

from __future__ import annotations

import csv
import json
import os
from datetime import date, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from desktop.domain.idnumber import make_number
from desktop.domain.months import Month
from desktop.services.database import Database
from desktop.services.hub import Services
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.services.operators import OperatorService
from desktop.platform.workstation import Actor

pytestmark = [pytest.mark.gui,
              pytest.mark.skipif(not os.environ.get("CERTDESK_SCREENSHOTS"), reason="CERTDESK_SCREENSHOTS not set")]

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 29)
OFFICE = Actor("office", "ws-test", "admin")


def roster(tmp_path, rows):
    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        w.writerows(rows)
    return path


def show(qtbot, page, backend, operator, name):
    from ui import workers

    qtbot.addWidget(page)
    page.set_backend(backend)
    page.resize(1200, 640)
    page.show()
    page.set_operator(operator, "ws-test")
    with qtbot.waitSignal(page.finished, timeout=10_000):
        page.activated()
    if hasattr(page, "table") and page.model.rowCount():
        page.table.selectRow(0)
    qtbot.wait(100)
    (ROOT / "screenshots").mkdir(exist_ok=True)
    page.grab().save(str(ROOT / "screenshots" / f"{name}.png"))
    assert workers.wait_for_idle(10_000)


def test_operators_page_shot(qtbot, styled_qapp, tmp_path):
    from ui.models.backend import Backend
    from ui.pages.operators import OperatorsPage

    db = Database.open(str(tmp_path / "db.sqlite"))
    services = Services(db)
    services.__dict__["operators"] = OperatorService(db, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    ops = services.operators
    ops.create("boss", "张管理", "admin", "Admin2026x", OFFICE, must_change=False)
    ops.create("zhangmin", "张敏", "clerk", "Clerk2026x", OFFICE, must_change=False)
    ops.create("lizr", "李主任", "supervisor", "Super2026x", OFFICE, must_change=False)
    ops.create("wangxin", "王新", "clerk", "Newbie2026", OFFICE, must_change=True)
    for _ in range(5):
        try:
            ops.login("zhangmin", "wrong-pass1", "ws-test")
        except Exception:  # noqa: BLE001 - locking the account for the picture
            pass
    backend = Backend(services.persons, services.lists, AS_OF, False, "test", services)
    show(qtbot, OperatorsPage(), backend, ops.get("boss"), "operators")
    db.dispose()


def test_approvals_page_shot(qtbot, styled_qapp, tmp_path):
    from types import SimpleNamespace

    from ui.models.backend import Backend
    from ui.pages.approvals import ApprovalsPage

    number = make_number("152202", date(1950, 3, 1), 7)
    path = roster(tmp_path, [["久停恢复", number, "企业离退休人员", "2010-01-01", "2024-01-15", "13911110007", "林海街道7号",
                              "本地", "2000"]])
    db = Database.open(str(tmp_path / "db.sqlite"))
    assert not ImportService(db).import_roster(path, OFFICE, today=date(2024, 12, 1)).rejected
    services = Services(db)
    services.payroll.run(Month.parse("2025-02"), OFFICE)
    pid = services.persons.show(number, date(2026, 3, 5)).id
    services.persons.record_certification(pid, date(2026, 3, 5), "counter", OFFICE, today=date(2026, 3, 5))
    services.payroll.run(Month.parse("2026-04"), OFFICE)
    backend = Backend(services.persons, services.lists, AS_OF, False, "test", services)
    show(qtbot, ApprovalsPage(), backend, SimpleNamespace(username="lizr", role="supervisor", display_name="李主任"),
         "approvals")
    db.dispose()


def test_sync_conflicts_page_shot(qtbot, styled_qapp, tmp_path):
    from types import SimpleNamespace

    from ui.models.backend import Backend
    from ui.pages.sync_conflicts import SyncConflictsPage

    number = make_number("152202", date(1950, 3, 1), 9)
    path = roster(tmp_path, [["死后认证", number, "企业离退休人员", "2010-01-01", "2026-01-15", "13911110009", "林海街道9号",
                              "本地", "2000"]])
    db = Database.open(str(tmp_path / "db.sqlite"))
    assert not ImportService(db).import_roster(path, OFFICE, today=AS_OF).rejected
    services = Services(db)
    pid = services.persons.show(number, AS_OF).id
    detail = {"certification_id": "c1", "cert_date": "2026-11-20", "death_date": "2026-11-02", "method": "counter",
              "certified_by": "clerk-b", "certified_at": "ws-b"}
    with db.engine.begin() as conn:
        conn.execute(text("insert into sync_conflicts (id, kind, entity, entity_id, person_id, detail, workstation, status, "
                          "created_at, updated_at) values ('k1', 'certified_after_death', 'certifications', 'c1', :p, :d, "
                          "'ws-b', 'open', :t, :t)"), {"p": pid, "d": json.dumps(detail), "t": datetime(2026, 11, 28, 9)})
        conn.execute(text("insert into outbox (id, entity, entity_id, op, created_at, push_error) values "
                          "('o1', 'person', :p, 'upsert', :t, 'IntegrityError')"), {"p": pid, "t": datetime(2026, 11, 28)})
    backend = Backend(services.persons, services.lists, AS_OF, False, "test", services)
    show(qtbot, SyncConflictsPage(), backend, SimpleNamespace(username="lizr", role="supervisor", display_name="李主任"),
         "sync-conflicts")
    db.dispose()
