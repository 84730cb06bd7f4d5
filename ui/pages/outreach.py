"""认证到期提醒: who is about to lapse, how to reach them, and what came of each call.

The list is computed in the background (a league has a million entitlements) with a progress bar
and a Cancel button; marks ("已通话 / 未接通 / 答应前来 / 已寄表") go straight to the database and
show on the row. Reminder letters (告知书) print as one PDF; the list exports as XLSX (masked ID
numbers: calling someone does not need the full number).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from ui.long_task import TaskBar
from ui.widgets.flow import FlowRow
from ui.models.paged import PagedTableModel
from ui.models.table import Column
from desktop.platform.workstation import Actor
from ui.pages.bureau_common import actor_of, error_text
from ui.pages.common import fmt_month, heading, hint, make_table, row_of
from ui.workers import run_in_background

CHANNEL_ITEMS = [("全部方式", None), ("本地：窗口或手机认证", "local"), ("异地：寄协助认证表", "remote"),
                 ("行动不便：上门认证", "home_visit")]
MARKS = [("called", "已通话"), ("no_answer", "未接通"), ("will_come", "答应前来"), ("form_sent", "已寄表")]
URGENT = QColor("#b42318")
STALE_S = 300  # seconds before a shown list is made again


class OutreachPage(QWidget):
    person_requested = Signal(str)
    rows_shown = Signal(int)
    first_screen = Signal(int)  # rows on the first screen, before the whole list is made
    finished = Signal(str)  # a status text after a load, mark, print or export

    def __init__(self, parent=None):
        super().__init__(parent)
        self.backend = None
        self.actor = None
        self.as_of = date.today()
        # the list shown (its connection and temporary table) is given back when the page goes
        self._shown: list = []
        shown = self._shown
        self.destroyed.connect(lambda *_: [v.close() for v in shown])

        self.title = heading("认证到期提醒", self)
        self.summary = QLabel("", self)
        self.summary.setObjectName("summary")
        self.explain = hint("认证截止日期临近的人员（一次认证覆盖本人全部待遇，按最早的截止日期排列）。"
                            "请按认证方式分组电话提醒，并登记联系结果；已逾期但尚未暂停的排在最前。", self)

        self.days = QSpinBox(self)
        self.days.setObjectName("outreachDays")
        self.days.setRange(1, 366)
        self.days.setValue(30)
        self.days.setSuffix(" 天内到期")
        self.overdue = QCheckBox("含已逾期未暂停", self)
        self.overdue.setChecked(True)
        self.channel = QComboBox(self)
        self.channel.setObjectName("outreachChannel")
        for text, code in CHANNEL_ITEMS:
            self.channel.addItem(text, code)
        self.channel.currentIndexChanged.connect(self._apply_filter)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("筛选：姓名、电话、号码后4位")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.refresh_button = QPushButton("生成名单", self)
        self.refresh_button.setObjectName("primaryButton")
        self.refresh_button.clicked.connect(self.reload)

        # a view of the list kept by SQLite: pages are read as the table scrolls, sorting and the
        # filters are SQL (desktop.services.lists.OutreachList)
        self.model = PagedTableModel([
            Column("认证方式", lambda r: r.channel_zh, align_center=True),
            Column("姓名", lambda r: r.name),
            Column("身份证号码", lambda r: r.masked_id),
            Column("联系电话", lambda r: r.phone or "—"),
            Column("认证对象", lambda r: r.cohorts_zh),
            Column("截止日期", lambda r: r.deadline.isoformat()),
            Column("剩余天数", lambda r: self._days_text(r), key=lambda r: r.days_left(self.as_of), align_center=True,
                   foreground=lambda r: URGENT if r.days_left(self.as_of) <= 7 else None),
            Column("暂停月份", lambda r: fmt_month(r.suspend_from), key=lambda r: r.suspend_from),
            Column("最近联系", lambda r: f"{r.last_outcome_zh} {r.last_marked_on[5:]}" if r.last_outcome else "—"),
        ], ["channel", "name", "id_number", "phone", None, "deadline", "deadline", "suspend", "last_outcome"], self)
        self.table = make_table(self.model, self)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the list's own order
        self.table.setSortingEnabled(True)  # header clicks ask the source (SQL) for another order
        self.table.setObjectName("outreachTable")
        self.table.doubleClicked.connect(lambda idx: self.person_requested.emit(row_of(self.table, idx.row()).person_id))

        self.mark_buttons = {}
        # the rows of buttons and filters wrap on a narrow (1024-pixel) screen instead of widening it
        marks = FlowRow(self, spacing=8)
        marks.add(QLabel("登记联系结果：", self))
        for code, text in MARKS:
            b = QPushButton(text, self)
            b.setObjectName(f"mark_{code}")
            b.clicked.connect(lambda _=False, c=code: self.mark_selected(c))
            self.mark_buttons[code] = b
            marks.add(b)
        self.housebound_button = QPushButton("标记为行动不便", self)
        self.housebound_button.clicked.connect(self._toggle_housebound)
        marks.add(self.housebound_button)
        self.letters_button = QPushButton("打印告知书…", self)
        self.letters_button.clicked.connect(self._print_letters)
        self.export_button = QPushButton("导出名单…", self)
        self.export_button.clicked.connect(self._export)
        output = FlowRow(self, spacing=8, align_right=True)
        output.add(self.letters_button, self.export_button)
        actions = QHBoxLayout()
        actions.addWidget(marks, 3)
        actions.addWidget(output, 1)
        self.taskbar = TaskBar(self)

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.summary)
        self.filter.setMinimumWidth(220)
        tools = FlowRow(self, spacing=8)
        tools.add(self.days, self.overdue, self.channel, self.filter, self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(self.explain)
        layout.addWidget(tools)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.taskbar)
        self._set_enabled()

    def _days_text(self, r) -> str:
        d = r.days_left(self.as_of)
        return f"已逾期{-d}天" if d < 0 else ("今天" if d == 0 else str(d))

    # --- wiring -----------------------------------------------------------------------------

    def set_backend(self, backend) -> None:
        self.backend = backend
        self.as_of = backend.as_of
        self.actor = actor_of(backend)

    def activated(self) -> None:
        """Shown: a list older than a few minutes is made again (marks from other counters)."""
        import time

        stale = time.monotonic() - getattr(self, "_loaded_at", float("-inf")) > STALE_S
        if (self.model.source() is None or stale) and not self.taskbar.busy:
            self._loaded_at = time.monotonic()
            self.reload()

    @property
    def service(self):
        return self.backend.services.outreach

    def _set_enabled(self) -> None:
        has = bool(self.model.rowCount())
        for b in (*self.mark_buttons.values(), self.housebound_button, self.letters_button, self.export_button):
            b.setEnabled(has and not self.taskbar.busy)

    # --- loading ----------------------------------------------------------------------------

    def reload(self) -> None:
        if self.backend is None or self.taskbar.busy:
            return
        lists, days, as_of, overdue = self.backend.lists, self.days.value(), self.as_of, self.overdue.isChecked()
        self.refresh_button.setEnabled(False)
        self.taskbar.start(lambda report, cancel: lists.outreach(days, as_of, include_overdue=overdue, cancel=cancel),
                           self._loaded, self._failed, "正在生成名单…")
        self._set_enabled()

    def _loaded(self, source) -> None:
        """The first screen is shown at once (from the maintained clock when it can be); the
        whole list — counts, other orders, the filters — is made in the background, and only
        then is the list reported loaded."""
        self.refresh_button.setEnabled(True)
        old = self.model.source()
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.model.set_source(source)
        self._shown[:] = [source]
        if old is not None:
            old.close()
        if source.ready:
            self.first_screen.emit(self.model.rowCount())
            self._completed(source)
            return
        self.table.setSortingEnabled(False)  # another order needs the whole list
        self.first_screen.emit(self.model.rowCount())
        self.summary.setText(f"已显示前 {self.model.rowCount()} 人，正在统计全部名单…")
        run_in_background(source.complete, lambda _: self._completed(source), self._failed, owner=self)

    def _completed(self, source) -> None:
        if self.model.source() is not source:
            return  # a newer list replaced it meanwhile
        self._counts = source.counts("channel")
        self.table.setSortingEnabled(True)
        self._apply_filter()
        self.finished.emit("loaded")

    def _failed(self, exc) -> None:
        self.refresh_button.setEnabled(True)
        self.summary.setText(f"未完成：{error_text(exc)}")
        self._set_enabled()
        self.finished.emit("failed")

    def _apply_filter(self) -> None:
        source = self.model.source()
        if source is None or not source.ready:
            return  # the filters apply once the whole list is made (_completed)
        source.set_channel(self.channel.currentData())
        source.filter(self.filter.text().strip())
        self.model.reload()
        shown = source.matching()
        counts = {c: self._counts.get(c, 0) for _, c in CHANNEL_ITEMS[1:]}
        self.summary.setText(f"共 {source.count} 人（本地 {counts['local']}，异地 {counts['remote']}，"
                             f"上门 {counts['home_visit']}），显示 {shown} 人")
        self.rows_shown.emit(shown)
        self._set_enabled()

    def all_rows(self) -> list:
        """Every row the filters show, in the shown order (read from the list, not the screen)."""
        source = self.model.source()
        return list(source.rows()) if source is not None else self.model.rows()

    def shown_rows(self) -> list:
        self.model.fetch_all()
        return self.model.rows()

    def selected_row(self):
        idx = self.table.currentIndex()
        return row_of(self.table, idx.row()) if idx.isValid() else None

    # --- marks -------------------------------------------------------------------------------

    def mark_selected(self, outcome: str) -> None:
        row = self.selected_row()
        if row is None:
            self.summary.setText("请先在名单中选择一人")
            return
        svc, actor, as_of = self.service, self.actor, self.as_of
        run_in_background(lambda: svc.mark(row.person_id, outcome, actor, as_of=as_of, deadline=row.deadline,
                                           channel=row.channel),
                          lambda _: self._marked(row, outcome), self._failed, owner=self)

    def _marked(self, row, outcome: str) -> None:
        from dataclasses import replace

        new = replace(row, last_outcome=outcome, last_marked_on=self.as_of.isoformat())
        source = self.model.source()
        if source is not None:
            source.set_mark(row.person_id, outcome, self.as_of.isoformat())
        current = self.table.currentIndex().row()
        for i, r in enumerate(self.model.rows()):
            if r.person_id == row.person_id:
                self.model.replace_row(i, new)
        if current >= 0:
            self.table.selectRow(min(current + 1, self.model.rowCount() - 1))  # ready for the next call
        self.finished.emit("marked")

    def _toggle_housebound(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        flag = row.channel != "home_visit"
        svc, actor = self.service, self.actor
        run_in_background(lambda: svc.set_housebound(row.person_id, flag, actor), lambda _: self.reload(),
                          self._failed, owner=self)

    # --- outputs -------------------------------------------------------------------------------

    def _export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "导出提醒名单", str(Path.home() / f"认证到期提醒-{self.as_of}.xlsx"),
                                              "Excel 文件 (*.xlsx)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """The list as the filters show it, streamed from the database (never a list in memory)."""
        svc, as_of, source = self.service, self.as_of, self.model.source()
        if source is None:  # a plain list shown (tests)
            rows = self.model.rows()
            work, n = (lambda report, cancel: svc.export_xlsx(rows, path, as_of, progress=report, cancel=cancel)), len(rows)
        else:
            work, n = (lambda report, cancel: svc.export_view(source, path, as_of, progress=report, cancel=cancel)), None
        self.taskbar.start(work, lambda p: self._done(f"已导出 {n if n is not None else source.matching()} 人到 {p}"),
                           self._failed, "正在导出…")
        self._set_enabled()

    def _print_letters(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "保存告知书", str(Path.home() / f"认证提醒告知书-{self.as_of}.pdf"),
                                              "PDF 文件 (*.pdf)")
        if path:
            self.print_letters_to(Path(path))

    def print_letters_to(self, path: Path, mark: bool = True) -> None:
        svc, as_of, actor, source = self.service, self.as_of, self.actor, self.model.source()
        shown = self.model.rows() if source is None else None

        def work(report, cancel):  # the rows read here, off the GUI thread (the whole list may still be made)
            rows = shown if source is None else list(source.rows())
            pages = svc.reminder_letters(rows, path, as_of, progress=report, cancel=cancel)
            if mark:
                svc.mark_many(rows, "letter_sent", actor, as_of=as_of)
            return pages

        self.taskbar.start(work, lambda n: (self._done(f"已生成告知书 {n} 份：{path}"), self.reload()),
                           self._failed, "正在生成告知书…")
        self._set_enabled()

    def _done(self, text: str) -> None:
        self.summary.setText(text)
        self._set_enabled()
        self.finished.emit("done")

    def set_operator(self, operator, workstation: str) -> None:
        """The signed-in operator (called by the shell on login and unlock)."""
        self.actor = Actor(operator.username, workstation, operator.role)


PAGE_SPEC = {"key": "outreach", "title": "认证到期提醒", "shortcut": "Ctrl+7", "order": 30, "cls": OutreachPage}
