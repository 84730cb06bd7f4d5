"""Traditional Mongolian script on screen: the bundled font, and vertical text.

Traditional Mongolian runs top to bottom, its columns left to right. Qt has no vertical layout, so
(as the Unicode model of the script intends) the text is shaped horizontally — QTextLayout shapes
it with HarfBuzz and the font's OpenType ``mong`` features, which pick each letter's initial,
medial or final form and join the letters — and every line is then drawn turned 90° clockwise:
the line's start at the top, the glyphs' tops facing right, each following line in the next
column to the right.

The font is Noto Sans Mongolian (SIL Open Font License 1.1; ``resources/fonts/mongolian/``,
licence beside it and in LICENSES.md), registered with Qt on first use; a machine's own Mongolian
font is not relied on.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPainter, QTextLayout, QTextOption

from desktop.platform import paths

FONT_FILE = ("fonts", "mongolian", "NotoSansMongolian-Regular.ttf")
_family: list[str] = []


def mongolian_family() -> str | None:
    """The bundled font's family name ("Noto Sans Mongolian"), registering it once; None when the
    file is missing (the text is then left out rather than drawn as boxes)."""
    if not _family:
        font_id = QFontDatabase.addApplicationFont(str(paths.resource_path(*FONT_FILE)))
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        _family.append(families[0] if families else "")
    return _family[0] or None


def mongolian_font(pixel_size: int) -> QFont | None:
    family = mongolian_family()
    if family is None:
        return None
    font = QFont(family)
    font.setPixelSize(max(6, pixel_size))
    font.setStyleStrategy(QFont.StyleStrategy.NoFontMerging)  # never another font's glyphs
    return font


def vertical_layout(text: str, font: QFont, column_height: float) -> QTextLayout:
    """``text`` shaped and broken into lines of at most ``column_height`` (each line a column)."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    y = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(max(1.0, column_height))
        line.setPosition(QPointF(0, y))
        y += line.height()
    layout.endLayout()
    return layout


def columns_width(layout: QTextLayout) -> float:
    return sum(layout.lineAt(i).height() for i in range(layout.lineCount()))


def paint_vertical(painter: QPainter, rect: QRectF, text: str, font: QFont, color: QColor | str, *,
                   centre: bool = True) -> QRectF:
    """Draw ``text`` in ``rect`` top to bottom, columns left to right (centred across ``rect`` when
    they take less than its width, unless ``centre`` is False; the columns that do not fit are left
    out). Returns the area the columns cover."""
    layout = vertical_layout(text, font, rect.height())
    total = columns_width(layout)
    x = rect.left() + (max(0.0, (rect.width() - total) / 2) if centre else 0.0)
    painter.save()
    painter.setPen(QColor(color))
    drawn = 0.0
    for i in range(layout.lineCount()):
        line = layout.lineAt(i)
        if drawn + line.height() > rect.width() + 0.5:
            break
        painter.save()
        # the line's top edge goes to the column's right edge; its start to the top of the rect
        painter.translate(x + drawn + line.height(), rect.top())
        painter.rotate(90)
        line.draw(painter, QPointF(0, -line.y()))
        painter.restore()
        drawn += line.height()
    painter.restore()
    return QRectF(x, rect.top(), drawn, rect.height())


def fitting_font(text: str, rect: QRectF, max_px: int, min_px: int = 10) -> QFont | None:
    """The largest Mongolian font (pixel sizes ``max_px`` down to ``min_px``) whose columns of
    ``text`` fit ``rect``."""
    size = max_px
    while True:
        font = mongolian_font(size)
        if font is None:
            return None
        if size <= min_px or columns_width(vertical_layout(text, font, rect.height())) <= rect.width():
            return font
        size = max(min_px, int(size * 0.85))
