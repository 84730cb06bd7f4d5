"""Idle lock at the counter (pytest-qt, offscreen): ``ui.idle.IdleWatcher`` with a short timeout,
wired by ``ui.app.start_counter`` to a real MainWindow and database. The screen locks when idle,
input keeps it open, only the operator's own password unlocks it (or another operator signs in),
and it never locks during a resident's face check. CERTDESK_SCREENSHOTS=1 saves screenshots/lock-screen.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit
from sqlalchemy import text

from counter_start import make_services, start, stop, submit
from desktop.platform.workstation import Actor

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Actor("system", "ws-test", "admin")
SHORT = 0.005  # minutes: 300 ms


@pytest.fixture
def services(tmp_path):
    services = make_services(tmp_path / "idle.sqlite")
    ops = services.operators
    ops.create("zhangmin", "张敏", "clerk", "Clerk2026x", ADMIN, must_change=False)
    ops.create("lizr", "李主任", "supervisor", "Super2026x", ADMIN, must_change=False)
    ops.create("newbie", "王新", "clerk", "Newbie2026", ADMIN, must_change=True)
    yield services
    services.db.dispose()


@pytest.fixture
def signed_in(qtbot, styled_qapp, services, no_dangling_threads):
    """The window after 张敏 signed in through the login dialog."""
    window, _ = start(qtbot, styled_qapp, services)
    login = window._login
    qtbot.waitExposed(login)
    with qtbot.waitSignal(login.logged_in, timeout=10_000):
        submit(qtbot, login, "zhangmin", "Clerk2026x")
    qtbot.waitUntil(lambda: not login.isVisible(), timeout=5000)
    yield window
    stop(window, styled_qapp)


def lock_screen(window):
    from ui.dialogs.login import LockScreen

    shown = [d for d in window.findChildren(LockScreen) if d.isVisible()]
    assert len(shown) <= 1, "never two lock screens"
    return shown[0] if shown else None


def test_watcher_fires_after_idle_and_input_restarts_it(qtbot, styled_qapp):
    from ui.idle import IdleWatcher

    fired = []
    target = QLineEdit()
    qtbot.addWidget(target)
    target.show()
    watcher = IdleWatcher(styled_qapp, lambda: fired.append(1))
    try:
        watcher.start(SHORT)
        for _ in range(8):  # 1.2 s of typing, every 150 ms: never idle for 300 ms
            qtbot.wait(150)
            QTest.keyClick(target, Qt.Key.Key_A)
        assert fired == [] and len(target.text()) == 8
        qtbot.waitUntil(lambda: fired == [1], timeout=2000)  # input stops: it fires once
        qtbot.wait(500)
        assert fired == [1], "single shot until started again"
        watcher.start(SHORT)
        for _ in range(4):  # mouse clicks count as input too
            qtbot.wait(150)
            QTest.mouseClick(target, Qt.MouseButton.LeftButton)
        assert fired == [1]
        qtbot.waitUntil(lambda: fired == [1, 1], timeout=2000)
        watcher.start(0)  # 0 minutes disables the lock
        qtbot.wait(500)
        assert fired == [1, 1]
    finally:
        watcher.start(0)
        styled_qapp.removeEventFilter(watcher)


def test_idle_locks_and_only_the_operators_password_unlocks(qtbot, signed_in, services):
    window = signed_in
    assert lock_screen(window) is None
    window._idle_watcher.start(SHORT)
    qtbot.waitUntil(lambda: lock_screen(window) is not None, timeout=3000)
    lock = lock_screen(window)
    assert lock.isModal() and "张敏（经办员）" in " ".join(lab.text() for lab in lock.findChildren(type(lock.error)))
    assert lock.username.text() == "zhangmin"
    if os.environ.get("CERTDESK_SCREENSHOTS"):
        (ROOT / "screenshots").mkdir(exist_ok=True)
        lock.grab().save(str(ROOT / "screenshots" / "lock-screen.png"))
    # Esc does not unlock
    QTest.keyClick(lock, Qt.Key.Key_Escape)
    assert lock.isVisible()
    # the idle timer fires again while locked: still one lock screen
    qtbot.wait(700)
    assert lock_screen(window) is lock

    submit(qtbot, lock, "zhangmin", "not-my-pass1")
    assert "用户名或密码错误" in lock.error.text() and lock.isVisible()
    assert lock.password.text() == ""  # cleared for the next try
    with qtbot.waitSignal(lock.unlocked, timeout=10_000) as got:
        submit(qtbot, lock, "zhangmin", "Clerk2026x")
    assert got.args[0].username == "zhangmin"
    qtbot.waitUntil(lambda: lock_screen(window) is None, timeout=5000)
    assert "张敏（经办员）" in window.date_label.text()
    with services.db.engine.connect() as conn:
        rows = conn.execute(text("select action from audit_log where operator = 'zhangmin' and action like 'unlock.%' "
                                 "order by seq")).scalars().all()
    assert rows == ["unlock.failed", "unlock.ok"]
    # unlocking restarts the idle lock with the bureau setting
    assert window._idle_watcher._timer.isActive() and window._idle_watcher._timer.interval() == 5 * 60_000


def test_lock_button_and_another_operator_takes_over(qtbot, signed_in, services):
    window = signed_in
    page = window.extra_pages["counter"]
    page.lock_requested.emit()  # 锁屏 Ctrl+L on the counter page
    qtbot.waitUntil(lambda: lock_screen(window) is not None, timeout=3000)
    lock = lock_screen(window)
    # another clerk's wrong password does not get in either
    submit(qtbot, lock, "lizr", "Clerk2026x")
    assert lock.isVisible() and "用户名或密码错误" in lock.error.text()
    with qtbot.waitSignal(lock.unlocked, timeout=10_000):
        submit(qtbot, lock, "lizr", "Super2026x")
    qtbot.waitUntil(lambda: lock_screen(window) is None, timeout=5000)
    assert "李主任（审核主管）" in window.date_label.text()
    assert page.operator.username == "lizr" and "李主任" in page.operator_label.text()
    assert page.actor.role == "supervisor"


def test_another_operator_who_must_change_password_changes_it_first(qtbot, signed_in, services):
    from ui.dialogs.login import ChangePasswordDialog

    window = signed_in
    page = window.extra_pages["counter"]
    page.lock_requested.emit()
    qtbot.waitUntil(lambda: lock_screen(window) is not None, timeout=3000)
    lock = lock_screen(window)
    submit(qtbot, lock, "newbie", "Newbie2026")
    change = lock.findChild(ChangePasswordDialog)
    assert change is not None and change.isVisible(), "a temporary password must be changed, as at login"
    assert page.operator.username == "zhangmin" and lock.isVisible()
    with qtbot.waitSignal(lock.unlocked, timeout=10_000):
        change.new1.setText("Fresh2026x")
        change.new2.setText("Fresh2026x")
        change.ok_button.click()
    qtbot.waitUntil(lambda: lock_screen(window) is None, timeout=5000)
    assert page.operator.username == "newbie"
    assert not services.operators.get("newbie").must_change_password


def test_never_locks_during_a_face_check(qtbot, signed_in):
    window = signed_in
    page = window.extra_pages["counter"]
    page._set_state("face")
    window._idle_watcher.start(SHORT)
    qtbot.wait(1000)  # more than three timeouts without input
    assert lock_screen(window) is None
    page.lock_requested.emit()  # not even Ctrl+L in the middle of the resident's check
    assert lock_screen(window) is None
    page._set_state("recording")
    qtbot.wait(500)
    assert lock_screen(window) is None
    # once the check is over the counter still locks, without anyone touching it
    page._set_state("done")
    qtbot.waitUntil(lambda: lock_screen(window) is not None, timeout=3000)


def test_empty_unlock_does_not_count_as_a_wrong_password(qtbot, signed_in, services):
    window = signed_in
    window.extra_pages["counter"].lock_requested.emit()
    qtbot.waitUntil(lambda: lock_screen(window) is not None, timeout=3000)
    lock = lock_screen(window)
    for _ in range(6):
        lock.password.clear()
        lock.ok_button.click()
    assert lock.error.text() == "请输入用户名和密码" and lock.isVisible()
    with services.db.engine.connect() as conn:
        assert conn.execute(text("select failed_attempts from operators where username = 'zhangmin'")).scalar() == 0


@pytest.fixture
def counter_window(qtbot, styled_qapp, services, no_dangling_threads):
    """As ``run_gui`` does it: the window gets its back end (with the demo devices), then 张敏 signs in."""
    window, backend = start(qtbot, styled_qapp, services)
    window.set_backend(backend)
    login = window._login
    with qtbot.waitSignal(login.logged_in, timeout=10_000):
        submit(qtbot, login, "zhangmin", "Clerk2026x")
    qtbot.waitUntil(lambda: not login.isVisible(), timeout=5000)
    window.show_page("counter")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    yield window
    window.extra_pages["counter"].shutdown()
    stop(window, styled_qapp)


def test_the_lock_screen_shows_nothing_of_the_last_resident(qtbot, counter_window):
    """Issue 19 §4: behind the lock dialog, no name, masked number or amount is left on screen,
    and a card put down meanwhile waits for the clerk."""
    from PySide6.QtWidgets import QLabel

    from desktop.domain import idnumber

    window = counter_window
    page = window.extra_pages["counter"]
    qtbot.waitUntil(lambda: page.reader_ok, timeout=5000)
    reader = page.bridge.session.reader
    card = reader.place_card(0)
    qtbot.waitUntil(lambda: page.state in ("not_found", "person"), timeout=5000)
    secrets = (card.name, idnumber.mask(card.id_number))

    def on_screen():
        return " ".join(lab.text() for lab in window.findChildren(QLabel)
                        if lab.window() is window and lab.isVisible())

    assert any(s in on_screen() for s in secrets)
    QTest.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: lock_screen(window) is not None, timeout=3000)
    assert window.curtain.isVisible() and not window.stack.isVisible() and not window.nav.isVisible()
    assert not any(s in on_screen() for s in secrets), on_screen()
    reader.remove_card()
    qtbot.wait(200)
    reader.place_card(1)  # someone puts a card down while the clerk is away
    qtbot.wait(500)
    assert page.state in ("not_found", "person") and page.card.id_number == card.id_number
    lock = lock_screen(window)
    with qtbot.waitSignal(lock.unlocked, timeout=10_000):
        submit(qtbot, lock, "zhangmin", "Clerk2026x")
    assert window.stack.isVisible() and not window.curtain.isVisible()
    assert "重新放置" in page.banner.text()


def test_settings_has_a_shortcut_on_every_page(qtbot, counter_window):
    from PySide6.QtWidgets import QApplication

    from ui.dialogs.settings_dialog import SettingsDialog

    window = counter_window
    window.show_search()

    def settings_dialog():
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, SettingsDialog) and w.isVisible()),
                    None)

    QTest.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: settings_dialog() is not None, timeout=3000)
    settings_dialog().reject()
    qtbot.waitUntil(lambda: settings_dialog() is None, timeout=3000)
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: settings_dialog() is not None, timeout=3000)
    assert "Ctrl+," in window.settings_button.text()
    settings_dialog().reject()
