"""Large spreadsheets written fast and safely (openpyxl write-only mode).

Written to a temporary file beside the target and renamed at the end, so a cancelled or failed
export never leaves half a file that someone might send to the payroll department.

Formula-safe (issue 16 §4): openpyxl turns any text beginning with ``=`` into a formula; every
such cell is written as a string cell instead (:func:`safe_row`), so a name like
``=HYPERLINK(…)`` arrives as the text it is. Text beginning with ``+ - @`` or a tab is a string
cell already.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from desktop.errors import UserFacingError

CHECK_EVERY = 2_000


class Cancelled(UserFacingError):
    code = "cancelled"

    def __init__(self):
        super().__init__("已取消")


def text_cell(ws, value: str):
    """A write-only string cell holding ``value`` as text, never as a formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value)
    cell.data_type = "s"
    return cell


def safe_row(ws, row) -> list:
    """``row`` with every text that a spreadsheet would take for a formula as a string cell."""
    return [text_cell(ws, v) if type(v) is str and v[:1] == "=" else v for v in row]


def _cancelled(cancel) -> bool:
    if cancel is None:
        return False
    return bool(cancel.is_set() if hasattr(cancel, "is_set") else cancel())


def write_sheets(path: Path, sheets: list[tuple[str, str | None, list[str], Iterable[list], int]], *,
                 progress: Callable[[int, str], None] | None = None, cancel=None,
                 widths: dict[int, float] | None = None) -> Path:
    """``sheets``: (title, caption or None, header, rows, row count). The caption is row 1, the
    header row 2 (row 1 when there is no caption). Returns the path."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    total = sum(s[4] for s in sheets) or 1
    done = 0
    wb = Workbook(write_only=True)
    try:
        done = _fill(wb, sheets, progress, cancel, total, widths)
    except BaseException:
        _discard(wb)
        raise
    if _cancelled(cancel):
        _discard(wb)
        raise Cancelled()
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if progress:
        progress(100, f"已导出 {done:,} 行")
    return path


def _discard(wb) -> None:
    """Finish the write-only sheets (their writers are open generators over temp files) into a
    throw-away file, so nothing is left open or half-written."""
    fd, tmp = tempfile.mkstemp(suffix=".xlsx.discard")
    os.close(fd)
    try:
        wb.save(tmp)
    except Exception:  # noqa: BLE001 - best effort: only temp files are at stake
        pass
    finally:
        os.unlink(tmp)


def _fill(wb, sheets, progress, cancel, total, widths) -> int:
    from openpyxl.styles import Font

    done = 0
    for title, caption, header, rows, _count in sheets:
        ws = wb.create_sheet(title[:31])
        for i, h in enumerate(header):
            ws.column_dimensions[chr(65 + i) if i < 26 else "A"].width = (widths or {}).get(i, max(10, 2.2 * len(h) + 2))
        if caption:
            cell = text_cell(ws, caption)
            cell.font = Font(bold=True, size=12)
            ws.append([cell])
        head = []
        for h in header:
            cell = text_cell(ws, h)
            cell.font = Font(bold=True)
            head.append(cell)
        ws.append(head)
        for row in rows:
            ws.append(safe_row(ws, row))
            done += 1
            if done % CHECK_EVERY == 0:
                if _cancelled(cancel):
                    raise Cancelled()
                if progress:
                    progress(min(99, 100 * done // total), f"已写入 {done:,}/{total:,} 行")
    return done
