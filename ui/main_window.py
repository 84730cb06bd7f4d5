"""The shell: navigation on the left, one page at a time on the right, a status bar.

The window appears at once and stays responsive while ``ui.app`` opens the database in the
background; the pages are enabled when :meth:`MainWindow.set_backend` hands them the services.

It fits every counter screen (``ui.screen_fit``): its minimum size is below 1024×768, each page
sits in a scroll area (a tall page scrolls instead of making the window taller), the status bar's
texts never widen it, and 设置 and 锁屏 are at the foot of the navigation on every page.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
    QHBoxLayout,
)

import importlib
import pkgutil

import ui.pages
from ui.pages.due import DuePage
from ui.pages.person import PersonPage
from ui.pages.search import SearchPage

NAV = [("search", "查询人员", "F2"), ("due", "下月暂停名单", "F3")]
NAV_WIDTH = 168
SETTINGS_KEY = "Ctrl+,"   # 设置 (also F10 for keyboards where the comma is awkward)
LOCK_KEY = "Ctrl+L"


class PageStack(QStackedWidget):
    """A stack of pages, each inside its own scroll area: a page taller (or, as a last resort,
    wider) than the screen scrolls instead of making the window larger than the screen.

    The scroll areas are an implementation detail: :meth:`addWidget`, :meth:`setCurrentWidget`,
    :meth:`currentWidget` and :meth:`indexOf` take and return the pages themselves."""

    def addWidget(self, page: QWidget) -> int:  # noqa: N802 - Qt's name
        scroll = QScrollArea(self)
        scroll.setObjectName("pageScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        return super().addWidget(scroll)

    def page_at(self, index: int) -> QWidget | None:
        scroll = super().widget(index)
        return scroll.widget() if isinstance(scroll, QScrollArea) else scroll

    def scroll_of(self, page: QWidget) -> QScrollArea | None:
        parent = page.parentWidget()  # the scroll area's viewport
        scroll = parent.parentWidget() if parent is not None else None
        return scroll if isinstance(scroll, QScrollArea) else None

    def indexOf(self, page: QWidget) -> int:  # noqa: N802
        scroll = self.scroll_of(page)
        return super().indexOf(scroll if scroll is not None else page)

    def setCurrentWidget(self, page: QWidget) -> None:  # noqa: N802
        scroll = self.scroll_of(page)
        super().setCurrentWidget(scroll if scroll is not None else page)

    def currentWidget(self) -> QWidget | None:  # noqa: N802
        return self.page_at(self.currentIndex())


def discover_pages() -> list[dict]:
    """Pages that plug themselves in: any module of ``ui.pages`` defining ``PAGE_SPEC`` =
    ``{"key", "title", "shortcut" (or None), "order" (int), "cls"}``; ``cls(parent)`` builds the
    page, which gets ``set_backend(backend)`` like the built-in ones. Sorted by ``order``."""
    specs = []
    for info in pkgutil.iter_modules(ui.pages.__path__):
        module = importlib.import_module(f"ui.pages.{info.name}")
        spec = getattr(module, "PAGE_SPEC", None)
        if spec:
            specs.append(spec)
        specs.extend(getattr(module, "PAGE_SPECS", ()))  # a module may plug in several pages
    return sorted(specs, key=lambda s: s.get("order", 100))


class MainWindow(QMainWindow):
    backend_ready = Signal()
    settings_requested = Signal()
    lock_requested = Signal()

    def __init__(self, *, demo: bool = False, training: bool = False, parent=None):
        super().__init__(parent)
        from ui.screen_fit import MIN_WINDOW, available_area

        self.backend = None
        self.setWindowTitle("社保待遇资格认证柜台系统" + ("（培训模式：记录不计入正式数据）" if training
                                                           else "（演示数据）" if demo else ""))
        self.setMinimumSize(MIN_WINDOW)
        area = available_area(self)
        self.resize(min(1280, area.width()), min(800, area.height()))

        self.nav = QListWidget(self)
        self.nav.setObjectName("nav")
        self.nav.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.extra_pages: dict[str, QWidget] = {}
        self._extra_specs = discover_pages()
        # built-in pages sit at order 10/11; plugged-in pages sort around them (the counter first)
        entries = [(10 + i, key, text, sc) for i, (key, text, sc) in enumerate(NAV)]
        entries += [(s.get("order", 100), s["key"], s["title"], s.get("shortcut") or "") for s in self._extra_specs]
        for _, key, text, shortcut in sorted(entries, key=lambda e: e[0]):
            item = QListWidgetItem(f"{text}\n{shortcut}" if shortcut else text)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self._nav_clicked)
        self.nav.setEnabled(False)

        self.search_page = SearchPage(self)
        self.person_page = PersonPage(self)
        self.due_page = DuePage(self)
        self.stack = PageStack(self)
        for page in (self.search_page, self.person_page, self.due_page):
            self.stack.addWidget(page)
        for spec in self._extra_specs:
            page = spec["cls"](self)
            self.extra_pages[spec["key"]] = page
            self.stack.addWidget(page)
            if hasattr(page, "person_requested"):
                page.person_requested.connect(self.open_person)
            if hasattr(page, "attention_requested"):  # e.g. a card on the reader: the counter comes forward
                page.attention_requested.connect(lambda key=spec["key"]: self.show_page(key))
        self.stack.setCurrentWidget(self.search_page)  # typing works before the database is open
        self._back_to = self.search_page

        self.search_page.person_requested.connect(self.open_person)
        self.due_page.person_requested.connect(self.open_person)
        self.person_page.back_requested.connect(self.go_back)

        # 设置 and 锁屏 at the foot of the navigation: reachable from every page, with their keys
        self.settings_button = QPushButton(f"设置  {SETTINGS_KEY}", self)
        self.settings_button.setObjectName("navTool")
        self.settings_button.setToolTip(f"设置（{SETTINGS_KEY} 或 F10）")
        self.settings_button.clicked.connect(self.settings_requested.emit)
        self.lock_button = QPushButton(f"锁屏  {LOCK_KEY}", self)
        self.lock_button.setObjectName("navTool")
        self.lock_button.setToolTip(f"离开柜台时锁屏（{LOCK_KEY}）")
        self.lock_button.clicked.connect(self.lock_requested.emit)
        for b in (self.settings_button, self.lock_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setEnabled(False)  # until the database is open
        side = QWidget(self)
        side.setObjectName("navColumn")
        side.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        side.setFixedWidth(NAV_WIDTH)
        sv = QVBoxLayout(side)
        sv.setContentsMargins(0, 0, 0, 8)
        sv.setSpacing(6)
        sv.addWidget(self.nav, 1)
        sv.addWidget(self.settings_button)
        sv.addWidget(self.lock_button)

        # while the screen is locked nothing of the last resident is left on it: the navigation and
        # the pages are hidden behind a plain panel (the lock dialog sits on top of it)
        self.curtain = QLabel("屏幕已锁定", self)
        self.curtain.setObjectName("lockCurtain")
        self.curtain.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.curtain.hide()
        self.nav_column = side

        central = QWidget(self)
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(side)
        row.addWidget(self.stack, 1)
        row.addWidget(self.curtain, 1)
        self.setCentralWidget(central)

        # status-bar texts never widen the window: long ones are cut, the whole text is the tooltip
        self.db_label = QLabel("正在打开数据库…", self)
        self.db_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.db_label.setMinimumWidth(40)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)  # busy until a percentage arrives
        self.progress.setFixedWidth(200)
        self.date_label = QLabel("", self)
        self.statusBar().addWidget(self.db_label, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.date_label)

        shortcuts = [("Esc", self.go_back), ("F2", self.show_search), ("F3", self.show_due),
                     ("Ctrl+F", self.show_search), ("F5", self.refresh),
                     (SETTINGS_KEY, self._settings_key), ("F10", self._settings_key),
                     (LOCK_KEY, self._lock_key)]
        for spec in self._extra_specs:
            if spec.get("shortcut"):
                shortcuts.append((spec["shortcut"], lambda key=spec["key"]: self.show_page(key)))
        for key, slot in shortcuts:
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
        for page in (self.search_page, self.person_page, self.due_page, *self.extra_pages.values()):
            page.set_backend(backend)
        # where the data lives, in words; the path (a clerk has no use for it) only in the tooltip
        kind = backend.location.split("：", 1)[0] if backend.location else ""
        training = backend.training
        self.db_label.setText("培训数据库（不计入正式数据）" if training else "演示数据库" if backend.demo else kind)
        self.db_label.setToolTip(backend.location)
        self.date_label.setText(f"业务日期：{backend.as_of.isoformat()}")
        self.nav.setEnabled(True)
        for b in (self.settings_button, self.lock_button):
            b.setEnabled(True)
        self.progress.hide()
        if self.stack.currentWidget() is self.search_page:
            self.search_page.summary.setText("")
        self.show_search()
        self.backend_ready.emit()

    @property
    def locked(self) -> bool:
        return self.curtain.isVisibleTo(self)

    def set_locked(self, locked: bool) -> None:
        """Lock screen: hide every page (names, ID numbers, amounts) behind a plain panel."""
        self.curtain.setVisible(locked)
        self.nav_column.setVisible(not locked)
        self.stack.setVisible(not locked)
        if locked:
            self.statusBar().clearMessage()
        for page in self.extra_pages.values():
            if hasattr(page, "set_locked"):
                page.set_locked(locked)

    def _settings_key(self) -> None:
        if self.backend is not None and not self.locked:
            self.settings_requested.emit()

    def _lock_key(self) -> None:
        if self.backend is not None:
            self.lock_requested.emit()

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
        {"search": self.show_search, "due": self.show_due}.get(key, lambda: self.show_page(key))()

    def show_page(self, key: str) -> None:
        """Show a plugged-in page (see :func:`discover_pages`)."""
        page = self.extra_pages.get(key)
        if self.backend is None or page is None:
            return
        self.stack.setCurrentWidget(page)
        self._select_nav(key)
        if hasattr(page, "activated"):
            page.activated()

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
        """Esc: from a person back to where the clerk came from; a page with a step of its own
        (the counter) cancels that step and stays; elsewhere back to the search."""
        current = self.stack.currentWidget()
        if hasattr(current, "escape_pressed") and current.escape_pressed():
            return
        if current is self.person_page:
            back_key = next((k for k, p in self.extra_pages.items() if p is self._back_to), None)
            if back_key is not None:
                self.show_page(back_key)
            elif self._back_to is self.due_page:
                self.stack.setCurrentWidget(self.due_page)
                self._select_nav("due")
                self.due_page.table.setFocus()
            else:
                self.show_search()
        elif current is self.due_page or current in self.extra_pages.values():
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
