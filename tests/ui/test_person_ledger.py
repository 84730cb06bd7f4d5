"""The person page shows the payment ledger as a month strip (issue 14)."""

from __future__ import annotations

from datetime import date

import pytest

from desktop.domain.months import Month
from desktop.services.database import Database
from desktop.services.imports import ImportService
from desktop.platform.workstation import Actor

pytestmark = pytest.mark.gui

ADMIN = Actor("admin", "ws-test", "admin")


def _write(path, rows):
    import csv

    from desktop.services.imports import ROSTER_COLUMNS

    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        w.writerows(rows)
    return path


@pytest.fixture
def ledger_db(tmp_path):
    from desktop.domain.idnumber import make_number
    from desktop.services.payroll import PayrollService
    from desktop.services.settings import SettingsService
    from desktop.services.persons import PersonService

    number = make_number("152202", date(1950, 3, 1), 7)
    roster = _write(tmp_path / "r.csv", [["包·其其格", number, "企业离退休人员", "2010-01-01", "2025-03-15",
                                          "13900000000", "阿尔山市林海街道", "本地", "1000"]])
    db = Database.open(str(tmp_path / "db.sqlite"))
    assert not ImportService(db).import_roster(roster, ADMIN, today=date(2026, 3, 1)).rejected
    pay = PayrollService(db, SettingsService(db))
    pay.run(Month(2026, 4), ADMIN)  # suspended from April
    pay.run(Month(2026, 5), ADMIN)
    people = PersonService(db)
    pid = people.show(number, date(2026, 5, 20)).id
    # an on-time 手机认证 arrives late; the June run back-pays April and May
    people.record_certification(pid, date(2026, 3, 14), "mobile_app", ADMIN, today=date(2026, 5, 20))
    pay.run(Month(2026, 6), ADMIN)
    yield db, pid
    db.dispose()


def test_strip_shows_withheld_months_back_paid(qtbot, styled_qapp, no_dangling_threads, ledger_db):
    from desktop.services.hub import Services
    from ui.models.backend import Backend
    from ui.pages.person import PersonPage

    db, pid = ledger_db
    services = Services(db)
    backend = Backend(services.persons, services.lists, date(2026, 6, 10), False, "test", services)
    page = PersonPage()
    qtbot.addWidget(page)
    page.set_backend(backend)
    page.resize(1024, 700)
    page.show()
    page.show_person(pid)
    qtbot.waitUntil(lambda: len(page.ledger_strips()) == 1, timeout=10_000)
    (strip,) = page.ledger_strips()
    states = {c.property("month"): c.property("state") for c in strip.cells}
    assert states["2026-03"] == "ok"
    assert states["2026-04"] == "back_paid" and states["2026-05"] == "back_paid"
    assert states["2026-06"] == "ok"
    assert "2026-07" not in states  # June is the latest run and this month
    cell = next(c for c in strip.cells if c.property("month") == "2026-04")
    assert "已发" not in cell.toolTip().split("\n")[2] and "补发（2026-06 发放月）" in cell.toolTip()
    assert strip.totals.text() == "无待补发、无待追回"
    assert len(strip.cells) <= 24
    # it fits a 1024-pixel window without a horizontal scroll bar
    assert strip.sizeHint().width() <= 1024 - 48
