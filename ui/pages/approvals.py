"""待审核: resumptions after a suspension of more than 12 months wait for a supervisor's approval
(the counter receipt tells the resident so). The signed-in supervisor approves with their own
identity; clerks see the list and a clear message."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.platform.workstation import Actor
from ui.models.table import Column, RowTableModel
from ui.pages.bureau_common import error_text, yuan
from ui.pages.common import heading, hint, make_table
from ui.workers import run_in_background

SENIOR = ("supervisor", "admin")


class ApprovalsPage(QWidget):
    person_requested = Signal(str)
    finished = Signal(str)  # "loaded" | "approved" | "failed" (tests wait on it)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.backend = None
        self.actor: Actor | None = None
        self.operator_name = ""
        self.title = heading("待审核", self)
        self.summary = QLabel("", self)
        self.summary.setObjectName("summary")
        self.message = QLabel("", self)
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        self.model = RowTableModel([
            Column("姓名", lambda a: a.name), Column("身份证号码", lambda a: a.masked_id),
            Column("认证对象", lambda a: a.cohort_zh), Column("事项", lambda a: a.kind_zh, align_center=True),
            Column("暂停起始", lambda a: a.suspended_from or "—"), Column("认证日期", lambda a: a.certified_on or "—"),
            Column("补发月份", lambda a: a.months_text), Column("补发金额（元）", lambda a: yuan(a.back_pay_amount)),
            Column("发放月份", lambda a: a.payroll_month), Column("等待审核自", lambda a: a.waiting_since or "—"),
            Column("经办", lambda a: a.requested_by or "—"),
        ], self)
        self.table = make_table(self.model, self)
        self.table.setObjectName("approvalsTable")
        self.table.doubleClicked.connect(self._open_person)
        self.approve_button = QPushButton("审核通过（本人）", self)
        self.approve_button.setObjectName("primaryButton")
        self.approve_button.clicked.connect(self.approve)
        self.refresh_button = QPushButton("刷新", self)
        self.refresh_button.clicked.connect(self.load)

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.summary)
        top.addWidget(self.refresh_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.approve_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(hint("暂停发放超过12个月后恢复的，须由审核主管核实本人认证记录后审核通过，"
                              "下次发放时才恢复并补发停发期间的待遇（条例第三十七条）。审核以当前登录的主管本人名义记录。", self))
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_role()

    # --- shell hooks -------------------------------------------------------------------------------

    def set_backend(self, backend) -> None:
        self.backend = backend

    def set_operator(self, operator, workstation: str) -> None:
        self.actor = Actor(operator.username, workstation, operator.role)
        self.operator_name = getattr(operator, "display_name", operator.username)
        self._update_role()

    def activated(self) -> None:
        self.load()

    def _may_approve(self) -> bool:
        return self.actor is not None and self.actor.role in SENIOR

    def _update_role(self) -> None:
        if self.actor is None:
            self.message.setText("请先登录。")
        elif self._may_approve():
            self.message.setText(f"审核人：{self.operator_name}（{self.actor.operator}）")
        else:
            self.message.setText("只有审核主管或系统管理员可以审核；您可以查看待审核事项。")
        self.approve_button.setEnabled(self._may_approve())

    # --- data --------------------------------------------------------------------------------------

    def load(self) -> None:
        if self.backend is None or self.backend.services is None:
            return
        svc = self.backend.services.approvals
        run_in_background(svc.pending, self._loaded, self._failed, owner=self)

    def _loaded(self, items) -> None:
        self.model.set_rows(items)
        self.summary.setText(f"{len(items)} 项待审核" if items else "没有待审核事项")
        self.finished.emit("loaded")

    def _failed(self, exc) -> None:
        self.message.setText(f"未完成：{error_text(exc)}")
        self.finished.emit("failed")

    def _current(self):
        idx = self.table.currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    def _open_person(self, *_):
        item = self._current()
        if item is not None:
            self.person_requested.emit(item.person_id)

    def approve(self) -> None:
        item = self._current()
        if item is None:
            self.message.setText("请先在列表中选择一项。")
            return
        if not self._may_approve():
            self._update_role()
            return
        svc, actor = self.backend.services.approvals, self.actor
        self.approve_button.setEnabled(False)
        run_in_background(lambda: svc.approve(item.event_id, actor), lambda ok: self._approved(item, ok),
                          self._failed_approve, owner=self)

    def _approved(self, item, ok: bool) -> None:
        self._update_role()
        self.message.setText(f"已审核通过：{item.name}（{item.cohort_zh}），下次发放时恢复并补发。" if ok
                             else f"{item.name} 的恢复发放已由其他主管审核。")
        self.finished.emit("approved")
        self.load()

    def _failed_approve(self, exc) -> None:
        self._update_role()
        self._failed(exc)


PAGE_SPEC = {"key": "approvals", "title": "待审核", "shortcut": None, "order": 41, "cls": ApprovalsPage}
