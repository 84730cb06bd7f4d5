"""The sync status widget never blocks the GUI; the visits page books, schedules and closes."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime

import pytest

from desktop.errors import SyncError
from desktop.services.sync import OnlineMonitor, SyncResult


class FakeSync:
    """Stands in for SyncService: slow, and offline until told otherwise."""

    def __init__(self, delay=0.3):
        self.online = False
        self.delay = delay
        self.calls = 0
        self.release = threading.Event()

    def sync_once(self):
        self.calls += 1
        time.sleep(self.delay)
        if not self.online:
            raise SyncError("无法连接中心数据库", code="offline")
        return SyncResult(2, 3, (), waiting=0)

    def waiting(self):
        return 5


def _monitor(**kw):
    return OnlineMonitor(interval=60, base=0.05, cap=0.2, jitter=0.0, **kw)


def test_offline_then_online_without_blocking(qtbot):
    from ui.widgets.sync_status import SyncStatusWidget

    svc = FakeSync()
    w = SyncStatusWidget(svc, _monitor(), tick_ms=20)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.sync_failed, timeout=5000):
        pass
    # The GUI thread kept running while the (slow) attempt ran in the background.
    assert "离线" in w.label.text() and "待上传 5 条" in w.label.text()
    assert w.monitor.failures >= 1
    svc.online = True
    with qtbot.waitSignal(w.sync_finished, timeout=5000) as blocker:
        pass
    assert blocker.args[0].pushed == 2
    qtbot.waitUntil(lambda: w.label.text().startswith("在线"), timeout=2000)
    assert "上次同步" in w.label.text()
    w.stop()


def test_gui_stays_responsive_during_a_slow_sync(qtbot):
    from PySide6.QtCore import QTimer

    from ui.widgets.sync_status import SyncStatusWidget

    svc = FakeSync(delay=1.0)
    svc.online = True
    w = SyncStatusWidget(svc, _monitor(), tick_ms=10)
    qtbot.addWidget(w)
    ticks = []
    t = QTimer()
    t.timeout.connect(lambda: ticks.append(time.monotonic()))
    t.start(20)
    with qtbot.waitSignal(w.sync_finished, timeout=5000):
        qtbot.waitUntil(lambda: w.busy, timeout=2000)
        assert "正在同步" in w.label.text()
    t.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 20 and max(gaps) < 0.5
    w.stop()


def test_no_central_configured(qtbot):
    from ui.widgets.sync_status import SyncStatusWidget

    w = SyncStatusWidget(None)
    qtbot.addWidget(w)
    assert "未配置" in w.label.text() and not w.timer.isActive()


def test_backoff_grows_and_resets():
    clock = [0.0]
    m = OnlineMonitor(interval=30, base=2, cap=60, jitter=0.0, clock=lambda: clock[0],
                      now=lambda: datetime(2026, 11, 29, 9, 0))
    delays = [m.failed("x") for _ in range(7)]
    assert delays == [2, 4, 8, 16, 32, 60, 60]
    assert m.snapshot().offline_since == datetime(2026, 11, 29, 9, 0)
    assert not m.due()
    m.poke()
    assert m.due()
    m.succeeded(0)
    assert m.failures == 0 and m.seconds_until_due() == 30
    jittered = OnlineMonitor(base=10, jitter=0.2)
    assert all(8 <= jittered.delay_after_failure(1) <= 12 for _ in range(50))


def test_visits_page_book_schedule_close(qtbot, tmp_path):
    import csv

    from desktop.services.imports import ROSTER_COLUMNS
    from desktop.platform.workstation import Actor

    ACTOR = Actor("test", "ws-test")

    def write_roster(path, rows):
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(ROSTER_COLUMNS)
            w.writerows(rows)
        return path

    from desktop.domain.idnumber import make_number
    from desktop.services.database import Database
    from desktop.services.imports import ImportService
    from desktop.services.persons import PersonService
    from desktop.services.visits import VisitService
    from ui import workers
    from ui.pages.visits_page import VisitsPage

    number = make_number("152202", date(1940, 5, 1), 7)
    roster = write_roster(tmp_path / "r.csv", [["张桂兰", number, "企业离退休人员", "2020-01-01", "2025-12-20", "",
                                                "阿尔山市林海街道", "本地", ""]])
    db = Database.open(str(tmp_path / "v.sqlite"))
    ImportService(db).import_roster(roster, Actor("sup", "ws-test", "supervisor"), today=date(2026, 11, 29))
    page = VisitsPage(VisitService(db, PersonService(db)), PersonService(db), ACTOR, today=date(2026, 11, 29))
    qtbot.addWidget(page)
    page.id_edit.setText(number)
    page.address_edit.setText("阿尔山市林海街道3号")
    page.book()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    assert page.table.item(0, 5).text() == "已预约"
    assert number not in page.table.item(0, 1).text()  # masked
    page.table.selectRow(0)
    page.staff_edit.setText("wang")
    page.schedule()
    qtbot.waitUntil(lambda: page.table.item(0, 5).text() == "已排班", timeout=5000)
    page.table.selectRow(0)
    page.close_visit("not_at_home")
    qtbot.waitUntil(lambda: page.table.item(0, 5).text() == "未遇到本人", timeout=5000)
    assert workers.wait_for_idle(5000)
    db.dispose()
