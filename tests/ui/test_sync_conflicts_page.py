"""SyncConflictsPage (pytest-qt, offscreen): open cases listed with masked numbers; a supervisor
resolves one with a note (audited, queued); refused uploads are retried."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from desktop.domain.idnumber import make_number
from desktop.services.database import Database
from desktop.services.hub import Services
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.platform.workstation import Actor

AS_OF = date(2026, 11, 29)
NUMBER = make_number("152202", date(1950, 3, 1), 9)


@pytest.fixture
def backend(tmp_path):
    from ui.models.backend import Backend

    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        w.writerow(["死后认证", NUMBER, "企业离退休人员", "2010-01-01", "2026-01-15", "13911110009", "林海街道9号", "本地", "2000"])
    db = Database.open(str(tmp_path / "db.sqlite"))
    assert not ImportService(db).import_roster(path, Actor("office", "ws", "admin"), today=AS_OF).rejected
    services = Services(db)
    pid = services.persons.show(NUMBER, AS_OF).id
    detail = {"certification_id": "c1", "cert_date": "2026-11-20", "death_date": "2026-11-02", "method": "counter",
              "certified_by": "clerk-b", "certified_at": "ws-b"}
    with db.engine.begin() as conn:
        conn.execute(text("insert into sync_conflicts (id, kind, entity, entity_id, person_id, detail, workstation, status, "
                          "created_at, updated_at) values ('k1', 'certified_after_death', 'certifications', 'c1', :p, :d, "
                          "'ws-b', 'open', :t, :t)"), {"p": pid, "d": json.dumps(detail), "t": datetime(2026, 11, 28, 9)})
        conn.execute(text("insert into outbox (id, entity, entity_id, op, created_at, push_error) values "
                          "('o1', 'person', :p, 'upsert', :t, 'IntegrityError')"), {"p": pid, "t": datetime(2026, 11, 28)})
    yield Backend(services.persons, services.lists, AS_OF, False, "test", services)
    db.dispose()


@pytest.fixture
def page(qtbot, backend, styled_qapp):
    from ui import workers
    from ui.pages.sync_conflicts import SyncConflictsPage

    p = SyncConflictsPage()
    qtbot.addWidget(p)
    p.set_backend(backend)
    p.resize(1200, 600)
    p.show()
    yield p
    assert workers.wait_for_idle(10_000)


def sign_in(qtbot, page, username, role):
    page.set_operator(SimpleNamespace(username=username, role=role, display_name=username), "ws-test")
    with qtbot.waitSignal(page.finished, timeout=10_000):
        page.activated()


def test_supervisor_resolves_with_note_and_retries(qtbot, page, backend):
    sign_in(qtbot, page, "sup1", "supervisor")
    assert page.model.rowCount() == 1
    cells = [page.model.data(page.model.index(0, c)) for c in range(page.model.columnCount())]
    assert cells[0] == "死亡后仍有认证" and cells[1] == "死后认证"
    assert NUMBER not in "".join(cells) and "*" in cells[2]
    assert "2026-11-02" in cells[6]
    assert "1 条" in page.refused_label.text() and page.retry_button.isEnabled()
    page.table.selectRow(0)
    page._selected()
    with qtbot.waitSignal(page.finished, timeout=10_000, check_params_cb=lambda s: s == "failed"):
        page.resolve_button.click()  # a note is required
    assert "处理说明" in page.message.text()
    page.note.setText("民政数据有误，已在中心撤销死亡登记")
    with qtbot.waitSignal(page.finished, timeout=10_000, check_params_cb=lambda s: s == "resolved"):
        page.resolve_button.click()
    qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=10_000)
    with qtbot.waitSignal(page.finished, timeout=10_000, check_params_cb=lambda s: s == "retried"):
        page.retry_button.click()
    qtbot.waitUntil(lambda: "0 条" in page.refused_label.text(), timeout=10_000)
    with backend.services.db.engine.connect() as conn:
        row = conn.execute(text("select status, resolved_by, resolved_at, detail from sync_conflicts")).one()
        assert row[0] == "resolved" and row[1] == "sup1" and row[2] is not None
        assert json.loads(row[3])["resolution_note"] == "民政数据有误，已在中心撤销死亡登记"
        assert conn.execute(text("select count(*) from audit_log where action='sync.conflict_resolved' "
                                 "and operator='sup1'")).scalar() == 1
        assert conn.execute(text("select count(*) from outbox where entity='sync_conflict' and entity_id='k1'")).scalar() == 1
        assert conn.execute(text("select count(*) from outbox where push_error is not null")).scalar() == 0
    page.status.setCurrentIndex(1)  # 已处理
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)


def test_clerk_sees_cases_but_cannot_resolve(qtbot, page, backend):
    sign_in(qtbot, page, "clerk1", "clerk")
    assert page.model.rowCount() == 1
    assert not page.resolve_button.isEnabled() and not page.retry_button.isEnabled()
    assert "只有审核主管或系统管理员" in page.message.text()


def test_page_plugs_into_the_main_window():
    from ui.main_window import discover_pages

    spec = next(s for s in discover_pages() if s["key"] == "conflicts")
    assert spec["title"] == "同步冲突" and spec["order"] == 42
