"""The shell: navigation on the left, one page at a time on the right, a status bar.

The window appears at once and stays responsive while ``ui.app`` opens the database in the
background; the pages are enabled when :meth:`MainWindow.set_backend` hands them the services.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QMainWindow,
    QProgressBar,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
    QHBoxLayout,
)

from ui.pages.due import DuePage
from ui.pages.person import PersonPage
from ui.pages.search import SearchPage

NAV = [("search", "查询人员", "F2"), ("due", "下月暂停名单", "F3")]


class MainWindow(QMainWindow):
    backend_ready = Signal()

    def __init__(self, *, demo: bool = False, parent=None):
        super().__init__(parent)
        self.backend = None
        self.setWindowTitle("社保待遇资格认证柜台系统" + ("（演示数据）" if demo else ""))
        self.resize(1280, 800)

        self.nav = QListWidget(self)
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(190)
        self.nav.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for key, text, shortcut in NAV:
            item = QListWidgetItem(f"{text}\n{shortcut}")
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self._nav_clicked)
        self.nav.setEnabled(False)

        self.search_page = SearchPage(self)
        self.person_page = PersonPage(self)
        self.due_page = DuePage(self)
        self.stack = QStackedWidget(self)
        for page in (self.search_page, self.person_page, self.due_page):
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(self.search_page)  # typing works before the database is open
        self._back_to = self.search_page

        self.search_page.person_requested.connect(self.open_person)
        self.due_page.person_requested.connect(self.open_person)
        self.person_page.back_requested.connect(self.go_back)

        central = QWidget(self)
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.db_label = QLabel("正在打开数据库…", self)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)  # busy until a percentage arrives
        self.progress.setFixedWidth(260)
        self.date_label = QLabel("", self)
        self.statusBar().addWidget(self.db_label, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.date_label)

        for key, slot in (("Esc", self.go_back), ("F2", self.show_search), ("F3", self.show_due),
                          ("Ctrl+F", self.show_search), ("F5", self.refresh)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(slot)

    # --- start-up --------------------------------------------------------------------------------

    def set_progress(self, pct: int | None, text: str) -> None:
        """Start-up progress (opening, migrating, building demo data) in the status bar."""
        self.db_label.setText(text)
        self.search_page.summary.setText(text)
        if pct is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(pct)

    def set_backend(self, backend) -> None:
        self.backend = backend
        for page in (self.search_page, self.person_page, self.due_page):
            page.set_backend(backend)
        demo = "演示数据库 · " if backend.demo else ""
        self.db_label.setText(f"{demo}{backend.location}")
        self.date_label.setText(f"业务日期：{backend.as_of.isoformat()}")
        self.nav.setEnabled(True)
        self.progress.hide()
        if self.stack.currentWidget() is self.search_page:
            self.search_page.summary.setText("")
        self.show_search()
        self.backend_ready.emit()

    def show_fatal(self, text: str) -> None:
        self.progress.hide()
        self.db_label.setText(text)
        self.search_page.summary.setText(text)
        QMessageBox.critical(self, "无法打开数据库", text)

    # --- navigation -------------------------------------------------------------------------------

    def _select_nav(self, key: str | None) -> None:
        self.nav.blockSignals(True)
        for i in range(self.nav.count()):
            if self.nav.item(i).data(Qt.ItemDataRole.UserRole) == key:
                self.nav.setCurrentRow(i)
                break
        else:
            self.nav.clearSelection()
        self.nav.blockSignals(False)

    def _nav_clicked(self, row: int) -> None:
        key = self.nav.item(row).data(Qt.ItemDataRole.UserRole) if row >= 0 else None
        {"search": self.show_search, "due": self.show_due}.get(key, lambda: None)()

    def show_search(self) -> None:
        if self.backend is None:
            return
        self.stack.setCurrentWidget(self.search_page)
        self._select_nav("search")
        self.search_page.focus_field()

    def show_due(self) -> None:
        if self.backend is None:
            return
        first_time = self.stack.currentWidget() is not self.due_page
        self.stack.setCurrentWidget(self.due_page)
        self._select_nav("due")
        if first_time:
            self.due_page.reload()
        self.due_page.table.setFocus()

    def open_person(self, person_id: str) -> None:
        current = self.stack.currentWidget()
        if current is not self.person_page:
            self._back_to = current
        self.stack.setCurrentWidget(self.person_page)
        self._select_nav(None)
        self.person_page.show_person(person_id)
        self.person_page.setFocus()

    def go_back(self) -> None:
        """Esc: from a person back to where the clerk came from; elsewhere back to the search."""
        current = self.stack.currentWidget()
        if current is self.person_page:
            if self._back_to is self.due_page:
                self.stack.setCurrentWidget(self.due_page)
                self._select_nav("due")
                self.due_page.table.setFocus()
            else:
                self.show_search()
        elif current is self.due_page:
            self.show_search()
        elif current is self.search_page:
            self.search_page.field.clear()
            self.search_page.focus_field()

    def refresh(self) -> None:
        current = self.stack.currentWidget()
        if current is self.due_page:
            self.due_page.reload()
        elif current is self.person_page and self.person_page.view is not None:
            self.person_page.show_person(self.person_page.view.id)
        elif current is self.search_page:
            self.search_page.search_now()
