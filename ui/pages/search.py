"""查询人员: find a beneficiary by ID number (prefix or last digits) or by name.

Keyboard first: the field has focus when the window opens, typing searches (debounced), Enter
opens the first hit (or the selected one), Down moves into the results.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ui.models.table import Column, RowTableModel
from ui.pages.common import fmt_date, heading, hint, make_table, residence_zh, row_of, sex_zh
from ui.workers import run_in_background

DEBOUNCE_MS = 200
RESULT_LIMIT = 200
MIN_DIGITS = 4  # "尾号 1234" is how residents quote their number


def _age(birth, as_of) -> str:
    if birth is None:
        return "—"
    years = as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))
    return f"{years}岁"


class SearchPage(QWidget):
    person_requested = Signal(str)  # person id
    results_shown = Signal(int)  # number of rows now in the table (tests wait on it)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.backend = None
        self._seq = 0  # the newest search; older answers are dropped
        self._busy = False
        self._open_first_when_ready = False

        self.field = QLineEdit(self)
        self.field.setObjectName("searchField")
        self.field.setPlaceholderText("输入身份证号码（可只输后4位）或姓名，回车打开第一条")
        self.field.setClearButtonEnabled(True)
        self.field.installEventFilter(self)

        self.summary = QLabel("", self)
        self.summary.setObjectName("summary")

        self.model = RowTableModel(self._columns(), self)
        self.table = make_table(self.model, self)
        self.table.setObjectName("searchResults")
        self.table.activated.connect(lambda idx: self._open_row(idx.row()))
        self.table.doubleClicked.connect(lambda idx: self._open_row(idx.row()))
        self.table.installEventFilter(self)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)
        self.field.textChanged.connect(lambda _t: self._timer.start())
        self.field.returnPressed.connect(self._on_enter)

        top = QHBoxLayout()
        top.addWidget(heading("查询人员", self))
        top.addStretch(1)
        top.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(self.field)
        layout.addWidget(self.table, 1)
        layout.addWidget(hint("提示：↓ 键进入结果列表，回车或双击打开人员详情；Esc 返回。列表中的身份证号码已部分隐藏。", self))
        self._set_summary("")

    def _columns(self):
        as_of = lambda: self.backend.as_of if self.backend else None  # noqa: E731
        return [
            Column("姓名", lambda p: p.name),
            Column("性别", lambda p: sex_zh(p.sex), align_center=True),
            Column("身份证号码", lambda p: p.masked_id),
            Column("出生日期", lambda p: fmt_date(p.birth_date)),
            Column("年龄", lambda p: _age(p.birth_date, as_of()) if as_of() else "—", key=lambda p: p.birth_date,
                   align_center=True),
            Column("居住地", lambda p: residence_zh(p.residence), align_center=True),
        ]

    # --- wiring --------------------------------------------------------------------------------

    def set_backend(self, backend) -> None:
        self.backend = backend
        if self.field.text().strip():
            self.search_now()

    def focus_field(self) -> None:
        self.field.setFocus()
        self.field.selectAll()

    # --- searching -----------------------------------------------------------------------------

    def _query_ok(self, text: str) -> bool:
        if not text:
            return False
        if text[:1].isdigit() or text[:1] in "０１２３４５６７８９":
            return len(text) >= MIN_DIGITS
        return True

    def search_now(self) -> None:
        self._timer.stop()
        text = self.field.text().strip()
        self._seq += 1
        seq = self._seq
        if self.backend is None:
            self.summary.setText("正在打开数据库，打开后自动查询…" if text else "")
            return
        if not self._query_ok(text):
            self.model.set_rows([])
            self._busy = False
            self._set_summary(text)
            self.results_shown.emit(0)
            return
        persons = self.backend.persons
        self._busy = True
        self.summary.setText("正在查询…")
        run_in_background(
            lambda: persons.search(text, RESULT_LIMIT),
            lambda rows: self._show(seq, text, rows),
            lambda exc: self._failed(seq, exc),
            owner=self,
        )

    def _show(self, seq: int, text: str, rows) -> None:
        if seq != self._seq:
            return  # an older search answered late
        self._busy = False
        self.model.set_rows(rows)
        if rows:
            self.table.selectRow(0)
        self._set_summary(text, len(rows))
        self.results_shown.emit(len(rows))
        if self._open_first_when_ready:
            self._open_first_when_ready = False
            if rows:
                self._open_row(0)

    def _failed(self, seq: int, exc: BaseException) -> None:
        if seq != self._seq:
            return
        self._busy = False
        self._open_first_when_ready = False
        self.summary.setText(f"查询失败：{exc}")
        self.results_shown.emit(0)

    def _set_summary(self, text: str, n: int | None = None) -> None:
        if n is None:
            if text and text[:1].isdigit() and len(text) < MIN_DIGITS:
                self.summary.setText(f"身份证号码请至少输入{MIN_DIGITS}位")
            else:
                self.summary.setText("")
        elif n == 0:
            self.summary.setText("没有找到符合条件的人员")
        elif n >= RESULT_LIMIT:
            self.summary.setText(f"结果较多，仅显示前{RESULT_LIMIT}人，请输入更完整的信息")
        else:
            self.summary.setText(f"找到 {n} 人")

    # --- opening --------------------------------------------------------------------------------

    def _on_enter(self) -> None:
        if self._timer.isActive() or self._busy or self.backend is None:
            self._open_first_when_ready = True
            if self._timer.isActive() and self.backend is not None:
                self.search_now()
            return
        selected = self.table.selectionModel().selectedRows()
        self._open_row(selected[0].row() if selected else 0)

    def _open_row(self, row: int) -> None:
        if 0 <= row < self.table.model().rowCount():
            self.person_requested.emit(row_of(self.table, row).id)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if obj is self.field and key == Qt.Key.Key_Down and self.model.rowCount():
                self.table.setFocus()
                if not self.table.selectionModel().selectedRows():
                    self.table.selectRow(0)
                return True
            if obj is self.table and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                rows = self.table.selectionModel().selectedRows()
                if rows:
                    self._open_row(rows[0].row())
                    return True
            if obj is self.table and key == Qt.Key.Key_Up and self.table.currentIndex().row() <= 0:
                self.focus_field()
                return True
        return super().eventFilter(obj, event)
