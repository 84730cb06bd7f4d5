"""Operator accounts: argon2 password hashes, roles, lockout, first-start admin, second-officer approval.

Roles are ordered clerk < supervisor < admin: an admin may do what a supervisor may. Every change
and every login attempt is written to the audit log with the operator and the workstation
(条例 第三十八条). Passwords and hashes are never logged.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from db import journal
from db import operators_repo as repo
from db.models import new_id, utcnow
from desktop.errors import PermissionDenied, UserFacingError
from desktop.domain.labels import MIN_LENGTH, ROLE_ZH, ROLES  # noqa: F401 - re-exported; defined there for the pages
from desktop.services.database import Database
from desktop.platform.workstation import Actor

MAX_FAILURES = 5
LOCK_MINUTES = 15
ADMIN_USERNAME = "admin"


class AuthError(UserFacingError):
    """Login refused; ``code`` is one of bad_credentials, locked, inactive, wrong_role, same_officer."""

    code = "auth_failed"


class PasswordRuleError(UserFacingError):
    code = "weak_password"


@dataclass(frozen=True, slots=True)
class OperatorView:
    id: str
    username: str
    display_name: str
    role: str
    active: bool
    must_change_password: bool
    locked_until: datetime | None = None

    @property
    def role_zh(self) -> str:
        return ROLE_ZH.get(self.role, self.role)

    def actor(self, workstation: str) -> Actor:
        return Actor(self.username, workstation, self.role)

    def can(self, role: str) -> bool:
        return role_rank(self.role) >= role_rank(role)


def role_rank(role: str) -> int:
    return ROLES.index(role) if role in ROLES else -1


def check_password_rules(password: str, username: str = "") -> None:
    """≥ 8 characters, at least one letter and one digit, not the user name."""
    if len(password or "") < MIN_LENGTH:
        raise PasswordRuleError(f"密码至少需要{MIN_LENGTH}位")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise PasswordRuleError("密码必须同时包含字母和数字")
    if username and password.lower() == username.lower():
        raise PasswordRuleError("密码不能与用户名相同")


def one_time_password() -> str:
    alphabet = string.ascii_letters.replace("l", "").replace("I", "").replace("O", "") + "23456789"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(10))
        if re.search(r"[A-Za-z]", pw) and re.search(r"\d", pw):
            return pw


def _view(row: dict) -> OperatorView:
    return OperatorView(row["id"], row["username"], row["display_name"], row["role"], bool(row["active"]),
                        bool(row["must_change_password"]), row["locked_until"])


class OperatorService:
    def __init__(self, db: Database, *, hasher: PasswordHasher | None = None,
                 clock: Callable[[], datetime] = utcnow):
        self.db = db
        self.hasher = hasher or PasswordHasher()
        self.clock = clock

    # --- accounts ------------------------------------------------------------------------------

    def has_operators(self) -> bool:
        with self.db.engine.connect() as conn:
            return repo.count(conn) > 0

    def list(self) -> list[OperatorView]:
        with self.db.engine.connect() as conn:
            return [_view(r) for r in repo.all_operators(conn)]

    def get(self, username: str) -> OperatorView | None:
        with self.db.engine.connect() as conn:
            row = repo.by_username(conn, username)
        return _view(row) if row else None

    def ensure_admin(self, workstation: str, password: str | None = None, *,
                     must_change: bool = True) -> str | None:
        """First start: create ``admin`` with a one-time password it must change at first login
        (``certdesk init --admin-password-stdin`` gives a chosen one, ``must_change=False``).
        Returns that password (to show once), or None when accounts already exist."""
        if self.has_operators():
            return None
        pw = password or one_time_password()
        system = Actor("system", workstation, "admin")
        # not queued for the central database: every workstation's first start makes its own admin
        self._insert(ADMIN_USERNAME, "系统管理员", "admin", pw, system, must_change=must_change or password is None,
                     check_rules=password is not None, queue=False)
        return pw

    def create(self, username: str, display_name: str, role: str, password: str, actor: Actor, *,
               must_change: bool = True) -> OperatorView:
        if role_rank(actor.role) < role_rank("admin"):
            raise PermissionDenied("只有系统管理员可以添加工作人员账号")
        return self._insert(username, display_name, role, password, actor, must_change=must_change)

    def _insert(self, username, display_name, role, password, actor, *, must_change, check_rules=True,
                queue=True) -> OperatorView:
        username = (username or "").strip()
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{2,32}", username):
            raise UserFacingError("用户名只能使用2-32位字母、数字、下划线、点或横线", code="bad_username")
        if role not in ROLES:
            raise UserFacingError(f"未知的角色：{role}", code="bad_role")
        if check_rules:
            check_password_rules(password, username)
        now = self.clock()
        row = {"id": new_id(), "username": username, "display_name": (display_name or username).strip(), "role": role,
               "password_hash": self.hasher.hash(password), "active": True, "failed_attempts": 0,
               "locked_until": None, "must_change_password": must_change, "created_at": now, "updated_at": now}
        with self.db.engine.begin() as conn:
            if repo.by_username(conn, username) is not None:
                raise UserFacingError("该用户名已存在", code="duplicate_username")
            repo.insert(conn, row)
            journal.audit(conn, actor.operator, actor.workstation, "operator.create", "operator", row["id"],
                          {"username": username, "role": role})
            if queue:  # accounts reach the other workstations through the central database
                journal.enqueue(conn, [("operator", row["id"], None)])
        return _view(row)

    def set_active(self, username: str, active: bool, actor: Actor) -> None:
        if role_rank(actor.role) < role_rank("admin"):
            raise PermissionDenied("只有系统管理员可以停用账号")
        with self.db.engine.begin() as conn:
            row = self._row(conn, username)
            repo.update(conn, row["id"], active=active, updated_at=self.clock())
            journal.audit(conn, actor.operator, actor.workstation, "operator.activate" if active else "operator.deactivate",
                          "operator", row["id"], {"username": row["username"]})
            journal.enqueue(conn, [("operator", row["id"], None)])

    def reset_password(self, username: str, new_password: str, actor: Actor) -> None:
        """Admin sets a temporary password; the operator must change it at next login; unlocks."""
        if role_rank(actor.role) < role_rank("admin"):
            raise PermissionDenied("只有系统管理员可以重置密码")
        check_password_rules(new_password, username)
        with self.db.engine.begin() as conn:
            row = self._row(conn, username)
            repo.update(conn, row["id"], password_hash=self.hasher.hash(new_password), must_change_password=True,
                        failed_attempts=0, locked_until=None, updated_at=self.clock())
            journal.audit(conn, actor.operator, actor.workstation, "operator.reset_password", "operator", row["id"],
                          {"username": row["username"]})
            journal.enqueue(conn, [("operator", row["id"], None)])

    def unlock(self, username: str, actor: Actor) -> None:
        """Admin lifts a lockout (too many wrong passwords) without changing the password."""
        if role_rank(actor.role) < role_rank("admin"):
            raise PermissionDenied("只有系统管理员可以解锁账号")
        with self.db.engine.begin() as conn:
            row = self._row(conn, username)
            repo.update(conn, row["id"], failed_attempts=0, locked_until=None, updated_at=self.clock())
            journal.audit(conn, actor.operator, actor.workstation, "operator.unlock", "operator", row["id"],
                          {"username": row["username"]})
            journal.enqueue(conn, [("operator", row["id"], None)])

    def change_password(self, username: str, old_password: str, new_password: str, workstation: str) -> OperatorView:
        check_password_rules(new_password, username)
        if new_password == old_password:
            raise PasswordRuleError("新密码不能与原密码相同")
        view = self._authenticate(username, old_password, workstation, purpose="password.change")
        with self.db.engine.begin() as conn:
            repo.update(conn, view.id, password_hash=self.hasher.hash(new_password), must_change_password=False,
                        updated_at=self.clock())
            journal.audit(conn, view.username, workstation, "operator.change_password", "operator", view.id, None)
            journal.enqueue(conn, [("operator", view.id, None)])
        return OperatorView(view.id, view.username, view.display_name, view.role, view.active, False, None)

    # --- authentication -------------------------------------------------------------------------

    def login(self, username: str, password: str, workstation: str) -> OperatorView:
        """Check the password; after MAX_FAILURES wrong ones the account is locked for LOCK_MINUTES.
        The caller must send the operator to a password change when ``must_change_password``."""
        return self._authenticate(username, password, workstation, purpose="login")

    def verify_password(self, username: str, password: str, workstation: str) -> OperatorView:
        """Unlocking the screen: same checks and lockout as a login."""
        return self._authenticate(username, password, workstation, purpose="unlock")

    def verify_second_officer(self, username: str, password: str, required_role: str = "supervisor", *,
                              workstation: str, first_officer: str | None = None,
                              purpose: str = "approval") -> OperatorView:
        """A second officer approves with their own login: right role, not the clerk who asks."""
        if first_officer and username.strip().lower() == first_officer.strip().lower():
            raise AuthError("审批人不能是经办人本人", code="same_officer")
        view = self._authenticate(username, password, workstation, purpose=purpose)
        if not view.can(required_role):
            with self.db.engine.begin() as conn:
                journal.audit(conn, view.username, workstation, "approval.refused", "operator", view.id,
                              {"purpose": purpose, "reason": "wrong_role", "required": required_role})
            raise AuthError(f"需要{ROLE_ZH.get(required_role, required_role)}及以上权限的人员审批", code="wrong_role")
        return view

    def _row(self, conn, username: str) -> dict:
        row = repo.by_username(conn, username)
        if row is None:
            raise UserFacingError("没有该用户", code="no_such_user")
        return row

    def _authenticate(self, username: str, password: str, workstation: str, *, purpose: str) -> OperatorView:
        """Failures are committed (counter, lock, audit) before the error is raised."""
        now = self.clock()
        error: AuthError | None = None
        with self.db.engine.begin() as conn:
            row = repo.by_username(conn, username or "")
            if row is None:
                journal.audit(conn, None, workstation, f"{purpose}.failed", "operator", None, {"reason": "unknown_user"})
                error = AuthError("用户名或密码错误", code="bad_credentials")
            elif not row["active"]:
                journal.audit(conn, row["username"], workstation, f"{purpose}.failed", "operator", row["id"],
                              {"reason": "inactive"})
                error = AuthError("该账号已停用，请联系系统管理员", code="inactive")
            elif row["locked_until"] is not None and row["locked_until"] > now:
                minutes = max(1, int((row["locked_until"] - now).total_seconds() // 60) + 1)
                journal.audit(conn, row["username"], workstation, f"{purpose}.failed", "operator", row["id"],
                              {"reason": "locked"})
                error = AuthError(f"密码错误次数过多，账号已锁定，请{minutes}分钟后再试", code="locked",
                                  minutes=minutes)
            elif not self._verify(row["password_hash"], password):
                failures = (row["failed_attempts"] or 0) + 1
                locked = failures >= MAX_FAILURES
                values = {"failed_attempts": failures}
                if locked:
                    values = {"failed_attempts": 0, "locked_until": now + timedelta(minutes=LOCK_MINUTES)}
                repo.update(conn, row["id"], **values)
                journal.audit(conn, row["username"], workstation, f"{purpose}.failed", "operator", row["id"],
                              {"reason": "bad_password", "attempt": failures, "locked": locked})
                if locked:
                    error = AuthError(f"密码连续错误{MAX_FAILURES}次，账号已锁定{LOCK_MINUTES}分钟", code="locked",
                                      minutes=LOCK_MINUTES)
                else:
                    left = MAX_FAILURES - failures
                    error = AuthError(f"用户名或密码错误（再错{left}次将锁定{LOCK_MINUTES}分钟）",
                                      code="bad_credentials", attempts_left=left)
            else:
                values = {"failed_attempts": 0, "locked_until": None}
                if self.hasher.check_needs_rehash(row["password_hash"]):
                    values["password_hash"] = self.hasher.hash(password)
                repo.update(conn, row["id"], **values)
                journal.audit(conn, row["username"], workstation, f"{purpose}.ok", "operator", row["id"],
                              {"role": row["role"]})
                row.update(values)
        if error is not None:
            raise error
        return _view(row)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
