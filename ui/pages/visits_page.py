"""上门认证 page: phone booking, scheduling to a staff member, closing visits.

Self-contained: takes its services in the constructor; every service call runs through
``ui.workers.run_in_background`` (never on the GUI thread).
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.labels import REASONS_ZH
from ui.workers import run_in_background

COLUMNS = ["姓名", "身份号码", "地址", "电话", "原因", "状态", "工作人员", "上门日期"]


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


class VisitsPage(QWidget):
    """``VisitsPage(visit_service, person_service, actor)``; services from desktop.services.

    ``staff`` filters the list to one staff member's schedule (field mode shows the laptop
    owner's visits).
    """

    visits_changed = Signal()

    def __init__(self, visit_service, person_service, actor, *, staff: str | None = None,
                 today: date | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.visits, self.persons, self.actor = visit_service, person_service, actor
        self.today = today or date.today()
        self.rows: list = []

        book = QGroupBox("电话预约")
        form = QFormLayout(book)
        self.id_edit = QLineEdit()
        self.id_edit.setPlaceholderText("公民身份号码")
        self.address_edit = QLineEdit()
        self.phone_edit = QLineEdit()
        self.reason_box = QComboBox()
        self.reason_box.addItems(list(REASONS_ZH))
        self.prefer_edit = QDateEdit(_qdate(self.today))
        self.prefer_edit.setCalendarPopup(True)
        self.book_button = QPushButton("登记预约")
        self.book_button.clicked.connect(self.book)
        form.addRow("身份号码", self.id_edit)
        form.addRow("上门地址", self.address_edit)
        form.addRow("联系电话", self.phone_edit)
        form.addRow("原因", self.reason_box)
        form.addRow("希望日期", self.prefer_edit)
        form.addRow(self.book_button)

        filt = QHBoxLayout()
        self.staff_filter = QLineEdit(staff or "")
        self.staff_filter.setPlaceholderText("按工作人员筛选（空为全部）")
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.clicked.connect(self.refresh)
        filt.addWidget(QLabel("工作人员"))
        filt.addWidget(self.staff_filter)
        filt.addWidget(self.refresh_button)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

        act = QHBoxLayout()
        self.staff_edit = QLineEdit()
        self.staff_edit.setPlaceholderText("工作人员")
        self.date_edit = QDateEdit(_qdate(self.today))
        self.date_edit.setCalendarPopup(True)
        self.schedule_button = QPushButton("排班")
        self.schedule_button.clicked.connect(self.schedule)
        self.certify_button = QPushButton("认证通过并结案")
        self.certify_button.clicked.connect(self.certify)
        self.away_button = QPushButton("未遇到本人")
        self.away_button.clicked.connect(lambda: self.close_visit("not_at_home"))
        self.cancel_button = QPushButton("取消预约")
        self.cancel_button.clicked.connect(lambda: self.close_visit("cancelled"))
        for w in (self.staff_edit, self.date_edit, self.schedule_button, self.certify_button, self.away_button,
                  self.cancel_button):
            act.addWidget(w)

        self.message = QLabel()
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        lay = QVBoxLayout(self)
        lay.addWidget(book)
        lay.addLayout(filt)
        lay.addWidget(self.table, 1)
        lay.addLayout(act)
        lay.addWidget(self.message)
        self.refresh()

    # --- helpers ----------------------------------------------------------------------------

    def _run(self, fn, ok_text: str | None = None) -> None:
        def done(_result):
            if ok_text:
                self.message.setText(ok_text)
            self.visits_changed.emit()
            self.refresh()

        run_in_background(fn, done, self._failed, owner=self)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(getattr(exc, "message_zh", None) or f"操作失败：{type(exc).__name__}")

    def selected(self):
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.message.setText("请先在列表中选择一个预约")
            return None
        return self.rows[rows[0].row()]

    # --- actions ----------------------------------------------------------------------------

    def refresh(self) -> None:
        staff = self.staff_filter.text().strip() or None
        run_in_background(lambda: self.visits.list(staff=staff), self._show, self._failed, owner=self)

    def _show(self, views) -> None:
        self.rows = list(views)
        self.table.setRowCount(len(self.rows))
        for i, v in enumerate(self.rows):
            values = [v.person_name, v.masked_id, v.address, v.phone or "", v.reason or "", v.status_zh,
                      v.staff or "", v.scheduled_date.isoformat() if v.scheduled_date else ""]
            for j, text in enumerate(values):
                self.table.setItem(i, j, QTableWidgetItem(text))

    def book(self) -> None:
        number, address = self.id_edit.text().strip(), self.address_edit.text().strip()
        phone, reason, prefer = self.phone_edit.text().strip() or None, self.reason_box.currentText(), _pydate(
            self.prefer_edit.date())
        persons, visits, actor = self.persons, self.visits, self.actor

        def job():
            person = persons.show(number)
            return visits.book(person.id, address, actor, phone=phone, reason=reason, preferred_dates=[prefer])

        self._run(job, "已登记上门认证预约")

    def schedule(self) -> None:
        v = self.selected()
        if v is None:
            return
        staff, on = self.staff_edit.text().strip(), _pydate(self.date_edit.date())
        self._run(lambda: self.visits.schedule(v.id, staff, on, self.actor), f"已排班：{staff} {on.isoformat()}")

    def certify(self) -> None:
        v = self.selected()
        if v is None:
            return
        self._run(lambda: self.visits.certify(v.id, self.actor), "已记录上门认证并结案")

    def close_visit(self, outcome: str) -> None:
        v = self.selected()
        if v is None:
            return
        text = {"not_at_home": "已结案：未遇到本人", "cancelled": "已取消预约"}[outcome]
        self._run(lambda: self.visits.close(v.id, outcome, self.actor), text)
