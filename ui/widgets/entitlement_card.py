"""One entitlement on the person page: what it is, its status badge, deadline and consequence."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout

from ui.widgets.status import STATUS_COLORS, StatusBadge


def _month_zh(value: str | None) -> str:
    if not value:
        return "—"
    year, month = value.split("-")[:2]
    return f"{year}年{int(month)}月"


def consequence_zh(view, as_of: date) -> str:
    """The one sentence a clerk reads out to the resident."""
    if view.status == "terminated":
        return "待遇已终止发放。"
    if view.status == "suspended":
        since = view.payment_suspended_since or view.suspend_from
        return f"因未按期认证，自{_month_zh(since)}起已暂停发放；今天认证后次月恢复并补发。"
    if view.resume_pending:
        return f"已重新认证，下次发放时恢复发放并补发暂停月份（自{_month_zh(view.payment_suspended_since)}起暂停）。"
    days = (view.deadline - as_of).days
    if view.status == "overdue":
        return f"已超过截止日期 {-days} 天，如不认证，将自{_month_zh(view.suspend_from)}起暂停发放。"
    if view.status == "due_soon":
        return f"还有 {days} 天到期，请在 {view.deadline.isoformat()} 前完成认证，否则自{_month_zh(view.suspend_from)}起暂停发放。"
    return f"距截止日期还有 {days} 天。"


class EntitlementCard(QFrame):
    """Shows one ``EntitlementView``; ``self.view`` keeps it for tests and actions. ``columns``: the
    facts side by side (the counter's narrow column takes 2)."""

    def __init__(self, view, as_of: date, parent=None, *, columns: int = 3):
        super().__init__(parent)
        self.view = view
        self.setObjectName("entCard")
        color = STATUS_COLORS.get(view.status, ("#757575", ""))[0]
        self.setStyleSheet(f"QFrame#entCard {{ border-left: 8px solid {color}; }}")

        title = QLabel(view.cohort_zh, self)
        title.setObjectName("cardTitle")
        title.setWordWrap(True)
        category = QLabel(view.category_zh, self)
        category.setObjectName("muted")
        category.setWordWrap(True)
        self.badge = StatusBadge(view.status, view.status_zh, self)

        head = QHBoxLayout()
        head.addWidget(title)
        head.addWidget(category)
        head.addStretch(1)
        head.addWidget(self.badge)

        self.deadline_label = QLabel(view.deadline.isoformat(), self)
        self.deadline_label.setObjectName("deadlineValue")
        grid = QGridLayout()
        grid.setHorizontalSpacing(24 if columns > 2 else 12)
        grid.setVerticalSpacing(6)
        pairs = [
            ("认证截止日期", self.deadline_label),
            ("最近认证", QLabel(view.last_certified.isoformat(), self)),
            ("逾期暂停月份", QLabel(_month_zh(view.suspend_from), self)),
            ("月待遇", QLabel("—" if view.monthly_amount is None else f"{view.monthly_amount:,.2f} 元", self)),
            ("待遇开始", QLabel(view.start_date.isoformat(), self)),
            ("认证周期", QLabel(view.rule_zh, self)),
        ]
        for i, (caption, value) in enumerate(pairs):
            value.setWordWrap(True)  # a long rule ("每半年认证一次（1-6月、7-12月…）") wraps in a narrow column
            cap = QLabel(caption, self)
            cap.setObjectName("fieldCaption")
            r, c = divmod(i, columns)
            grid.addWidget(cap, 2 * r, c)
            grid.addWidget(value, 2 * r + 1, c)
        self.note = QLabel(consequence_zh(view, as_of), self)
        self.note.setObjectName(f"note_{view.status}")
        self.note.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18 if columns > 2 else 10, 12, 18 if columns > 2 else 8, 12)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addLayout(grid)
        layout.addWidget(self.note)
