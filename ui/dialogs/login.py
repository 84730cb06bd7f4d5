"""登录 / 修改密码 / 锁屏: an operator signs in with a personal account before the window is usable.

All password checks run through :func:`ui.workers.run_in_background` (argon2 takes a moment).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout)

from ui.workers import run_in_background

DIALOG_CSS = """
QDialog { background: #ffffff; }
QLabel#dlgTitle { font-size: 20pt; font-weight: bold; color: #1f3a5f; }
QLabel#dlgSub { font-size: 12pt; color: #52606d; }
QLabel#dlgError { color: #b23c17; font-weight: bold; font-size: 12pt; }
QLabel#dlgInfo { background: #fff4e0; color: #8a4b00; border: 1px solid #fbd38d; border-radius: 6px; padding: 8px; }
QPushButton#primaryButton { background: #2d5282; color: #ffffff; border-color: #2d5282; font-size: 14pt; padding: 8px 26px; }
"""


def _title(text: str, sub: str = "") -> QVBoxLayout:
    box = QVBoxLayout()
    t = QLabel(text)
    t.setObjectName("dlgTitle")
    box.addWidget(t)
    if sub:
        s = QLabel(sub)
        s.setObjectName("dlgSub")
        s.setWordWrap(True)
        box.addWidget(s)
    return box


class LoginDialog(QDialog):
    """Emits ``logged_in(OperatorView)`` once the password is right (and changed, if it must be)."""

    logged_in = Signal(object)

    def __init__(self, operators, workstation: str, *, bureau: str = "", first_start_password: str | None = None,
                 demo_hint: str = "", parent=None):
        super().__init__(parent)
        self.operators = operators
        self.workstation = workstation
        self.operator = None
        self.setWindowTitle("登录 · 社保待遇资格认证柜台系统")
        self.setModal(True)
        self.setStyleSheet(DIALOG_CSS)
        self.setMinimumWidth(520)
        self.username = QLineEdit(self)
        self.username.setPlaceholderText("用户名")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("密码")
        self.error = QLabel("", self)
        self.error.setObjectName("dlgError")
        self.error.setWordWrap(True)
        self.ok_button = QPushButton("登录", self)
        self.ok_button.setObjectName("primaryButton")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.submit)
        cancel = QPushButton("退出", self)
        cancel.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(36, 30, 36, 26)
        layout.addLayout(_title("社保待遇资格认证柜台系统", bureau or "请使用本人工作账号登录"))
        if first_start_password:
            info = QLabel(f"首次使用：已创建系统管理员账号 <b>admin</b>，临时密码 <b>{first_start_password}</b>"
                          "<br>登录后须立即修改密码。请妥善保管，本提示只显示一次。", self)
            info.setObjectName("dlgInfo")
            info.setWordWrap(True)  # the whole password must be readable, never clipped
            info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(info)
            self.username.setText("admin")
        if demo_hint:
            info = QLabel(demo_hint, self)
            info.setObjectName("dlgInfo")
            info.setWordWrap(True)
            layout.addWidget(info)
        form = QFormLayout()
        form.addRow("用户名", self.username)
        form.addRow("密码", self.password)
        layout.addLayout(form)
        layout.addWidget(self.error)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(cancel)
        row.addWidget(self.ok_button)
        layout.addLayout(row)
        (self.password if self.username.text() else self.username).setFocus()

    def submit(self) -> None:
        user, pw = self.username.text().strip(), self.password.text()
        if not user or not pw:
            self.error.setText("请输入用户名和密码")
            return
        self.ok_button.setEnabled(False)
        self.error.setText("正在验证…")
        run_in_background(lambda: self.operators.login(user, pw, self.workstation),
                          lambda op: self._ok(op, pw), self._failed, owner=self)

    def _failed(self, exc) -> None:
        self.ok_button.setEnabled(True)
        self.error.setText(getattr(exc, "message_zh", str(exc)))
        self.password.selectAll()
        self.password.setFocus()

    def _ok(self, op, pw: str) -> None:
        self.ok_button.setEnabled(True)
        self.error.setText("")  # not a stale "正在验证…" behind the password change
        if op.must_change_password:
            self.change = ChangePasswordDialog(self.operators, op.username, self.workstation, old_password=pw,
                                               parent=self)
            self.change.changed.connect(self._finish)
            self.change.open()
            return
        self._finish(op)

    def _finish(self, op) -> None:
        self.operator = op
        self.logged_in.emit(op)
        self.accept()


class ChangePasswordDialog(QDialog):
    changed = Signal(object)

    def __init__(self, operators, username: str, workstation: str, *, old_password: str = "", parent=None):
        super().__init__(parent)
        self.operators, self.username, self.workstation = operators, username, workstation
        self.setWindowTitle("修改密码")
        self.setStyleSheet(DIALOG_CSS)
        self.setModal(True)
        self.old = QLineEdit(self)
        self.old.setEchoMode(QLineEdit.EchoMode.Password)
        self.old.setText(old_password)
        self.new1 = QLineEdit(self)
        self.new1.setEchoMode(QLineEdit.EchoMode.Password)
        self.new2 = QLineEdit(self)
        self.new2.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel("", self)
        self.error.setObjectName("dlgError")
        self.error.setWordWrap(True)
        self.ok_button = QPushButton("确定", self)
        self.ok_button.setObjectName("primaryButton")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.submit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(30, 24, 30, 20)
        layout.addLayout(_title("请设置新密码", "至少8位，须同时包含字母和数字；不能与用户名相同。"))
        form = QFormLayout()
        if not old_password:
            form.addRow("原密码", self.old)
        else:
            self.old.hide()
        form.addRow("新密码", self.new1)
        form.addRow("再次输入", self.new2)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.ok_button, 0, Qt.AlignmentFlag.AlignRight)
        self.new1.setFocus()

    def submit(self) -> None:
        if self.new1.text() != self.new2.text():
            self.error.setText("两次输入的新密码不一致")
            return
        old, new = self.old.text(), self.new1.text()
        self.ok_button.setEnabled(False)
        run_in_background(lambda: self.operators.change_password(self.username, old, new, self.workstation),
                          self._ok, self._failed, owner=self)

    def _failed(self, exc) -> None:
        self.ok_button.setEnabled(True)
        self.error.setText(getattr(exc, "message_zh", str(exc)))

    def _ok(self, op) -> None:
        self.changed.emit(op)
        self.accept()


class LockScreen(QDialog):
    """屏幕已锁定: covers the window after idle time; the same operator unlocks with the password,
    or another operator signs in (the counter then works under that operator)."""

    unlocked = Signal(object)

    def __init__(self, operators, operator, workstation: str, parent=None):
        super().__init__(parent)
        self.operators, self.operator, self.workstation = operators, operator, workstation
        self.setWindowTitle("屏幕已锁定")
        self.setModal(True)
        self.setWindowFlag(Qt.WindowType.WindowCloseButtonHint, False)
        self.setStyleSheet(DIALOG_CSS + "QDialog { background: #1f3a5f; } QLabel#dlgTitle, QLabel#dlgSub { color: #ffffff; }")
        self.username = QLineEdit(operator.username, self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("请输入密码解锁")
        self.error = QLabel("", self)
        self.error.setObjectName("dlgError")
        self.error.setStyleSheet("color: #fbd38d;")
        self.error.setWordWrap(True)
        self.ok_button = QPushButton("解锁", self)
        self.ok_button.setObjectName("primaryButton")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.submit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 34, 40, 30)
        layout.addLayout(_title("屏幕已锁定", f"当前工作人员：{operator.display_name}（{operator.role_zh}）。"
                                          "离开柜台时请锁屏（Ctrl+L）。"))
        layout.addWidget(self.username)
        layout.addWidget(self.password)
        layout.addWidget(self.error)
        layout.addWidget(self.ok_button, 0, Qt.AlignmentFlag.AlignRight)
        self.resize(520, 320)
        self.password.setFocus()

    def reject(self) -> None:  # Esc does not unlock
        pass

    def submit(self) -> None:
        user, pw = self.username.text().strip(), self.password.text()
        if not user or not pw:  # an empty Enter must not count towards the lockout
            self.error.setText("请输入用户名和密码")
            return
        self.ok_button.setEnabled(False)
        self.error.setText("")
        run_in_background(lambda: self.operators.verify_password(user, pw, self.workstation),
                          lambda op: self._ok(op, pw), self._failed, owner=self)

    def _failed(self, exc) -> None:
        self.ok_button.setEnabled(True)
        self.error.setText(getattr(exc, "message_zh", str(exc)))
        self.password.clear()

    def _ok(self, op, pw: str = "") -> None:
        self.ok_button.setEnabled(True)
        if op.must_change_password:  # another operator on a temporary password: changed first, as at login
            self.change = ChangePasswordDialog(self.operators, op.username, self.workstation, old_password=pw,
                                               parent=self)
            self.change.changed.connect(self._finish)
            self.change.open()
            return
        self._finish(op)

    def _finish(self, op) -> None:
        self.operator = op
        self.unlocked.emit(op)
        self.accept()
