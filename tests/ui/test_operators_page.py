"""OperatorsPage (pytest-qt, offscreen): the admin lists, creates, deactivates, unlocks and resets
accounts; a clerk gets a clear message; anyone changes their own password."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from desktop.errors import PermissionDenied
from desktop.services.database import Database
from desktop.services.hub import Services
from desktop.services.operators import AuthError, OperatorService
from desktop.platform.workstation import Actor

AS_OF = date(2026, 11, 29)
WS = "ws-test"
SYSTEM = Actor("system", WS, "admin")


@pytest.fixture
def backend(tmp_path):
    from ui.models.backend import Backend

    db = Database.open(str(tmp_path / "db.sqlite"))
    services = Services(db)
    services.__dict__["operators"] = OperatorService(db, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    ops = services.operators
    ops.create("boss", "张管理", "admin", "Admin2026x", SYSTEM, must_change=False)
    ops.create("li", "李经办", "clerk", "Clerk2026x", SYSTEM, must_change=False)
    yield Backend(services.persons, services.lists, AS_OF, False, "test", services)
    db.dispose()


@pytest.fixture
def page(qtbot, backend, styled_qapp):
    from ui import workers
    from ui.pages.operators import OperatorsPage

    p = OperatorsPage()
    qtbot.addWidget(p)
    p.set_backend(backend)
    p.resize(1280, 760)
    p.show()
    yield p
    assert workers.wait_for_idle(10_000)


def sign_in(qtbot, page, backend, username):
    page.set_operator(backend.services.operators.get(username), WS)
    with qtbot.waitSignal(page.finished, timeout=10_000):
        page.activated()


def select(page, username):
    for i, op in enumerate(page.model.rows()):
        if op.username == username:
            page.table.selectRow(i)
            page._selected()
            return op
    raise AssertionError(username)


def act(qtbot, page, button):
    with qtbot.waitSignal(page.finished, timeout=10_000, check_params_cb=lambda s: s in ("created", "changed", "failed")) as blocker:
        button.click()
    with qtbot.waitSignal(page.finished, timeout=10_000):  # the reload after the change
        pass
    return blocker.args[0]


def cells(page, username):
    i = next(i for i, o in enumerate(page.model.rows()) if o.username == username)
    return [page.model.data(page.model.index(i, c)) for c in range(page.model.columnCount())]


def test_admin_sees_accounts_and_creates_one_that_must_change_password(qtbot, page, backend):
    sign_in(qtbot, page, backend, "boss")
    assert {o.username for o in page.model.rows()} == {"boss", "li"}
    assert cells(page, "li") == ["li", "李经办", "经办员", "启用", "—", "否"]
    assert page.create_box.isEnabled() and "只有系统管理员" not in page.message.text()
    # a weak password is refused with the rule
    page.new_username.setText("wang")
    page.new_name.setText("王主管")
    page.new_role.setCurrentIndex(page.new_role.findData("supervisor"))
    page.new_password.setText("short")
    with qtbot.waitSignal(page.finished, timeout=10_000, check_params_cb=lambda s: s == "failed"):
        page.create_button.click()
    assert "至少需要8位" in page.message.text()
    page.new_username.setText("wang")
    page.new_name.setText("王主管")
    page.generate_button.click()
    initial = page.new_password.text()
    assert len(initial) >= 8
    assert act(qtbot, page, page.create_button) == "created"
    assert initial in page.message.text()
    assert cells(page, "wang") == ["wang", "王主管", "审核主管", "启用", "—", "是"]
    op = backend.services.operators.login("wang", initial, WS)
    assert op.must_change_password and op.role == "supervisor"
    with backend.services.db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from audit_log where action='operator.create' and operator='boss'")).scalar() == 1
        assert conn.execute(text("select count(*) from outbox where entity='operator' and entity_id=:i"), {"i": op.id}).scalar() == 1


def test_admin_deactivates_reactivates_unlocks_and_resets(qtbot, page, backend):
    ops = backend.services.operators
    sign_in(qtbot, page, backend, "boss")
    select(page, "boss")
    assert not page.toggle_button.isEnabled()  # no locking oneself out
    select(page, "li")
    assert page.toggle_button.text() == "停用账号"
    act(qtbot, page, page.toggle_button)
    assert cells(page, "li")[3] == "已停用"
    with pytest.raises(AuthError):
        ops.login("li", "Clerk2026x", WS)
    select(page, "li")
    assert page.toggle_button.text() == "重新启用"
    act(qtbot, page, page.toggle_button)
    assert cells(page, "li")[3] == "启用"

    for _ in range(5):  # locked out
        with pytest.raises(AuthError):
            ops.login("li", "wrong-pass1", WS)
    with qtbot.waitSignal(page.finished, timeout=10_000):
        page.load()
    assert cells(page, "li")[4] != "—"
    select(page, "li")
    act(qtbot, page, page.unlock_button)
    assert cells(page, "li")[4] == "—"
    assert ops.login("li", "Clerk2026x", WS).username == "li"

    select(page, "li")
    page.reset_password.setText("Temp2026ab")
    act(qtbot, page, page.reset_button)
    assert "Temp2026ab" in page.message.text()
    assert cells(page, "li")[5] == "是"
    assert ops.login("li", "Temp2026ab", WS).must_change_password
    with backend.services.db.engine.connect() as conn:
        actions = conn.execute(text("select action from audit_log where operator='boss' and action like 'operator.%' "
                                    "order by seq")).scalars().all()
    assert actions == ["operator.deactivate", "operator.activate", "operator.unlock", "operator.reset_password"]


def test_clerk_gets_a_clear_message_and_the_service_refuses(qtbot, page, backend):
    sign_in(qtbot, page, backend, "li")
    assert not page.create_box.isEnabled() and not page.account_box.isEnabled()
    assert "只有系统管理员" in page.message.text()
    assert page.change_button.isEnabled()
    page.new_username.setText("hacker")
    page.new_password.setText("Hacker2026x")
    page.create()  # even if called directly: nothing happens
    assert backend.services.operators.get("hacker") is None
    with pytest.raises(PermissionDenied):
        backend.services.operators.unlock("boss", Actor("li", WS, "clerk"))


def test_own_password_change(qtbot, page, backend):
    sign_in(qtbot, page, backend, "li")
    page.change_button.click()
    dlg = page.change_dialog
    qtbot.waitUntil(dlg.isVisible, timeout=2000)
    assert dlg.old.isVisible()  # the old password is asked for
    dlg.old.setText("Clerk2026x")
    dlg.new1.setText("Newpass2026")
    dlg.new2.setText("Newpass2026")
    with qtbot.waitSignal(page.finished, timeout=10_000, check_params_cb=lambda s: s == "changed"):
        dlg.ok_button.click()
    assert page.message.text() == "本人密码已修改。"
    assert backend.services.operators.login("li", "Newpass2026", WS).username == "li"


def test_page_plugs_into_the_main_window():
    from ui.main_window import discover_pages

    spec = next(s for s in discover_pages() if s["key"] == "operators")
    assert spec["title"] == "操作员管理" and spec["order"] == 40 and spec["shortcut"] is None
