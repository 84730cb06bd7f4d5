"""The pages plugged into the main window act as the signed-in operator, and a broken audit chain
is shown to everyone and raised with a supervisor."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import text

from desktop.services.hub import Services
from ui.models.backend import Backend

from tests.ui.conftest import AS_OF


@dataclass
class Op:
    username: str
    role: str
    display_name: str = "测试"
    role_zh: str = "经办员"


@pytest.fixture
def services(sample_db):
    return Services(sample_db)


def test_forms_and_visits_pages_are_built_for_the_signed_in_operator(qtbot, styled_qapp, services):
    from ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    backend = Backend(services.persons, services.lists, AS_OF, False, "test", services)
    window.set_backend(backend)
    forms, visits = window.extra_pages["forms"], window.extra_pages["visits"]
    assert forms.inner is None and visits.inner is None  # nothing before sign-in
    forms.set_operator(Op("zhangmin", "clerk"), "ws-1")
    visits.set_operator(Op("zhangmin", "clerk"), "ws-1")
    assert forms.inner.actor.operator == "zhangmin" and forms.inner.actor.workstation == "ws-1"
    assert forms.inner.operators is services.operators  # given by the composition root, not built
    assert visits.inner.actor.role == "clerk"
    forms.set_operator(Op("lizr", "supervisor"), "ws-1")  # another operator unlocks the screen
    assert forms.inner.actor.operator == "lizr" and forms.inner.actor.role == "supervisor"
    window.show_page("forms")
    assert window.stack.currentWidget() is forms
    keys = [window.nav.item(i).data(256) for i in range(window.nav.count())]
    assert keys[0] == "counter" and keys.index("search") < keys.index("forms")
    from ui import workers

    assert workers.wait_for_idle(10_000)


def test_broken_audit_chain_warns_supervisors_only(qtbot, styled_qapp, services, monkeypatch):
    from ui.audit_watch import AuditWatch
    from ui.main_window import MainWindow
    from ui import workers

    with services.db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET operator='x' WHERE seq=(SELECT min(seq) FROM audit_log)"))
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    window = MainWindow()
    qtbot.addWidget(window)
    watch = AuditWatch(window, services)
    watch.signed_in(Op("zhangmin", "clerk"))
    watch.start()
    qtbot.waitUntil(lambda: watch.result is not None, timeout=10_000)
    assert not watch.result.ok and watch.label.isVisibleTo(window)
    assert warnings == []  # a clerk sees the status-bar notice, not the dialog
    watch.signed_in(Op("lizr", "supervisor"))
    assert len(warnings) == 1 and "哈希链" in warnings[0]
    watch.signed_in(Op("lizr", "supervisor"))
    assert len(warnings) == 1  # once per supervisor
    assert workers.wait_for_idle(10_000)


def test_lists_refresh_themselves_when_shown(qtbot, styled_qapp, services):
    """Issue 19 §4: the forms tracking tab is filled when the page is shown, not after 刷新."""
    from ui import workers
    from ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.set_backend(Backend(services.persons, services.lists, AS_OF, False, "test", services))
    forms, visits = window.extra_pages["forms"], window.extra_pages["visits"]
    forms.set_operator(Op("zhangmin", "clerk"), "ws-1")
    visits.set_operator(Op("zhangmin", "clerk"), "ws-1")
    assert forms.inner.track_label.text() == ""
    window.show_page("forms")
    qtbot.waitUntil(lambda: forms.inner.track_label.text().startswith("共"), timeout=10_000)
    called = []
    visits.inner.refresh = lambda: called.append(1)
    window.show_page("visits")
    assert called == [1]
    assert workers.wait_for_idle(10_000)
