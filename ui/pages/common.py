"""Helpers shared by the pages: table set-up, date and label formatting."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView

from ui.models.table import SORT_ROLE

RESIDENCE_ZH = {"local": "本地", "remote": "异地"}
SEX_ZH = {"M": "男", "F": "女", "男": "男", "女": "女", "1": "男", "2": "女"}


def fmt_date(value: date | None) -> str:
    return value.isoformat() if value else "—"


def fmt_month(value: str | None) -> str:
    """``2026-12`` → ``2026年12月``."""
    if not value:
        return "—"
    year, month = value.split("-")[:2]
    return f"{year}年{int(month)}月"


def residence_zh(value: str | None) -> str:
    return RESIDENCE_ZH.get(value or "", value or "—")


def sex_zh(value: str | None) -> str:
    return SEX_ZH.get(value or "", value or "—")


def make_table(model, parent=None, sortable: bool = False) -> QTableView:
    view = QTableView(parent)
    if sortable:
        proxy = QSortFilterProxyModel(view)
        proxy.setSourceModel(model)
        proxy.setSortRole(SORT_ROLE)
        view.setModel(proxy)
        view.setSortingEnabled(True)
    else:
        view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(40)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    view.setTabKeyNavigation(False)
    return view


def heading(text: str, parent=None) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("pageTitle")
    return label


def hint(text: str, parent=None) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def row_of(view: QTableView, row: int):
    """The DTO behind visual row ``row`` (through a sort proxy if there is one)."""
    from ui.models.table import ROW_ROLE

    model = view.model()
    return model.data(model.index(row, 0), ROW_ROLE)


ALIGN_CENTER = Qt.AlignmentFlag.AlignCenter
