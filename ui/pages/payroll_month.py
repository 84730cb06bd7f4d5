"""发放月名单: the month's payroll instructions, reviewed per kind, approved and handed over.

预览 computes without recording; 生成 records the run (supervisor); flagged resumptions (suspended
more than 12 months) are approved here by a supervisor; 导出 writes the XLSX for the payroll
department (one sheet per kind, full ID numbers) and keeps a record of who exported what, when.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout,
                               QWidget)

from desktop.domain.months import Month
from desktop.domain.rules import COHORTS
from ui.long_task import TaskBar
from ui.models.paged import PagedTableModel, list_model, list_source
from ui.models.table import Column, RowTableModel
from desktop.platform.workstation import Actor
from ui.pages.bureau_common import actor_of, error_text, yuan
from ui.pages.common import fmt_month, heading, hint, make_table, row_of
from ui.workers import run_in_background


def _cohort(i) -> str:
    return COHORTS[i["cohort"]].name_zh if i.get("cohort") in COHORTS else i.get("cohort", "")


def _masked(i) -> str:
    from desktop.domain.idnumber import mask

    return mask(i["id_number"])


def _months(xs) -> str:
    if not xs:
        return "—"
    return f"{xs[0]}～{xs[-1]}（{len(xs)}个月）" if len(xs) > 1 else xs[0]


KIND_COLUMNS = {
    "suspend": ("暂停发放", [Column("姓名", lambda i: i["name"]), Column("身份证号码", _masked),
                             Column("认证对象", _cohort), Column("错过的截止日期", lambda i: i["missed_deadline"]),
                             Column("规则暂停月份", lambda i: fmt_month(i["suspend_from"])),
                             Column("逾期仍已发放", lambda i: _months(i["paid_while_overdue"]))]),
    "resume": ("恢复发放", [Column("姓名", lambda i: i["name"]), Column("身份证号码", _masked),
                            Column("认证对象", _cohort), Column("认证日期", lambda i: i["certified_on"]),
                            Column("恢复月份", lambda i: fmt_month(i["resume_from"])),
                            Column("补发月份", lambda i: _months(i["back_pay_months"])),
                            Column("补发金额（元）", lambda i: yuan(i["back_pay_amount"])),
                            Column("审核", lambda i: ("已审核：" + i["approved_by"]) if i.get("approved_by")
                                   else ("待主管审核" if i["needs_approval"] else "无需审核"))]),
    "terminate": ("终止发放", [Column("姓名", lambda i: i["name"]), Column("身份证号码", _masked),
                               Column("认证对象", _cohort), Column("死亡日期", lambda i: i["death_date"]),
                               Column("终止月份", lambda i: fmt_month(i["terminate_from"])),
                               Column("死亡后认证", lambda i: i.get("certified_after_death") or "—")]),
    "recover": ("多领追回", [Column("姓名", lambda i: i["name"]), Column("身份证号码", _masked),
                             Column("认证对象", _cohort), Column("死亡日期", lambda i: i["death_date"]),
                             Column("多领月份", lambda i: _months(i["overpaid_months"])),
                             Column("多领金额（元）", lambda i: yuan(i["overpaid_amount"]))]),
}


CORRECTION_ZH = {"back_pay": "补发", "recovery": "追回", "recovery_cancel": "撤销追回"}
CORRECTION_COLUMNS = [Column("姓名", lambda i: i["name"]), Column("身份证号码", _masked), Column("认证对象", _cohort),
                      Column("更正", lambda i: CORRECTION_ZH.get(i["kind"], i["kind"])),
                      Column("所属月份", lambda i: _months(i["months"])),
                      Column("金额（元）", lambda i: yuan(i["amount"]))]
GUARD_COLUMNS = [Column("姓名", lambda i: i["name"]), Column("身份证号码", _masked), Column("认证对象", _cohort),
                 Column("待遇开始", lambda i: i["start_date"]),
                 Column("按开始日期推算的暂停月份", lambda i: fmt_month(i["suspend_from"]))]


def _paged_table(model, parent):
    table = make_table(model, parent)
    table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the run's own order
    table.setSortingEnabled(True)  # header clicks sort the list (PagedTableModel.sort)
    return table


class PayrollMonthPage(QWidget):
    person_requested = Signal(str)
    finished = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.backend = None
        self.actor = None
        self.review = None
        self.ready = False
        self.title = heading("发放月名单", self)
        self.summary = QLabel("", self)
        self.summary.setObjectName("summary")
        self.explain = hint("预览不会改动数据；“生成本月名单”记录暂停、恢复、终止、补发和追回（可重复执行，不会重复发放）。"
                            "迟到的认证和更正在下一次生成时补发或追回；已生成的月份之前的月份不能再生成。"
                            "导出的表格含完整身份号码，仅交财务发放使用。", self)
        self.month = QComboBox(self)
        self.month.setObjectName("payrollMonth")
        self.preview_button = QPushButton("预览", self)
        self.preview_button.clicked.connect(self.load)
        self.record_button = QPushButton("生成本月名单", self)
        self.record_button.clicked.connect(self.record)
        self.export_button = QPushButton("导出给财务（XLSX）…", self)
        self.export_button.setObjectName("primaryButton")
        self.export_button.clicked.connect(self._export)
        self.taskbar = TaskBar(self)

        self.tabs = QTabWidget(self)
        # a go-live month suspends hundreds of thousands: each kind's table shows its list a page
        # at a time, sorted once per header click in the list (issue 20)
        self.models: dict[str, PagedTableModel] = {}
        self.tables = {}
        for kind, (title, cols) in KIND_COLUMNS.items():
            model = list_model(cols, self)
            table = _paged_table(model, self)
            table.doubleClicked.connect(lambda idx, t=table: self.person_requested.emit(row_of(t, idx.row())["person_id"]))
            self.models[kind], self.tables[kind] = model, table
            self.tabs.addTab(table, title)
        self.approvals = RowTableModel([
            Column("姓名", lambda a: a.name), Column("身份证号码", lambda a: a.masked_id),
            Column("认证对象", lambda a: a.cohort_zh), Column("暂停起始", lambda a: fmt_month(a.suspended_from)),
            Column("认证日期", lambda a: a.certified_on or "—"),
            Column("补发", lambda a: f"{len(a.back_pay_months)}个月 {yuan(a.back_pay_amount)}元"),
            Column("审核人", lambda a: a.approved_by or "待审核"),
            Column("等待审核自", lambda a: fmt_month(a.waiting_since) if a.waiting_since else "—"),
        ], self)
        box = QWidget(self)
        v = QVBoxLayout(box)
        self.approvals_table = make_table(self.approvals, box)
        self.approve_button = QPushButton("审核通过所选（主管）", box)
        self.approve_button.clicked.connect(self.approve_selected)
        v.addWidget(hint("暂停超过12个月的恢复发放属于高风险业务，需主管审核后方可恢复（条例第三十七条）。", box))
        v.addWidget(self.approvals_table, 1)
        v.addWidget(self.approve_button)
        self.tabs.addTab(box, "待审核")
        # every money correction of the run, each once (what the payroll department pays or recovers)
        self.corrections = list_model(CORRECTION_COLUMNS, self)
        self.corrections_table = _paged_table(self.corrections, self)
        self.corrections_table.doubleClicked.connect(
            lambda idx: self.person_requested.emit(row_of(self.corrections_table, idx.row())["person_id"]))
        self.tabs.addTab(self.corrections_table, "补发与追回")
        # go-live guard: rows with no certification on file are not suspended until confirmed
        self.guard_box = QWidget(self)
        g = QVBoxLayout(self.guard_box)
        g.setContentsMargins(0, 0, 0, 0)
        self.guard_text = QLabel("", self.guard_box)
        self.guard_text.setObjectName("banner")
        self.guard_text.setProperty("kind", "warn")
        self.guard_text.setWordWrap(True)
        self.guard = RowTableModel(GUARD_COLUMNS, self)
        self.guard_table = make_table(self.guard, self.guard_box)
        self.guard_table.setMaximumHeight(160)
        self.confirm_guard_button = QPushButton("核实无误，确认暂停以上人员（主管）", self.guard_box)
        self.confirm_guard_button.clicked.connect(self.confirm_go_live)
        g.addWidget(self.guard_text)
        g.addWidget(self.guard_table)
        g.addWidget(self.confirm_guard_button)
        self.guard_box.hide()
        self.exports = RowTableModel([
            Column("导出时间", lambda e: e.exported_at.strftime("%Y-%m-%d %H:%M")), Column("发放月", lambda e: e.month),
            Column("文件", lambda e: e.filename), Column("操作员", lambda e: e.operator or ""),
            Column("工作站", lambda e: e.workstation or ""),
            Column("条数", lambda e: "，".join(f"{KIND_COLUMNS[k][0]}{n}" for k, n in e.counts.items())),
            Column("导出时待审核", lambda e: str(e.pending_approvals)), Column("SHA-256", lambda e: e.sha256[:16] + "…"),
        ], self)
        self.tabs.addTab(make_table(self.exports, self), "导出记录")

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.summary)
        tools = QHBoxLayout()
        tools.addWidget(QLabel("发放月份：", self))
        tools.addWidget(self.month)
        tools.addWidget(self.preview_button)
        tools.addWidget(self.record_button)
        tools.addStretch(1)
        tools.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.explain)
        layout.addLayout(tools)
        layout.addWidget(self.guard_box)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.taskbar)
        self.export_button.setEnabled(False)

    def set_backend(self, backend) -> None:
        self.backend = backend
        self.actor = actor_of(backend)
        here = Month.of(backend.as_of)
        self.month.clear()
        for m in [here + 1] + [here - k for k in range(0, 7)]:
            self.month.addItem(fmt_month(str(m)), str(m))
        self.month.setCurrentIndex(1)  # this month's run, usually already made

    def activated(self) -> None:
        if self.review is None:
            self.load()

    @property
    def service(self):
        return self.backend.services.payroll_review

    def load(self) -> None:
        if self.backend is None:
            return
        svc, month, actor = self.service, self.month.currentData(), self.actor
        self.ready = False
        self.summary.setText("正在计算…")
        run_in_background(lambda: (svc.review(month, actor), svc.exports(month)), self._loaded, self._failed, owner=self)

    def record(self) -> None:
        svc, month, actor = self.service, self.month.currentData(), self.actor
        self.summary.setText("正在生成…")
        run_in_background(lambda: (svc.record(month, actor), svc.exports(month)), self._loaded, self._failed, owner=self)

    def _loaded(self, result) -> None:
        review, exports = result
        self.review = review
        for kind, model in self.models.items():
            self.tables[kind].horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            model.set_source(list_source(review.items.get(kind, []), KIND_COLUMNS[kind][1]))
            self.tabs.setTabText(list(KIND_COLUMNS).index(kind), f"{KIND_COLUMNS[kind][0]}（{len(review.items.get(kind, []))}）")
        self.approvals.set_rows(list(review.approvals))
        self.tabs.setTabText(4, f"待审核（{review.pending}）")
        corrections = review.items.get("corrections", [])
        self.corrections_table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.corrections.set_source(list_source(corrections, CORRECTION_COLUMNS))
        self.tabs.setTabText(5, f"补发与追回（{len(corrections)}）")
        self.guard.set_rows(list(review.go_live_guard))
        if review.go_live_guard:
            self.guard_text.setText(
                f"有 {len(review.go_live_guard)} 人在系统中没有任何认证记录（导入的花名册未提供最近认证日期），"
                "本次没有暂停他们。请核实后由主管确认；确认前他们照常发放。")
            self.guard_box.show()
        else:
            self.guard_box.hide()
        self.exports.set_rows(exports)
        t = review.totals_yuan()
        state = "已生成" if review.recorded else "预览（尚未生成）"
        waiting = f"（另有待审核补发 {yuan(t['awaiting_approval'])} 元）" if t["awaiting_approval"] else ""
        self.summary.setText(f"{fmt_month(review.month)} · {state} · 制表日 {review.run_day} · "
                             f"补发 {yuan(t['back_pay'])} 元{waiting} · 追回 {yuan(t['overpaid'])} 元")
        self.export_button.setEnabled(True)
        self.ready = True
        self.finished.emit("loaded")

    def confirm_go_live(self) -> None:
        svc, month, actor = self.service, self.month.currentData(), self.actor
        self.summary.setText("正在生成…")
        run_in_background(lambda: (svc.record(month, actor, confirm_go_live=True), svc.exports(month)),
                          self._loaded, self._failed, owner=self)

    def _failed(self, exc) -> None:
        self.summary.setText(f"未完成：{error_text(exc)}")
        self.ready = True
        self.finished.emit("failed")

    def approve_selected(self) -> None:
        idx = self.approvals_table.currentIndex()
        if not idx.isValid():
            return
        a = self.approvals.row_at(idx.row())
        svc, actor, month = self.service, self.actor, self.month.currentData()
        run_in_background(lambda: (svc.approve(a.event_id, actor), (svc.review(month, actor), svc.exports(month)))[1],
                          self._loaded, self._failed, owner=self)

    def _export(self) -> None:
        default = f"{self.review.month}发放指令.xlsx"
        path, _ = QFileDialog.getSaveFileName(self, "导出发放指令", str(Path.home() / default), "Excel 文件 (*.xlsx)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        svc, review, actor = self.service, self.review, self.actor
        self.taskbar.start(lambda report, cancel: (svc.export(review, path, actor, progress=report, cancel=cancel),
                                                   svc.exports(review.month)),
                           self._exported, self._failed, "正在导出…")

    def _exported(self, result) -> None:
        rec, exports = result
        self.exports.set_rows(exports)
        self.summary.setText(f"已导出 {rec.filename}（{rec.operator}，{rec.exported_at:%H:%M}）")
        self.finished.emit("exported")

    def set_operator(self, operator, workstation: str) -> None:
        """The signed-in operator (called by the shell on login and unlock)."""
        self.actor = Actor(operator.username, workstation, operator.role)


PAGE_SPEC = {"key": "payroll_month", "title": "发放月名单", "shortcut": "Ctrl+8", "order": 31, "cls": PayrollMonthPage}
