"""死亡与追回: register a death (stops payment, computes the overpayment), plan and record the
recovery (一次性退回 / 分期 / 抵扣), and — supervisor only — reverse a death recorded in error."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (QComboBox, QDateEdit, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from desktop.domain.labels import METHOD_ZH
from ui.models.table import Column, RowTableModel
from desktop.platform.workstation import Actor
from ui.pages.bureau_common import actor_of, error_text, yuan
from ui.pages.common import heading, hint, make_table
from ui.workers import run_in_background

STATUS_FILTER = [("全部案件", None), ("待追回", "open"), ("追回中", "planned"), ("已追回", "recovered"), ("已撤销", "cancelled")]


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


class RecoveriesPage(QWidget):
    person_requested = Signal(str)
    finished = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.backend = None
        self.actor = None
        self.ready = False
        self._notice = ""  # the outcome of the last action, shown with the reloaded summary
        self.title = heading("死亡登记与多领追回", self)
        self.summary = QLabel("", self)
        self.summary.setObjectName("summary")
        self.status = QComboBox(self)
        for text, code in STATUS_FILTER:
            self.status.addItem(text, code)
        self.status.currentIndexChanged.connect(self.load)

        self.model = RowTableModel([
            Column("姓名", lambda c: c.name), Column("身份证号码", lambda c: c.masked_id),
            Column("认证对象", lambda c: c.cohort_zh),
            Column("死亡日期", lambda c: c.death_date.isoformat() if c.death_date else "（已撤销）"),
            Column("多领月份", lambda c: f"{c.overpaid_months[0]}～{c.overpaid_months[-1]}（{len(c.overpaid_months)}个月）"
                   if c.overpaid_months else "—"),
            Column("多领金额（元）", lambda c: yuan(c.amount)), Column("已追回（元）", lambda c: yuan(c.paid)),
            Column("追回方式", lambda c: c.method_zh), Column("状态", lambda c: c.status_zh, align_center=True),
        ], self)
        self.table = make_table(self.model, self, sortable=False)
        self.table.setObjectName("recoveryTable")
        self.table.clicked.connect(self._selected)
        self.detail = QLabel("选择一个案件查看追回计划。", self)
        self.detail.setWordWrap(True)

        # deaths on file (e.g. from the data exchange) not yet stopped by a payroll run
        self.pending_box = QGroupBox("已有死亡信息、尚未停发的人员", self)
        pv = QVBoxLayout(self.pending_box)
        self.pending_model = RowTableModel([
            Column("姓名", lambda d: d.name), Column("身份证号码", lambda d: d.masked_id),
            Column("死亡日期", lambda d: d.death_date.isoformat() if d.death_date else ""),
            Column("信息来源", lambda d: d.source or ""), Column("待遇", lambda d: "、".join(d.cohorts_zh)),
        ], self.pending_box)
        self.pending_table = make_table(self.pending_model, self.pending_box, sortable=False)
        self.pending_table.setObjectName("pendingDeathTable")
        self.pending_table.setMaximumHeight(180)
        self.process_button = QPushButton("立即终止并计算多领", self.pending_box)
        self.process_button.setObjectName("processDeathButton")
        self.process_button.clicked.connect(self.process_pending)
        pv.addWidget(hint("民政等数据比对导入的死亡信息只记录了死亡日期，下次发放时才会终止；"
                          "可在此立即终止待遇并计算多领金额。", self.pending_box))
        pv.addWidget(self.pending_table)
        pv.addWidget(self.process_button)

        # plan and payment
        plan = QGroupBox("追回方式与收款", self)
        f = QFormLayout(plan)
        self.method = QComboBox(plan)
        for code, text in METHOD_ZH.items():
            self.method.addItem(text, code)
        self.instalments = QSpinBox(plan)
        self.instalments.setRange(2, 60)
        self.instalments.setValue(6)
        self.instalments.setSuffix(" 期")
        self.plan_button = QPushButton("确定追回方式", plan)
        self.plan_button.clicked.connect(self.set_plan)
        self.amount = QDoubleSpinBox(plan)
        self.amount.setRange(0, 10_000_000)
        self.amount.setDecimals(2)
        self.amount.setSuffix(" 元")
        self.pay_button = QPushButton("登记收款", plan)
        self.pay_button.clicked.connect(self.record_payment)
        f.addRow("方式", self.method)
        f.addRow("分期期数", self.instalments)
        f.addRow("", self.plan_button)
        f.addRow("收到金额", self.amount)
        f.addRow("", self.pay_button)

        # death report and reversal
        death = QGroupBox("死亡登记 / 撤销错误登记", self)
        g = QFormLayout(death)
        self.number = QLineEdit(death)
        self.number.setPlaceholderText("公民身份号码")
        self.death_date = QDateEdit(death)
        self.death_date.setCalendarPopup(True)
        self.death_date.setDisplayFormat("yyyy-MM-dd")
        self.source = QLineEdit("窗口登记（家属报告）", death)
        self.report_button = QPushButton("登记死亡并停发", death)
        self.report_button.clicked.connect(self.report_death)
        self.reason = QLineEdit(death)
        self.reason.setPlaceholderText("撤销原因（如：本人到窗口认证，民政数据有误）")
        self.reverse_button = QPushButton("撤销死亡登记（主管）", death)
        self.reverse_button.clicked.connect(self.reverse_death)
        g.addRow("身份号码", self.number)
        g.addRow("死亡日期", self.death_date)
        g.addRow("信息来源", self.source)
        g.addRow("", self.report_button)
        g.addRow("撤销原因", self.reason)
        g.addRow("", self.reverse_button)

        side = QVBoxLayout()
        side.addWidget(plan)
        side.addWidget(death)
        side.addStretch(1)
        main = QVBoxLayout()
        main.addWidget(self.pending_box)
        main.addWidget(self.table, 1)
        main.addWidget(self.detail)
        body = QHBoxLayout()
        body.addLayout(main, 3)
        body.addLayout(side, 1)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.summary)
        top.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(hint("死亡次月起停发；已发放的死亡后月份为多领待遇，可一次性退回、分期退回或从丧葬补助金等"
                              "后续待遇中抵扣（条例第四十六条）。错误的死亡登记由主管撤销，恢复后补发停发期间待遇。", self))
        layout.addLayout(body, 1)

    def set_backend(self, backend) -> None:
        self.backend = backend
        self.actor = actor_of(backend)
        self.death_date.setDate(_qdate(backend.as_of))

    def activated(self) -> None:
        self.load()

    @property
    def service(self):
        return self.backend.services.deaths

    def load(self) -> None:
        if self.backend is None:
            return
        svc, status = self.service, self.status.currentData()
        self.ready = False
        run_in_background(lambda: (svc.cases(status), svc.pending_deaths()), self._loaded, self._failed, owner=self)

    def _loaded(self, result) -> None:
        cases, pending = result
        self.model.set_rows(cases)
        self.pending_model.set_rows(pending)
        self.pending_box.setTitle(f"已有死亡信息、尚未停发的人员（{len(pending)}）")
        self.pending_box.setVisible(bool(pending))
        owed = sum((c.outstanding or 0) for c in cases if c.status in ("open", "planned"))
        notice, self._notice = self._notice, ""
        self.summary.setText((notice + " · " if notice else "") + f"{len(cases)} 个案件，未追回合计 {yuan(owed)} 元")
        self.ready = True
        self.finished.emit("loaded")

    def _failed(self, exc) -> None:
        self.summary.setText(f"未完成：{error_text(exc)}")
        self.ready = True
        self.finished.emit("failed")

    def _current(self):
        idx = self.table.currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    def _selected(self, *_):
        c = self._current()
        if c is None:
            return
        lines = [f"{i.seq}. {i.due_month} 应收 {yuan(i.amount)} 元，已收 {yuan(i.paid)} 元"
                 f"{'（已作废）' if i.status == 'cancelled' else ''}" for i in c.plan]
        self.detail.setText(f"{c.name}：多领 {yuan(c.amount)} 元，未追回 {yuan(c.outstanding)} 元。"
                            + ("计划：" + "；".join(lines) if lines else "尚未确定追回方式。") + (f"\n{c.note}" if c.note else ""))
        if c.outstanding:
            self.amount.setValue(c.outstanding)

    def set_plan(self) -> None:
        c = self._current()
        if c is None:
            return
        svc, actor, as_of = self.service, self.actor, self.backend.as_of
        method, n = self.method.currentData(), self.instalments.value()
        run_in_background(lambda: svc.set_plan(c.id, method, actor, instalments=n, as_of=as_of),
                          lambda _: self.load(), self._failed, owner=self)

    def record_payment(self) -> None:
        c = self._current()
        if c is None:
            return
        svc, actor, amount, as_of = self.service, self.actor, self.amount.value(), self.backend.as_of
        run_in_background(lambda: svc.record_payment(c.id, amount, actor, paid_on=as_of),
                          lambda _: self.load(), self._failed, owner=self)

    def _person_id(self, persons, number: str) -> str:
        return persons.show(number, self.backend.as_of).id

    def report_death(self) -> None:
        number, day, source = self.number.text().strip(), _pydate(self.death_date.date()), self.source.text().strip()
        svc, persons, actor, as_of = self.service, self.backend.persons, self.actor, self.backend.as_of
        run_in_background(lambda: svc.report_death(persons.show(number, as_of).id, day, actor, source=source or "窗口登记",
                                                   as_of=as_of),
                          self._reported, self._failed, owner=self)

    def _reported(self, outcome) -> None:
        total = outcome.overpaid_total
        self._notice = (f"已终止 {len(outcome.terminations)} 项待遇（死亡次月起停发），"
                        + (f"多领 {yuan(total)} 元" if outcome.recoveries else "无多领待遇"))
        self.summary.setText(self._notice)
        self.load()

    def process_pending(self) -> None:
        """立即终止并计算多领 for the selected death on file."""
        idx = self.pending_table.currentIndex()
        if not idx.isValid():
            self.summary.setText("请先在上方名单中选择一人")
            return
        d = self.pending_model.row_at(idx.row())
        svc, actor, as_of = self.service, self.actor, self.backend.as_of
        run_in_background(lambda: svc.process_reported_death(d.person_id, actor, as_of=as_of),
                          self._reported, self._failed, owner=self)

    def reverse_death(self) -> None:
        number, reason = self.number.text().strip(), self.reason.text().strip()
        svc, persons, actor, as_of = self.service, self.backend.persons, self.actor, self.backend.as_of
        run_in_background(lambda: svc.reverse_death(persons.show(number, as_of).id, actor, reason, as_of=as_of),
                          self._reversed, self._failed, owner=self)

    def _reversed(self, reversals) -> None:
        back = [r for r in reversals if r.expected_back_pay_months]
        self._notice = "已撤销死亡登记，待遇恢复；" + (
            "下次发放补发 " + "、".join(f"{r.cohort_zh}{len(r.expected_back_pay_months)}个月" for r in back)
            if back else "本人认证后下次发放补发停发月份")
        self.summary.setText(self._notice)
        self.load()

    def set_operator(self, operator, workstation: str) -> None:
        """The signed-in operator (called by the shell on login and unlock)."""
        self.actor = Actor(operator.username, workstation, operator.role)


PAGE_SPEC = {"key": "recoveries", "title": "死亡与追回", "shortcut": "Ctrl+9", "order": 32, "cls": RecoveriesPage}
