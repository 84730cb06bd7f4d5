"""The None-refcount guard: with the defective binding, thousands of paints cannot free None."""

from __future__ import annotations

import sys

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPainter

from ui.qt_compat import guard_none_refcount, none_refcount_leak


def test_painting_cannot_exhaust_none(qapp):
    leak = none_refcount_leak()
    guard_none_refcount()
    if sys.version_info < (3, 12) and leak >= 50:
        assert sys.getrefcount(None) > 1 << 39  # guarded: far beyond any session's paints
    before = sys.getrefcount(None)
    img = QImage(8, 8, QImage.Format.Format_RGB32)
    p = QPainter(img)
    for _ in range(20_000):  # ~10 minutes of a 30 fps preview's fillRect calls
        p.fillRect(QRect(0, 0, 4, 4), QColor(0, 0, 0))
    p.end()
    assert sys.getrefcount(None) > 0 and sys.getrefcount(None) >= before - 20_010
