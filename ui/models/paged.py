"""A table model that shows a long list as a view: rows are fetched a page at a time as the
view scrolls (Qt's ``canFetchMore`` / ``fetchMore``), sorting and filtering are asked of the
source (SQL), and only the rows on screen so far exist as Python objects.

The source is a Qt-free object from ``desktop.services.lists`` (:class:`desktop.services.lists.PagedList`):
``page(after, limit)`` returns the rows that follow the row ``after`` (None: the first page) in
the current order — keyset paging, each page one indexed query — and ``sort(key, descending)``
/ ``filter(text)`` change the order and the filter. Columns are :class:`ui.models.table.Column`
with ``sort_key`` naming the source's sort key (None: not sortable).
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from ui.models.table import Column, RowTableModel

PAGE = 200


class PagedTableModel(RowTableModel):
    def __init__(self, columns: Sequence[Column], sort_keys: Sequence[str | None], parent=None, *, page: int = PAGE):
        super().__init__(columns, parent)
        self._sort_keys = list(sort_keys)
        self._source = None
        self._done = True
        self._page = page

    def set_source(self, source) -> None:
        """Show a new list (None: empty); the first page is read at once."""
        self.beginResetModel()
        self._source = source
        self._rows = []
        self._done = source is None
        self._rows = self._more()
        self.endResetModel()

    def source(self):
        return self._source

    def reload(self) -> None:
        self.set_source(self._source)

    def set_filter(self, text: str) -> None:
        if self._source is not None:
            self._source.filter(text)
            self.reload()

    def _more(self) -> list:
        if self._done or self._source is None:
            return []
        rows = self._source.page(self._rows[-1] if self._rows else None, self._page)
        if len(rows) < self._page:
            self._done = True
        return rows

    def set_rows(self, rows) -> None:
        """Show a plain list instead of a source (small lists, tests)."""
        self.beginResetModel()
        self._source, self._rows, self._done = None, list(rows), True
        self.endResetModel()

    def replace_row(self, i: int, row) -> None:
        self._rows[i] = row
        self.dataChanged.emit(self.index(i, 0), self.index(i, self.columnCount() - 1))

    # --- Qt's incremental fetching ------------------------------------------------------------

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:
        return not parent.isValid() and not self._done

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:
        if parent.isValid():
            return
        rows = self._more()
        if rows:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()

    def fetch_all(self) -> None:
        """Every row (tests; a selection of everything)."""
        while self.canFetchMore():
            self.fetchMore()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if self._source is None or not (0 <= column < len(self._sort_keys)) or self._sort_keys[column] is None:
            return
        self._source.sort(self._sort_keys[column], order == Qt.SortOrder.DescendingOrder)
        self.reload()


def list_model(columns: Sequence[Column], parent=None, *, page: int = PAGE) -> PagedTableModel:
    """A paged model over a list already computed (:func:`list_source`): every column sortable
    by its ``key`` (else its text), as the sorting proxy sorted it — but once per header click in
    the source, not per cell through ``data()``, and only the rows on screen are laid out."""
    return PagedTableModel(columns, [str(i) for i in range(len(columns))], parent, page=page)


def list_source(rows, columns: Sequence[Column], match=None):
    """``rows`` as the source of :func:`list_model` (desktop.services.paged_lists.RowsList)."""
    from desktop.services.paged_lists import RowsList

    return RowsList(rows, {str(i): (c.key or c.text) for i, c in enumerate(columns)}, match)
