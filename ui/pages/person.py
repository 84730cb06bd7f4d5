"""人员详情: who the person is, every entitlement with its status and deadline, and the history."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.rules import STATUS_ZH
from ui.models.table import Column, RowTableModel
from ui.pages.common import fmt_date, make_table, residence_zh, sex_zh
from ui.widgets.entitlement_card import EntitlementCard
from ui.widgets.ledger_strip import LedgerStrip, legend
from ui.widgets.status import StatusBadge
from ui.workers import run_in_background

KIND_ZH = {"certification": "认证", "event": "发放变动"}


class PersonPage(QWidget):
    back_requested = Signal()
    person_shown = Signal(str)  # person id, once the page shows that person
    load_failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.backend = None
        self.view = None  # the PersonView on display
        self._seq = 0
        self._show_full_id = False

        self.back_button = QPushButton("← 返回 (Esc)", self)
        self.back_button.setObjectName("backButton")
        self.back_button.clicked.connect(self.back_requested)
        self.name_label = QLabel("", self)
        self.name_label.setObjectName("personName")
        self.id_label = QLabel("", self)
        self.id_label.setObjectName("personId")
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reveal_button = QPushButton("显示完整号码", self)
        self.reveal_button.setObjectName("flatButton")
        self.reveal_button.clicked.connect(self._toggle_id)
        self.overall = QWidget(self)  # holds the worst status badge
        QHBoxLayout(self.overall).setContentsMargins(0, 0, 0, 0)

        head = QHBoxLayout()
        head.addWidget(self.back_button)
        head.addSpacing(16)
        head.addWidget(self.name_label)
        head.addSpacing(12)
        head.addWidget(self.id_label)
        head.addWidget(self.reveal_button)
        head.addStretch(1)
        head.addWidget(self.overall)

        self.message = QLabel("", self)
        self.message.setObjectName("banner")
        self.message.setWordWrap(True)
        self.message.hide()

        self.facts = QFrame(self)
        self.facts.setObjectName("factsBox")
        self.facts_grid = QGridLayout(self.facts)
        self.facts_grid.setContentsMargins(16, 10, 16, 10)
        self.facts_grid.setHorizontalSpacing(28)

        self.cards_box = QVBoxLayout()
        self.cards_box.setSpacing(10)

        self.history_model = RowTableModel(
            [
                Column("日期", lambda h: fmt_date(h.when)),
                Column("类别", lambda h: KIND_ZH.get(h.kind, h.kind), align_center=True),
                Column("事项", lambda h: h.text_zh),
                Column("经办", lambda h: h.detail),
            ],
            self,
        )
        self.history = make_table(self.history_model, self)
        self.history.setObjectName("historyTable")

        body = QWidget(self)
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 8, 0)
        body_layout.setSpacing(12)
        body_layout.addWidget(self.message)
        body_layout.addWidget(self.facts)
        ent_title = QLabel("待遇与认证状态", body)
        ent_title.setObjectName("sectionTitle")
        body_layout.addWidget(ent_title)
        body_layout.addLayout(self.cards_box)
        self.ledger_title = QLabel("发放台账（近24个月：应发、发放指令与更正）", body)
        self.ledger_title.setObjectName("sectionTitle")
        body_layout.addWidget(self.ledger_title)
        self.ledger_box = QVBoxLayout()
        self.ledger_box.setSpacing(8)
        body_layout.addLayout(self.ledger_box)
        body_layout.addWidget(legend(body))
        hist_title = QLabel("认证与发放记录", body)
        hist_title.setObjectName("sectionTitle")
        body_layout.addWidget(hist_title)
        body_layout.addWidget(self.history)
        body_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.setSpacing(12)
        layout.addLayout(head)
        layout.addWidget(scroll, 1)

    def set_backend(self, backend) -> None:
        self.backend = backend

    # --- loading -------------------------------------------------------------------------------

    def show_person(self, person_id: str) -> None:
        self._seq += 1
        seq = self._seq
        self._show_full_id = False
        self.view = None
        self.name_label.setText("正在读取…")
        self.id_label.setText("")
        self._clear_cards()
        self.history_model.set_rows([])
        persons, as_of = self.backend.persons, self.backend.as_of
        run_in_background(
            lambda: persons.show_by_id(person_id, as_of),
            lambda view: self._loaded(seq, view),
            lambda exc: self._failed(seq, exc),
            owner=self,
        )

    def _failed(self, seq: int, exc: BaseException) -> None:
        if seq != self._seq:
            return
        self.name_label.setText("读取失败")
        self._banner(str(exc), "error")
        self.load_failed.emit(str(exc))

    def _loaded(self, seq: int, view) -> None:
        if seq != self._seq:
            return
        self.view = view
        self.name_label.setText(view.name)
        self._update_id()
        self._fill_facts(view)
        worst = _worst(view.entitlements)
        self._set_overall(worst)
        if view.death_date:
            self._banner(f"该人员已于 {view.death_date.isoformat()} 死亡，待遇已终止。", "dead")
        elif any(e.status == "suspended" for e in view.entitlements):
            self._banner("有待遇已暂停发放：本人今天完成认证后，次月恢复发放并补发暂停月份。", "suspended")
        elif any(e.status in ("overdue", "due_soon") for e in view.entitlements):
            self._banner("有待遇即将到期或已逾期，请尽快为本人办理认证。", "warn")
        else:
            self.message.hide()
        for ent in view.entitlements:
            self.cards_box.addWidget(EntitlementCard(ent, view.as_of, self))
        if not view.entitlements:
            self.cards_box.addWidget(QLabel("该人员没有待遇记录。", self))
        self.history_model.set_rows(view.history)
        self._fit_history()
        self._load_ledger(seq, view)
        self.person_shown.emit(view.id)

    def _load_ledger(self, seq: int, view) -> None:
        services = getattr(self.backend, "services", None)
        if services is None:
            return
        payroll, as_of, pid = services.payroll, view.as_of, view.id
        run_in_background(lambda: payroll.ledgers_of(pid, None, as_of, last_months=24),
                          lambda ledgers: self._ledger_loaded(seq, view, ledgers),
                          lambda exc: None, owner=self)

    def _ledger_loaded(self, seq: int, view, ledgers: list[dict]) -> None:
        if seq != self._seq:
            return
        names = {e.id: e.cohort_zh for e in view.entitlements}
        for led in ledgers:
            self.ledger_box.addWidget(LedgerStrip(names.get(led["entitlement_id"], led["cohort"]), led, 24, self))

    def ledger_strips(self) -> list[LedgerStrip]:
        return [self.ledger_box.itemAt(i).widget() for i in range(self.ledger_box.count())
                if isinstance(self.ledger_box.itemAt(i).widget(), LedgerStrip)]

    def _fit_history(self) -> None:
        """Let the page scroll, not a table squeezed inside it: show up to 15 rows at full height."""
        rows = min(max(self.history_model.rowCount(), 2), 15)
        header = self.history.horizontalHeader().sizeHint().height()
        self.history.setFixedHeight(header + rows * self.history.verticalHeader().defaultSectionSize() + 6)

    # --- pieces --------------------------------------------------------------------------------

    def cards(self) -> list[EntitlementCard]:
        return [self.cards_box.itemAt(i).widget() for i in range(self.cards_box.count())
                if isinstance(self.cards_box.itemAt(i).widget(), EntitlementCard)]

    def _clear_cards(self) -> None:
        self.message.hide()
        while self.cards_box.count():
            w = self.cards_box.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        while self.ledger_box.count():
            w = self.ledger_box.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        while self.facts_grid.count():
            w = self.facts_grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        lay = self.overall.layout()
        while lay.count():
            w = lay.takeAt(0).widget()
            if w is not None:
                w.deleteLater()

    def _fill_facts(self, v) -> None:
        age = ""
        if v.birth_date:
            years = v.as_of.year - v.birth_date.year - ((v.as_of.month, v.as_of.day) < (v.birth_date.month, v.birth_date.day))
            age = f"（{years}岁）"
        facts = [
            ("性别", sex_zh(v.sex)),
            ("出生日期", fmt_date(v.birth_date) + age),
            ("联系电话", v.phone or "—"),
            ("居住地", residence_zh(v.residence)),
            ("居住地址", v.address or "—"),
        ]
        if v.outstanding_forms:
            forms = "、".join(f"{f['serial']}（截止 {fmt_date(f['deadline'])}）" for f in v.outstanding_forms)
            facts.append(("待寄回协助认证表", forms))
        for i, (caption, value) in enumerate(facts):
            cap = QLabel(caption, self.facts)
            cap.setObjectName("fieldCaption")
            val = QLabel(value, self.facts)
            val.setWordWrap(True)
            val.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            r, c = divmod(i, 3)
            self.facts_grid.addWidget(cap, 2 * r, c)
            self.facts_grid.addWidget(val, 2 * r + 1, c)

    def _set_overall(self, status: str | None) -> None:
        if status is None:
            return
        self.overall.layout().addWidget(StatusBadge(status, STATUS_ZH[status], self.overall))

    def _banner(self, text: str, kind: str) -> None:
        self.message.setText(text)
        self.message.setProperty("kind", kind)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.show()

    def _toggle_id(self) -> None:
        self._show_full_id = not self._show_full_id
        self._update_id()

    def _update_id(self) -> None:
        if self.view is None:
            return
        self.id_label.setText(self.view.id_number if self._show_full_id else self.view.masked_id)
        self.reveal_button.setText("隐藏号码" if self._show_full_id else "显示完整号码")


_SEVERITY = {"terminated": 0, "valid": 1, "due_soon": 2, "overdue": 3, "suspended": 4}


def _worst(entitlements) -> str | None:
    """The status that needs the clerk's attention most (terminated only if nothing else)."""
    if not entitlements:
        return None
    return max((e.status for e in entitlements), key=lambda s: _SEVERITY.get(s, 0))
