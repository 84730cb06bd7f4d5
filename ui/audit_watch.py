"""Checks the audit log's hash chain in the background at start-up and warns a supervisor.

Everyone sees a red notice in the status bar when the chain is broken; a supervisor or admin
gets a dialog naming the first broken event when they sign in (or at once if already signed in).
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMessageBox

from ui import workers

SENIOR = ("supervisor", "admin")


class AuditWatch:
    def __init__(self, window, services):
        self.window = window
        self.services = services
        self.result = None
        self.operator = None
        self._warned = set()
        self.label = QLabel("", window)
        self.label.setObjectName("auditWarning")
        self.label.setStyleSheet("color:#b91c1c;font-weight:bold;")
        self.label.hide()
        window.statusBar().addPermanentWidget(self.label)

    def start(self) -> None:
        from desktop.services.audit import verify_chain

        db = self.services.db
        workers.run_in_background(lambda: verify_chain(db), self._checked, lambda exc: None)

    def signed_in(self, operator) -> None:
        self.operator = operator
        self._maybe_warn()

    def _checked(self, result) -> None:
        self.result = result
        if not result.ok:
            self.label.setText("⚠ 审计日志校验失败，请通知主管")
            self.label.show()
        self._maybe_warn()

    def _maybe_warn(self) -> None:
        r, op = self.result, self.operator
        if r is None or r.ok or op is None or op.role not in SENIOR or op.username in self._warned:
            return
        self._warned.add(op.username)
        fb = r.first_broken
        QMessageBox.warning(
            self.window, "审计日志可能被篡改",
            f"审计日志的哈希链在第 {fb['seq']} 条记录（{fb['action']}，工作站 {fb['workstation']}）处断开。\n"
            "这表示该记录或其前一条记录被修改或删除。请保全本机数据库文件并按程序上报。\n"
            "命令行复核：certdesk audit verify --json",
        )
