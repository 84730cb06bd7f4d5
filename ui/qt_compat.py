"""Work-arounds for defects of the Qt binding in use.

PySide6 6.12.0 on Python 3.11: every call of a ``void`` QPainter method (drawLine, fillRect,
drawImage, setPen, ...) *decrements* the reference count of ``None`` without having incremented it
(measured: -1 per call). A widget that paints 30 times a second (the face preview, the resident
screen) drives it to zero within minutes and the interpreter aborts with "Fatal Python error:
none_dealloc". Python >= 3.12 makes ``None`` immortal, so the bug is harmless there.

:func:`guard_none_refcount` probes for the defect once and, only when it is present on an
interpreter without immortal objects, raises ``None``'s count by 2**40 (what 3.12 does for every
singleton): ``None`` is never freed anyway, so nothing else changes. The real fix is a PySide6
release without the defect or Python >= 3.12 (a pyproject decision, see the face report).
"""

from __future__ import annotations

import ctypes
import sys

_done = False


def none_refcount_leak() -> int:
    """References of None lost by 100 QPainter.fillRect calls (0 on a sound binding)."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QColor, QImage, QPainter

    img = QImage(4, 4, QImage.Format.Format_RGB32)
    p = QPainter(img)
    colour, rect = QColor(0, 0, 0), QRect(0, 0, 2, 2)
    for _ in range(3):   # the first call of a method does not show it (measured)
        p.fillRect(rect, colour)
    before = sys.getrefcount(None)
    for _ in range(100):
        p.fillRect(rect, colour)
    after = sys.getrefcount(None)
    p.end()
    return max(0, before - after)


def guard_none_refcount() -> bool:
    """Apply the work-around when needed; True when it was applied (idempotent)."""
    global _done
    if _done or sys.version_info >= (3, 12):
        return False
    _done = True
    if none_refcount_leak() < 50:
        return False
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
    return True
