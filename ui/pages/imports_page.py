"""导入名单: the roster, certification results and death lists from other systems, each through
the column-mapping dialog (ui.dialogs.import_dialog), and the saved source profiles."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.platform.workstation import Actor
from ui.models.table import Column, RowTableModel
from ui.pages.bureau_common import actor_of, error_text
from ui.pages.common import heading, hint, make_table
from ui.workers import run_in_background


class ImportsPage(QWidget):
    finished = Signal(str)  # "loaded" | "imported" (tests wait on it)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.backend = None
        self.actor: Actor | None = None
        self.dialog = None
        self.title = heading("导入名单", self)
        self.roster_button = QPushButton("导入待遇人员名册…", self)
        self.roster_button.setObjectName("primaryButton")
        self.roster_button.clicked.connect(lambda: self.start("roster"))
        self.results_button = QPushButton("导入认证结果或死亡名单…", self)
        self.results_button.clicked.connect(lambda: self.start("results"))
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.model = RowTableModel([
            Column("来源方案", lambda p: p.name), Column("名单类别", lambda p: p.as_json()["kind_zh"]),
            Column("列对应关系", lambda p: "，".join(f"{s}→{t or '不导入'}" for s, t in p.columns.items())),
            Column("保存人", lambda p: p.updated_by or "—"),
        ], self)
        self.table = make_table(self.model, self)
        self.table.setObjectName("profilesTable")

        buttons = QHBoxLayout()
        buttons.addWidget(self.roster_button)
        buttons.addWidget(self.results_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        layout.addWidget(self.title)
        layout.addWidget(hint("支持 .xls、.xlsx、.ods 和 CSV（UTF-8 或 GBK）。表头在标题行下面、有合计行都可以；"
                              "列名不同的，在导入窗口中指定对应关系，可保存为来源方案，下次同样的文件自动套用。", self))
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(QLabel("保存的来源方案", self))
        layout.addWidget(self.table, 1)

    def set_backend(self, backend) -> None:
        self.backend = backend

    def set_operator(self, operator, workstation: str) -> None:
        self.actor = Actor(operator.username, workstation, operator.role)

    def activated(self) -> None:
        self.load()

    def load(self) -> None:
        if self.backend is None:
            return
        profiles = self.backend.services.profiles
        run_in_background(lambda: profiles.list(), self._shown, self._failed, owner=self)

    def _shown(self, profiles) -> None:
        self.model.set_rows(profiles)
        self.finished.emit("loaded")

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(error_text(exc))
        self.finished.emit("failed")

    def start(self, kind: str) -> None:
        from ui.dialogs.import_dialog import open_import

        if self.backend is None:
            return
        actor = self.actor or actor_of(self.backend)
        services = self.backend.services
        self.dialog = open_import(self, services.imports, services.profiles, actor, kind, today=self.backend.as_of)
        if self.dialog is not None:
            self.dialog.finished_import.connect(self._imported)

    def _imported(self, report) -> None:
        if not isinstance(report, BaseException):
            doc = report.as_json()
            self.message.setText(f"上次导入：新增 {doc['imported']}，更新 {doc['updated']}，未变 {doc['unchanged']}，"
                                 f"拒绝 {len(doc['rejected'])}")
        self.load()
        self.finished.emit("imported")


PAGE_SPEC = {"key": "imports", "title": "导入名单", "shortcut": None, "order": 43, "cls": ImportsPage}
