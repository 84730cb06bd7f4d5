"""同步冲突: cases raised by sync (a certification after a centrally reported death, the same new
person created on two workstations, rows the local database refused) and uploads the central
database refused. A supervisor resolves a case with a note (audited, synced) and can retry the
refused uploads once the cause is fixed."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from desktop.platform.workstation import Actor
from ui.models.table import Column, RowTableModel
from ui.pages.bureau_common import error_text
from ui.pages.common import row_of, heading, hint, make_table
from ui.workers import run_in_background

SENIOR = ("supervisor", "admin")
STATUS_FILTER = [("待处理", "open"), ("已处理", "resolved"), ("全部", None)]


def _when(v) -> str:
    return v.strftime("%Y-%m-%d %H:%M") if v else "—"


class SyncConflictsPage(QWidget):
    person_requested = Signal(str)
    finished = Signal(str)  # "loaded" | "resolved" | "retried" | "failed"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.backend = None
        self.actor: Actor | None = None
        self.title = heading("同步冲突", self)
        self.summary = QLabel("", self)
        self.summary.setObjectName("summary")
        self.status = QComboBox(self)
        for text, code in STATUS_FILTER:
            self.status.addItem(text, code)
        self.status.currentIndexChanged.connect(self.load)
        self.message = QLabel("", self)
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        self.model = RowTableModel([
            Column("类型", lambda c: c.kind_zh), Column("姓名", lambda c: c.name),
            Column("身份证号码", lambda c: c.masked_id), Column("工作站", lambda c: c.workstation or "—"),
            Column("发现时间", lambda c: _when(c.created_at)),
            Column("状态", lambda c: "待处理" if c.status == "open" else f"已处理（{c.resolved_by or '—'}）", align_center=True),
            Column("说明", lambda c: c.summary_zh),
        ], self)
        self.table = make_table(self.model, self)
        self.table.setObjectName("conflictsTable")
        self.table.clicked.connect(self._selected)
        self.table.doubleClicked.connect(self._open_person)
        self.detail = QLabel("选择一个案件查看详情。", self)
        self.detail.setWordWrap(True)
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("处理说明（必填），如：已在中心撤销错误的死亡登记")
        self.resolve_button = QPushButton("标记为已处理", self)
        self.resolve_button.setObjectName("primaryButton")
        self.resolve_button.clicked.connect(self.resolve)
        self.refused_label = QLabel("", self)
        self.retry_button = QPushButton("重试被拒绝的上传", self)
        self.retry_button.clicked.connect(self.retry)

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.summary)
        top.addWidget(self.status)
        act = QHBoxLayout()
        act.addWidget(self.note, 1)
        act.addWidget(self.resolve_button)
        refused = QHBoxLayout()
        refused.addWidget(self.refused_label, 1)
        refused.addWidget(self.retry_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(hint("中心登记死亡后仍有认证的，以死亡登记为准并停发，需主管核实；同一新人员在两台工作站"
                              "分别建档的，同步时已并入中心记录。处理结果记入审计日志并同步到各工作站。", self))
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(act)
        layout.addLayout(refused)
        self._update_role()

    def set_backend(self, backend) -> None:
        self.backend = backend

    def set_operator(self, operator, workstation: str) -> None:
        self.actor = Actor(operator.username, workstation, operator.role)
        self._update_role()

    def activated(self) -> None:
        self.load()

    @property
    def service(self):
        return self.backend.services.sync_conflicts

    def _senior(self) -> bool:
        return self.actor is not None and self.actor.role in SENIOR

    def _update_role(self) -> None:
        senior = self._senior()
        for w in (self.note, self.resolve_button, self.retry_button):
            w.setEnabled(senior)
        if self.actor is None:
            self.message.setText("请先登录。")
        elif not senior:
            self.message.setText("只有审核主管或系统管理员可以处理同步冲突；您可以查看。")
        elif self.message.text().startswith(("请先登录", "只有审核主管")):
            self.message.setText("")

    def load(self) -> None:
        if self.backend is None or self.backend.services is None:
            return
        svc, status = self.service, self.status.currentData()
        run_in_background(lambda: (svc.cases(status), svc.refused_count()), self._loaded, self._failed, owner=self)

    def _loaded(self, result) -> None:
        cases, refused = result
        self.model.set_rows(cases)
        self.summary.setText(f"{len(cases)} 个案件")
        self.refused_label.setText(f"中心拒绝的上传：{refused} 条" + ("（原因排除后可重试）" if refused else ""))
        self.retry_button.setEnabled(self._senior() and refused > 0)
        self._selected()
        self.finished.emit("loaded")

    def _failed(self, exc) -> None:
        self.message.setText(f"未完成：{error_text(exc)}")
        self._update_role()
        self.finished.emit("failed")

    def _current(self):
        idx = self.table.currentIndex()
        return row_of(self.table, idx.row()) if idx.isValid() else None

    def _selected(self, *_):
        c = self._current()
        if c is None:
            self.detail.setText("选择一个案件查看详情。")
            return
        text = f"{c.kind_zh} · {c.name}（{c.masked_id}）：{c.summary_zh}"
        if c.status != "open":
            text += f"\n处理人：{c.resolved_by or '—'}，{_when(c.resolved_at)}。{c.note}"
        self.detail.setText(text)

    def _open_person(self, *_):
        c = self._current()
        if c is not None and c.person_id:
            self.person_requested.emit(c.person_id)

    def resolve(self) -> None:
        c = self._current()
        if c is None:
            self.message.setText("请先在列表中选择一个案件。")
            return
        if not self._senior():
            self._update_role()
            return
        svc, actor, note = self.service, self.actor, self.note.text()
        run_in_background(lambda: svc.resolve(c.id, note, actor), lambda ok: self._resolved(c, ok), self._failed,
                          owner=self)

    def _resolved(self, case, ok: bool) -> None:
        self.message.setText(f"已处理：{case.kind_zh}（{case.name}）" if ok else "该案件已由他人处理。")
        self.note.clear()
        self.finished.emit("resolved")
        self.load()

    def retry(self) -> None:
        if not self._senior():
            self._update_role()
            return
        svc, actor = self.service, self.actor
        run_in_background(lambda: svc.retry_refused(actor), self._retried, self._failed, owner=self)

    def _retried(self, n: int) -> None:
        self.message.setText(f"已安排重试 {n} 条上传，下次同步时重新上传。")
        self.finished.emit("retried")
        self.load()


PAGE_SPEC = {"key": "conflicts", "title": "同步冲突", "shortcut": None, "order": 42, "cls": SyncConflictsPage}
