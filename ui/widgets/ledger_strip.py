"""发放台账 as a month strip: one cell per month — due or not, what payroll was told, and the
correction that settled a difference (docs: desktop/domain/ledger.py). Hover a cell for the details."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

# state → (background, text colour, short mark, 中文)
STATES = {
    "ok": ("#c8e6c9", "#1b5e20", "", "已发"),
    "back_paid": ("#a5d6a7", "#1b5e20", "补", "已补发"),
    "owed": ("#ffcc80", "#e65100", "欠", "应发未发（待补发）"),
    "pending": ("#ffe082", "#8d6e00", "审", "补发待主管审核"),
    "held": ("#e0e0e0", "#424242", "停", "暂停（待认证）"),
    "paid_unconfirmed": ("#fff9c4", "#6d5d00", "逾", "逾期仍已发放"),
    "stopped": ("#bdbdbd", "#212121", "终", "终止（不应发）"),
    "overpaid": ("#ef9a9a", "#b71c1c", "多", "多发未追回"),
    "recovering": ("#f8bbd0", "#880e4f", "追", "已发起追回"),
    "future": ("#ffffff", "#9e9e9e", "", "尚未发放"),
}
DUE_ZH = {True: "应发", False: "不应发", None: "待认证（未确认）"}
INSTRUCTED_ZH = {"paid": "已发", "withheld": "暂停", "terminated": "终止", None: "尚未运行"}
SETTLED_ZH = {"back_pay": "补发", "back_pay_pending": "补发待审核", "recovery": "追回", "recovery_cancel": "撤销追回"}


def cell_state(m: dict) -> str:
    """The strip's reading of one ledger month."""
    due, instructed, settled = m["due"], m["instructed"], (m["settled_by"] or {}).get("kind")
    if instructed is None:
        return "future"
    if settled == "recovery":
        return "recovering"
    if settled == "back_pay_pending":
        return "pending"
    if settled == "back_pay":
        return "back_paid" if due is not False else "overpaid"
    paid = instructed == "paid"
    if due is True:
        return "ok" if paid else "owed"
    if due is False:
        return "overpaid" if paid else "stopped"
    return "paid_unconfirmed" if paid else "held"


def tooltip(m: dict) -> str:
    s = m["settled_by"]
    parts = [f"{m['month']}", f"应发：{DUE_ZH[m['due']]}", f"发放指令：{INSTRUCTED_ZH[m['instructed']]}"]
    if m["amount"] is not None:
        parts.append(f"月金额：{m['amount']:,.2f} 元")
    if s:
        parts.append(f"更正：{SETTLED_ZH.get(s['kind'], s['kind'])}（{s['month']} 发放月）")
    return "\n".join(parts)


class LedgerStrip(QWidget):
    """One entitlement's months (the last ``months`` shown), with its outstanding figures."""

    def __init__(self, title: str, ledger: dict, months: int = 24, parent=None):
        super().__init__(parent)
        self.setObjectName("ledgerStrip")
        self.ledger = ledger
        shown = ledger["months"][-months:]
        self.cells: list[QLabel] = []
        head = QHBoxLayout()
        name = QLabel(title, self)
        name.setObjectName("fieldCaption")
        head.addWidget(name)
        head.addStretch(1)
        self.totals = QLabel(self._totals_text(), self)
        self.totals.setObjectName("muted")
        head.addWidget(self.totals)
        grid = QGridLayout()
        grid.setHorizontalSpacing(2)
        grid.setVerticalSpacing(1)
        for col, m in enumerate(shown):
            state = cell_state(m)
            bg, fg, mark, _ = STATES[state]
            cell = QLabel(mark, self)
            cell.setObjectName("ledgerCell")
            cell.setProperty("state", state)
            cell.setProperty("month", m["month"])
            cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cell.setFixedSize(26, 22)
            border = "#9e9e9e" if state == "future" else bg
            cell.setStyleSheet(f"QLabel {{ background: {bg}; color: {fg}; border: 1px solid {border}; "
                               f"border-radius: 3px; font-weight: bold; }}")
            cell.setToolTip(tooltip(m))
            self.cells.append(cell)
            grid.addWidget(cell, 0, col)
            month = int(m["month"][5:7])
            lab = QLabel(f"{m['month'][2:4]}年" if month == 1 or col == 0 else str(month), self)
            lab.setObjectName("muted")
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lab.setStyleSheet("font-size: 9pt;")
            grid.addWidget(lab, 1, col)
        grid.setColumnStretch(len(shown), 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addLayout(grid)
        if not shown:
            layout.addWidget(QLabel("尚无发放记录。", self))

    def _totals_text(self) -> str:
        e = self.ledger

        def y(v):
            return "金额未知" if v is None else f"{v:,.2f} 元"
        parts = []
        if e.get("back_pay_outstanding"):
            parts.append(f"待补发 {y(e['back_pay_outstanding'])}")
        if e.get("recovery_open"):
            parts.append(f"追回中 {y(e['recovery_open'])}")
        if e.get("overpaid_unclaimed"):
            parts.append(f"多发未追 {y(e['overpaid_unclaimed'])}")
        return "；".join(parts) or "无待补发、无待追回"


def legend(parent=None) -> QWidget:
    """The colours of the strip, once per page."""
    w = QWidget(parent)
    w.setObjectName("ledgerLegend")
    grid = QGridLayout(w)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setHorizontalSpacing(6)
    grid.setVerticalSpacing(2)
    states = ("ok", "back_paid", "owed", "pending", "held", "paid_unconfirmed", "stopped", "overpaid", "recovering")
    for k, state in enumerate(states):  # five to a row: fits 1024 pixels
        bg, fg, mark, zh = STATES[state]
        r, c = divmod(k, 5)
        chip = QLabel(mark or " ", w)
        chip.setFixedSize(18, 16)
        chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
        chip.setStyleSheet(f"QLabel {{ background: {bg}; color: {fg}; border-radius: 2px; font-size: 8pt; }}")
        grid.addWidget(chip, r, 2 * c)
        text = QLabel(zh, w)
        text.setObjectName("muted")
        grid.addWidget(text, r, 2 * c + 1)
    grid.setColumnStretch(10, 1)
    return w
