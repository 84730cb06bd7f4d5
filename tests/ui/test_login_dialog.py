"""Login at the counter (pytest-qt, offscreen), driven through ``ui.app.start_counter`` with a real
MainWindow and a real SQLite database: the first start shows admin's one-time password and forces
a password change; wrong passwords lock the account after 5 tries; a clerk signs in and works.
Set CERTDESK_SCREENSHOTS=1 to save screenshots/login-*.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from counter_start import make_services, start, stop, submit
from desktop.services.operators import AuthError
from desktop.platform.workstation import Actor

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
SHOTS = os.environ.get("CERTDESK_SCREENSHOTS")
ADMIN = Actor("system", "ws-test", "admin")


def shot(widget, name):
    if SHOTS:
        (ROOT / "screenshots").mkdir(exist_ok=True)
        widget.grab().save(str(ROOT / "screenshots" / f"{name}.png"))


@pytest.fixture
def services(tmp_path):
    services = make_services(tmp_path / "login.sqlite")
    yield services
    services.db.dispose()


@pytest.fixture
def counter(qtbot, styled_qapp, services, no_dangling_threads):
    made = []

    def open_window(**kw):
        window, backend = start(qtbot, styled_qapp, services, **kw)
        made.append(window)
        return window

    yield open_window
    for window in made:
        stop(window, styled_qapp)


def audit(services, action):
    with services.db.engine.connect() as conn:
        return conn.execute(text("select operator, workstation, detail from audit_log where action = :a order by seq"),
                            {"a": action}).all()


def test_first_start_one_time_password_and_forced_change(qtbot, services, counter, styled_qapp):
    from ui.dialogs.login import ChangePasswordDialog
    from desktop.platform.workstation import workstation_id

    pw = services.operators.ensure_admin(workstation_id())
    assert pw and services.operators.ensure_admin(workstation_id()) is None  # only on the very first start
    window = counter(first_start_password=pw)
    login = window._login
    qtbot.waitExposed(login)
    assert login.isVisible() and login.isModal()
    assert styled_qapp.activeModalWidget() is login  # the window cannot be used before a login
    shown = " ".join(lab.text() for lab in login.findChildren(type(login.error)))
    assert pw in shown and "admin" in shown and "只显示一次" in shown
    assert login.username.text() == "admin"
    for lab in login.findChildren(type(login.error)):  # nothing clipped: the whole password is readable
        if lab.isVisible() and lab.text():
            assert lab.width() >= lab.minimumSizeHint().width(), lab.text()
    shot(login, "login-first-start")

    submit(qtbot, login, "admin", pw)
    change = login.findChild(ChangePasswordDialog)
    assert change is not None and change.isVisible(), "a first login must go to the password change"
    assert login.operator is None and "系统管理员" not in window.date_label.text()
    assert login.error.text() == ""  # no stale "正在验证…" behind the change dialog
    assert change.old.isHidden()  # the one-time password was just typed: not asked again

    def set_new(a, b=None):
        change.new1.setText(a)
        change.new2.setText(a if b is None else b)
        change.ok_button.click()
        qtbot.waitUntil(change.ok_button.isEnabled, timeout=10_000)

    change.new1.setText("Abcd12345")
    change.new2.setText("Abcd12346")
    change.ok_button.click()
    assert "不一致" in change.error.text()
    set_new("ab12")
    assert change.error.text() == "密码至少需要8位" and change.isVisible()
    set_new("abcdefghij")
    assert change.error.text() == "密码必须同时包含字母和数字" and change.isVisible()
    set_new(pw)
    assert "不能与原密码相同" in change.error.text()
    assert services.operators.get("admin").must_change_password
    shot(change, "login-change-password")

    with qtbot.waitSignal(login.logged_in, timeout=10_000) as signed:
        change.new1.setText("Counter2026x")
        change.new2.setText("Counter2026x")
        change.ok_button.click()
    assert signed.args[0].username == "admin" and not signed.args[0].must_change_password
    qtbot.waitUntil(lambda: not login.isVisible(), timeout=5000)
    assert window.isEnabled() and styled_qapp.activeModalWidget() is None
    assert "系统管理员（系统管理员）" in window.date_label.text()
    assert window.extra_pages["counter"].operator.username == "admin"
    # stored: the new password works, the one-time one no longer does
    assert not services.operators.get("admin").must_change_password
    assert services.operators.login("admin", "Counter2026x", "ws-test").username == "admin"
    with pytest.raises(AuthError):
        services.operators.login("admin", pw, "ws-test")
    assert [r.operator for r in audit(services, "operator.change_password")] == ["admin"]


def test_wrong_passwords_lock_the_account_after_five(qtbot, services, counter):
    services.operators.create("zhangmin", "张敏", "clerk", "Clerk2026x", ADMIN, must_change=False)
    window = counter()
    login = window._login
    qtbot.waitExposed(login)
    assert login.username.text() == ""  # not the first start: no admin pre-filled, no password shown
    assert "临时密码" not in " ".join(lab.text() for lab in login.findChildren(type(login.error)))

    login.username.setText("")
    login.password.setText("x")
    login.ok_button.click()
    assert login.error.text() == "请输入用户名和密码"

    submit(qtbot, login, "nobody", "Whatever123")
    assert login.error.text() == "用户名或密码错误"
    for left in (4, 3, 2, 1):
        submit(qtbot, login, "zhangmin", "wrong-pass1")
        assert login.error.text() == f"用户名或密码错误（再错{left}次将锁定15分钟）"
        assert login.isVisible() and login.operator is None
    submit(qtbot, login, "zhangmin", "wrong-pass1")
    assert login.error.text() == "密码连续错误5次，账号已锁定15分钟"
    shot(login, "login-locked")
    # the right password is refused while locked, with the time left
    submit(qtbot, login, "zhangmin", "Clerk2026x")
    assert "账号已锁定" in login.error.text() and "分钟后再试" in login.error.text()
    assert login.isVisible() and login.operator is None
    assert "张敏" not in window.date_label.text()
    assert services.operators.get("zhangmin").locked_until is not None
    reasons = [r.detail for r in audit(services, "login.failed") if r.operator == "zhangmin"]
    assert len(reasons) == 6 and '"locked"' in reasons[-1]
    # an admin lifts the lock: the clerk can sign in again
    services.operators.unlock("zhangmin", ADMIN)
    with qtbot.waitSignal(login.logged_in, timeout=10_000):
        submit(qtbot, login, "zhangmin", "Clerk2026x")


def test_clerk_signs_in_and_the_window_works_under_that_name(qtbot, services, counter, styled_qapp):
    services.operators.create("zhangmin", "张敏", "clerk", "Clerk2026x", ADMIN, must_change=False)
    window = counter()
    login = window._login
    qtbot.waitExposed(login)
    assert styled_qapp.activeModalWidget() is login
    with qtbot.waitSignal(login.logged_in, timeout=10_000) as signed:
        submit(qtbot, login, "zhangmin", "Clerk2026x")
    op = signed.args[0]
    assert (op.username, op.role, op.must_change_password) == ("zhangmin", "clerk", False)
    qtbot.waitUntil(lambda: not login.isVisible(), timeout=5000)
    assert window.isEnabled() and styled_qapp.activeModalWidget() is None
    assert "张敏（经办员）" in window.date_label.text() and "2026-11-29" in window.date_label.text()
    page = window.extra_pages["counter"]
    assert page.operator.username == "zhangmin" and "张敏" in page.operator_label.text()
    assert page.actor.operator == "zhangmin" and page.actor.role == "clerk"
    # the idle lock now runs with the bureau's setting (5 minutes by default)
    timer = window._idle_watcher._timer
    assert timer.isActive() and timer.interval() == 5 * 60_000
    ok = audit(services, "login.ok")
    assert [r.operator for r in ok] == ["zhangmin"] and ok[0].workstation == page.workstation
