"""Operator accounts: argon2 hashes, first-start admin, password rules, lockout, second officer."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from desktop.services.operators import (LOCK_MINUTES, MAX_FAILURES, AuthError, OperatorService, PasswordRuleError,
                                        check_password_rules)
from desktop.platform.workstation import Actor

WS = "ws-1"
ADMIN = Actor("admin", WS, "admin")


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 29, 1, 0, 0)

    def __call__(self):
        return self.now


def test_first_start_creates_admin_with_argon2_and_forced_change(db):
    ops = OperatorService(db)
    assert not ops.has_operators()
    pw = ops.ensure_admin(WS)
    assert pw and len(pw) >= 10
    assert ops.ensure_admin(WS) is None  # only once
    with db.engine.connect() as conn:
        h = conn.execute(text("select password_hash from operators where username='admin'")).scalar()
    assert h.startswith("$argon2id$") and pw not in h
    me = ops.login("admin", pw, WS)
    assert me.role == "admin" and me.must_change_password
    with pytest.raises(PasswordRuleError):
        ops.change_password("admin", pw, "short1", WS)
    me = ops.change_password("admin", pw, "NewSecret2026", WS)
    assert not me.must_change_password
    assert not ops.login("admin", "NewSecret2026", WS).must_change_password
    with pytest.raises(AuthError):
        ops.login("admin", pw, WS)


@pytest.mark.parametrize("pw,ok", [("abc12345", True), ("abcdefgh", False), ("12345678", False), ("ab1", False),
                                   ("zhangmin1", False)])
def test_password_rules(pw, ok):
    if ok:
        check_password_rules(pw, "zhangmin1x")
    else:
        with pytest.raises(PasswordRuleError):
            check_password_rules(pw, "zhangmin1")


def test_lockout_after_five_failures_then_unlocks_after_fifteen_minutes(db, fast_hasher):
    clock = Clock()
    ops = OperatorService(db, hasher=fast_hasher, clock=clock)
    ops.create("zhangmin", "张敏", "clerk", "Counter2026", ADMIN, must_change=False)
    for i in range(MAX_FAILURES - 1):
        with pytest.raises(AuthError) as e:
            ops.login("zhangmin", "wrong-pass1", WS)
        assert e.value.code == "bad_credentials"
    with pytest.raises(AuthError) as e:
        ops.login("zhangmin", "wrong-pass1", WS)
    assert e.value.code == "locked"
    # even the right password is refused while locked
    with pytest.raises(AuthError) as e:
        ops.login("zhangmin", "Counter2026", WS)
    assert e.value.code == "locked"
    clock.now += timedelta(minutes=LOCK_MINUTES, seconds=1)
    assert ops.login("zhangmin", "Counter2026", WS).username == "zhangmin"
    # a success resets the counter
    with pytest.raises(AuthError) as e:
        ops.login("zhangmin", "nope12345", WS)
    assert e.value.data["attempts_left"] == MAX_FAILURES - 1


def test_login_attempts_are_audited_without_passwords(db, fast_hasher):
    ops = OperatorService(db, hasher=fast_hasher)
    ops.create("zhangmin", "张敏", "clerk", "Counter2026", ADMIN, must_change=False)
    with pytest.raises(AuthError):
        ops.login("zhangmin", "Secret-typo9", WS)
    ops.login("zhangmin", "Counter2026", WS)
    with db.engine.connect() as conn:
        rows = conn.execute(text("select operator, workstation, action, detail from audit_log")).all()
    actions = [r.action for r in rows]
    assert "login.failed" in actions and "login.ok" in actions and "operator.create" in actions
    assert all(r.workstation == WS for r in rows)
    blob = " ".join(str(r.detail) for r in rows)
    assert "Counter2026" not in blob and "Secret-typo9" not in blob and "argon2" not in blob


def test_second_officer_needs_own_login_and_supervisor_role(db, fast_hasher):
    ops = OperatorService(db, hasher=fast_hasher)
    ops.create("zhangmin", "张敏", "clerk", "Counter2026", ADMIN, must_change=False)
    ops.create("wangli", "王丽", "clerk", "Counter2027", ADMIN, must_change=False)
    ops.create("lizr", "李主任", "supervisor", "Super2026x", ADMIN, must_change=False)
    with pytest.raises(AuthError) as e:
        ops.verify_second_officer("wangli", "Counter2027", workstation=WS, first_officer="zhangmin")
    assert e.value.code == "wrong_role"
    with pytest.raises(AuthError) as e:
        ops.verify_second_officer("lizr", "bad-password1", workstation=WS, first_officer="zhangmin")
    assert e.value.code == "bad_credentials"
    with pytest.raises(AuthError) as e:
        ops.verify_second_officer("zhangmin", "Counter2026", workstation=WS, first_officer="zhangmin")
    assert e.value.code == "same_officer"
    sup = ops.verify_second_officer("lizr", "Super2026x", workstation=WS, first_officer="zhangmin")
    assert sup.role == "supervisor" and sup.can("supervisor") and not sup.can("admin")
    # an admin may approve too
    admin_pw = "Admin20260"
    ops.create("root2", "管理员", "admin", admin_pw, ADMIN, must_change=False)
    assert ops.verify_second_officer("root2", admin_pw, workstation=WS, first_officer="zhangmin").can("supervisor")


def test_only_admin_manages_accounts_and_inactive_cannot_log_in(db, fast_hasher):
    ops = OperatorService(db, hasher=fast_hasher)
    ops.create("zhangmin", "张敏", "clerk", "Counter2026", ADMIN, must_change=False)
    from desktop.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        ops.create("x1", "X", "clerk", "Counter2026", Actor("zhangmin", WS, "clerk"))
    ops.set_active("zhangmin", False, ADMIN)
    with pytest.raises(AuthError) as e:
        ops.login("zhangmin", "Counter2026", WS)
    assert e.value.code == "inactive"
    ops.set_active("zhangmin", True, ADMIN)
    ops.reset_password("zhangmin", "Temp20261x", ADMIN)
    assert ops.login("zhangmin", "Temp20261x", WS).must_change_password
