"""下月将暂停发放: everyone next month's payroll run will suspend unless they certify first.

The clerks phone these people; the list can be exported to a CSV file (masked ID numbers:
calling someone does not need the full number).
"""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ui.models.paged import list_model, list_source
from ui.models.table import Column
from ui.pages.common import fmt_month, heading, hint, make_table, residence_zh, row_of
from ui.workers import run_in_background

EXPORT_HEADERS = ["姓名", "身份证号码", "认证对象", "认证截止日期", "暂停月份", "联系电话", "居住地"]


def _next_month(as_of) -> str:
    y, m = (as_of.year + 1, 1) if as_of.month == 12 else (as_of.year, as_of.month + 1)
    return f"{y}-{m:02d}"


def write_due_csv(rows, path: Path) -> Path:
    """UTF-8 with BOM so that Excel on the counter PC opens it without garbling."""
    from desktop.formats.exports import csv_row

    with Path(path).open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(EXPORT_HEADERS)
        for r in rows:  # formula-safe: a name like =HYPERLINK(…) is written as text
            w.writerow(csv_row([r.name, r.masked_id, r.cohort_zh, r.deadline.isoformat(), r.suspend_from,
                                r.phone or "", residence_zh(r.residence)]))
    return Path(path)


def _matches(r, text: str) -> bool:
    return (text in r.name or r.id_number.endswith(text) or text in r.cohort_zh or text in (r.phone or ""))


class DuePage(QWidget):
    person_requested = Signal(str)
    rows_shown = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.backend = None
        self._all_rows: list = []
        self._seq = 0

        self.title = heading("下月将暂停发放人员", self)
        self.count_label = QLabel("", self)
        self.count_label.setObjectName("summary")
        self.filter = QLineEdit(self)
        self.filter.setObjectName("dueFilter")
        self.filter.setPlaceholderText("在名单中筛选：姓名、号码后4位、认证对象或电话")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.refresh_button = QPushButton("刷新", self)
        self.refresh_button.clicked.connect(self.reload)
        self.export_button = QPushButton("导出名单…", self)
        self.export_button.setObjectName("primaryButton")
        self.export_button.clicked.connect(self._export)

        self.columns = [
                Column("姓名", lambda r: r.name),
                Column("身份证号码", lambda r: r.masked_id),
                Column("认证对象", lambda r: r.cohort_zh),
                Column("认证截止日期", lambda r: r.deadline.isoformat()),
                Column("暂停月份", lambda r: fmt_month(r.suspend_from), key=lambda r: r.suspend_from),
                Column("联系电话", lambda r: r.phone or "—"),
                Column("居住地", lambda r: residence_zh(r.residence), align_center=True),
        ]
        # a long list (a go-live month suspends hundreds of thousands): shown a page at a time,
        # sorted and filtered once per change in the list, not per cell (issue 20)
        self.model = list_model(self.columns, self)
        self.table = make_table(self.model, self)
        self.table.setObjectName("dueTable")
        self.table.horizontalHeader().setSortIndicator(3, Qt.SortOrder.AscendingOrder)  # earliest deadline first
        self.table.setSortingEnabled(True)
        self.table.activated.connect(lambda idx: self.person_requested.emit(row_of(self.table, idx.row()).person_id))
        self.table.doubleClicked.connect(lambda idx: self.person_requested.emit(row_of(self.table, idx.row()).person_id))

        self.explain = hint("", self)

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.count_label)
        tools = QHBoxLayout()
        tools.addWidget(self.filter, 1)
        tools.addWidget(self.refresh_button)
        tools.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(self.explain)
        layout.addLayout(tools)
        layout.addWidget(self.table, 1)

    def set_backend(self, backend) -> None:
        self.backend = backend
        month = fmt_month(_next_month(backend.as_of))
        self.title.setText(f"{month}将暂停发放人员")
        self.explain.setText(
            f"截至 {backend.as_of.isoformat()} 仍未认证、{month}发放时将被暂停的待遇。"
            "请电话通知本人尽快到窗口、手机或异地协助认证；认证后即从名单中消失。回车或双击打开人员详情。"
        )

    # --- loading ---------------------------------------------------------------------------------

    def reload(self) -> None:
        if self.backend is None:
            return
        self._seq += 1
        seq = self._seq
        self.count_label.setText("正在计算…")
        self.export_button.setEnabled(False)
        lists, as_of = self.backend.lists, self.backend.as_of
        run_in_background(lambda: lists.due_next_month(as_of), lambda rows: self._loaded(seq, rows),
                          lambda exc: self._failed(seq, exc), owner=self)

    def _loaded(self, seq: int, rows) -> None:
        if seq != self._seq:
            return
        self._all_rows = list(rows)
        header = self.table.horizontalHeader()
        source = list_source(self._all_rows, self.columns, _matches)
        source.sort(str(header.sortIndicatorSection()) if header.sortIndicatorSection() >= 0 else None,
                    header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder)
        self.model.set_source(source)
        self._apply_filter()
        self.export_button.setEnabled(bool(self._all_rows))

    def _failed(self, seq: int, exc: BaseException) -> None:
        if seq == self._seq:
            self.count_label.setText(f"计算失败：{exc}")
            self.rows_shown.emit(0)

    def _apply_filter(self) -> None:
        text = self.filter.text().strip()
        self.model.set_filter(text)
        source = self.model.source()
        shown_n = source.matching() if source is not None else 0
        people = len({r.person_id for r in self._all_rows})
        shown = f"，筛选出 {shown_n} 项" if text else ""
        self.count_label.setText(f"共 {people} 人，{len(self._all_rows)} 项待遇{shown}")
        self.rows_shown.emit(shown_n)

    def shown_rows(self) -> list:
        """Every row the filter shows, in the shown order (read from the list, not the screen)."""
        source = self.model.source()
        return list(source.rows()) if source is not None else self.model.rows()

    # --- export ----------------------------------------------------------------------------------

    def _export(self) -> None:
        if not self._all_rows:
            return
        default = f"下月暂停名单-{self.backend.as_of.isoformat()}.csv"
        path, _ = QFileDialog.getSaveFileName(self, "导出名单", str(Path.home() / default), "CSV 文件 (*.csv)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        rows = self.shown_rows()
        run_in_background(lambda: write_due_csv(rows, path),
                          lambda p: self.count_label.setText(f"已导出 {len(rows)} 项到 {p}"),
                          lambda exc: self.count_label.setText(f"导出失败：{exc}"), owner=self)
