"""操作员管理: the system administrator lists, creates, deactivates / reactivates, unlocks staff
accounts and resets their passwords; every signed-in operator can change their own password here.

Only admins may act — the service enforces it (and audits a refusal); for others the page says
so and disables the controls.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QVBoxLayout, QWidget)

from desktop.domain.labels import MIN_LENGTH, ROLE_ZH, ROLES
from desktop.platform.workstation import Actor
from ui.models.table import Column, RowTableModel
from ui.pages.bureau_common import error_text
from ui.pages.common import row_of, heading, hint, make_table
from ui.workers import run_in_background

def one_time_password() -> str:
    """A random first password (the service's generator, imported when a clerk asks for one)."""
    from desktop.services.operators import one_time_password as generate

    return generate()


RULES_ZH = f"密码至少{MIN_LENGTH}位，须同时包含字母和数字，不能与用户名相同。"


def _locked(op) -> str:
    """Stored in UTC (naive); shown in the workstation's local time."""
    if not op.locked_until:
        return "—"
    from datetime import timezone

    return op.locked_until.replace(tzinfo=timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")


class OperatorsPage(QWidget):
    finished = Signal(str)  # "loaded" | "created" | "changed" | "failed" (tests wait on it)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.backend = None
        self.actor: Actor | None = None
        self.operator = None
        self.workstation = ""
        self.title = heading("操作员管理", self)
        self.summary = QLabel("", self)
        self.summary.setObjectName("summary")
        self.message = QLabel("请先登录。", self)
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.model = RowTableModel([
            Column("用户名", lambda o: o.username), Column("姓名", lambda o: o.display_name),
            Column("角色", lambda o: o.role_zh), Column("状态", lambda o: "启用" if o.active else "已停用", align_center=True),
            Column("锁定至", _locked, align_center=True),
            Column("需修改密码", lambda o: "是" if o.must_change_password else "否", align_center=True),
        ], self)
        self.table = make_table(self.model, self)
        self.table.setObjectName("operatorsTable")
        self.table.clicked.connect(self._selected)

        # create an account
        self.create_box = QGroupBox("添加工作人员账号", self)
        f = QFormLayout(self.create_box)
        self.new_username = QLineEdit(self.create_box)
        self.new_username.setPlaceholderText("字母、数字、下划线，2-32位")
        self.new_name = QLineEdit(self.create_box)
        self.new_role = QComboBox(self.create_box)
        for code in ROLES:
            self.new_role.addItem(ROLE_ZH[code], code)
        self.new_password = QLineEdit(self.create_box)
        self.new_password.setPlaceholderText("初始密码（首次登录须修改）")
        self.generate_button = QPushButton("生成", self.create_box)
        self.generate_button.clicked.connect(lambda: self.new_password.setText(one_time_password()))
        pw_row = QHBoxLayout()
        pw_row.addWidget(self.new_password, 1)
        pw_row.addWidget(self.generate_button)
        self.create_button = QPushButton("添加账号", self.create_box)
        self.create_button.setObjectName("primaryButton")
        self.create_button.clicked.connect(self.create)
        f.addRow("用户名", self.new_username)
        f.addRow("姓名", self.new_name)
        f.addRow("角色", self.new_role)
        f.addRow("初始密码", pw_row)
        f.addRow("", QLabel(RULES_ZH, self.create_box))
        f.addRow("", self.create_button)

        # act on the selected account
        self.account_box = QGroupBox("所选账号", self)
        g = QFormLayout(self.account_box)
        self.selected_label = QLabel("请在列表中选择一个账号。", self.account_box)
        self.selected_label.setWordWrap(True)
        self.toggle_button = QPushButton("停用账号", self.account_box)
        self.toggle_button.clicked.connect(self.toggle_active)
        self.unlock_button = QPushButton("解除锁定", self.account_box)
        self.unlock_button.clicked.connect(self.unlock)
        self.reset_password = QLineEdit(self.account_box)
        self.reset_password.setPlaceholderText("留空则自动生成临时密码")
        self.reset_button = QPushButton("重置密码", self.account_box)
        self.reset_button.clicked.connect(self.reset)
        g.addRow(self.selected_label)
        g.addRow("", self.toggle_button)
        g.addRow("", self.unlock_button)
        g.addRow("临时密码", self.reset_password)
        g.addRow("", self.reset_button)

        # own password
        self.own_box = QGroupBox("本人", self)
        h = QVBoxLayout(self.own_box)
        self.me_label = QLabel("", self.own_box)
        self.change_button = QPushButton("修改密码", self.own_box)
        self.change_button.clicked.connect(self.change_own_password)
        h.addWidget(self.me_label)
        h.addWidget(self.change_button)

        side = QVBoxLayout()
        side.addWidget(self.create_box)
        side.addWidget(self.account_box)
        side.addWidget(self.own_box)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.table, 3)
        body.addLayout(side, 2)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(hint("每位工作人员使用本人账号登录，所有操作记录经办人和工作站。连续输错密码"
                              "5次锁定15分钟；新账号和重置后的密码须在首次登录时修改。", self))
        layout.addWidget(self.message)
        layout.addLayout(body, 1)
        self._update_role()

    # --- shell hooks -------------------------------------------------------------------------------

    def set_backend(self, backend) -> None:
        self.backend = backend

    def set_operator(self, operator, workstation: str) -> None:
        self.operator, self.workstation = operator, workstation
        self.actor = Actor(operator.username, workstation, operator.role)
        self._update_role()

    def activated(self) -> None:
        self.load()

    @property
    def service(self):
        return self.backend.services.operators

    def is_admin(self) -> bool:
        return self.actor is not None and self.actor.role == "admin"

    def _update_role(self) -> None:
        admin = self.is_admin()
        for w in (self.create_box, self.account_box):
            w.setEnabled(admin)
        self.change_button.setEnabled(self.operator is not None)
        if self.operator is None:
            self.me_label.setText("未登录")
            self.message.setText("请先登录。")
            return
        role_zh = ROLE_ZH.get(self.operator.role, self.operator.role)
        self.me_label.setText(f"当前登录：{self.operator.display_name}（{self.operator.username}，{role_zh}）")
        if not admin:
            self.message.setText("只有系统管理员可以添加、停用账号或重置密码。您可以在此修改本人密码。")
        elif self.message.text() in ("请先登录。", "") or self.message.text().startswith("只有系统管理员"):
            self.message.setText("")

    # --- list --------------------------------------------------------------------------------------

    def load(self) -> None:
        if self.backend is None or self.backend.services is None:
            return
        svc = self.service
        run_in_background(svc.list, self._loaded, self._failed, owner=self)

    def _loaded(self, ops) -> None:
        current = self._current()
        self.model.set_rows(ops)
        active = sum(1 for o in ops if o.active)
        self.summary.setText(f"共 {len(ops)} 个账号，启用 {active} 个")
        if current is not None:
            for i, o in enumerate(ops):
                if o.username == current.username:
                    self.table.selectRow(i)
                    break
        self._selected()
        self.finished.emit("loaded")

    def _failed(self, exc) -> None:
        self.message.setText(f"未完成：{error_text(exc)}")
        self._update_buttons()
        self.finished.emit("failed")

    def _current(self):
        idx = self.table.currentIndex()
        return row_of(self.table, idx.row()) if idx.isValid() else None

    def _selected(self, *_):
        op = self._current()
        if op is None:
            self.selected_label.setText("请在列表中选择一个账号。")
        else:
            state = "启用" if op.active else "已停用"
            locked = f"，锁定至 {_locked(op)}" if op.locked_until else ""
            self.selected_label.setText(f"{op.display_name}（{op.username}，{op.role_zh}）：{state}{locked}")
        self._update_buttons()

    def _update_buttons(self) -> None:
        op = self._current()
        self.toggle_button.setText("重新启用" if op is not None and not op.active else "停用账号")
        for b in (self.toggle_button, self.unlock_button, self.reset_button):
            b.setEnabled(op is not None)
        if op is not None and self.actor is not None and op.username.lower() == self.actor.operator.lower():
            self.toggle_button.setEnabled(False)  # never lock oneself out
        self.create_button.setEnabled(True)

    # --- admin actions -----------------------------------------------------------------------------

    def _run(self, fn, done_text, kind="changed") -> None:
        if not self.is_admin():
            self._update_role()
            return
        for b in (self.create_button, self.toggle_button, self.unlock_button, self.reset_button):
            b.setEnabled(False)

        def ok(_result):
            self.message.setText(done_text)
            self.finished.emit(kind)
            self.load()

        run_in_background(fn, ok, self._failed, owner=self)

    def create(self) -> None:
        username, name = self.new_username.text().strip(), self.new_name.text().strip()
        role, pw = self.new_role.currentData(), self.new_password.text()
        if not username or not pw:
            self.message.setText("请填写用户名和初始密码。")
            return
        svc, actor = self.service, self.actor
        self._run(lambda: svc.create(username, name or username, role, pw, actor, must_change=True),
                  f"已添加账号 {username}（{ROLE_ZH[role]}），初始密码：{pw}。请当面告知本人，首次登录须修改密码。",
                  "created")
        self.new_username.clear()
        self.new_name.clear()
        self.new_password.clear()

    def toggle_active(self) -> None:
        op = self._current()
        if op is None:
            return
        svc, actor, active = self.service, self.actor, not op.active
        self._run(lambda: svc.set_active(op.username, active, actor),
                  f"已{'重新启用' if active else '停用'}账号 {op.username}。")

    def unlock(self) -> None:
        op = self._current()
        if op is None:
            return
        svc, actor = self.service, self.actor
        self._run(lambda: svc.unlock(op.username, actor), f"已解除账号 {op.username} 的锁定。")

    def reset(self) -> None:
        op = self._current()
        if op is None:
            return
        pw = self.reset_password.text() or one_time_password()
        svc, actor = self.service, self.actor
        self._run(lambda: svc.reset_password(op.username, pw, actor),
                  f"已重置 {op.username} 的密码，临时密码：{pw}。请当面告知本人，下次登录须修改密码。")
        self.reset_password.clear()

    # --- own password ------------------------------------------------------------------------------

    def change_own_password(self) -> None:
        if self.operator is None or self.backend is None:
            return
        from ui.dialogs.login import ChangePasswordDialog

        self.change_dialog = ChangePasswordDialog(self.service, self.operator.username, self.workstation, parent=self)
        self.change_dialog.changed.connect(self._own_changed)
        self.change_dialog.open()

    def _own_changed(self, op) -> None:
        self.operator = op
        self.message.setText("本人密码已修改。")
        self.finished.emit("changed")
        self.load()


PAGE_SPEC = {"key": "operators", "title": "操作员管理", "shortcut": None, "order": 40, "cls": OperatorsPage}
