"""Small badges on a tile saying why the photo matched: image, caption, file name, keyword, text in photo.

Where a small tile has no room for them all, a grey "+N" badge stands for the rest (the tile's tooltip
names every reason): a reason is never dropped without a trace.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath

# why -> (label on the tile, colour); the order is the one the core reports.
BADGES = {
    "image": ("image", QColor(37, 99, 235, 215)),
    "caption": ("caption", QColor(5, 150, 105, 215)),
    "filename": ("file name", QColor(217, 119, 6, 215)),
    "keyword": ("keyword", QColor(147, 51, 234, 215)),
    "text-in-photo": ("text in photo", QColor(219, 39, 119, 215)),
}
MORE = QColor(75, 85, 99, 215)  # the "+N" badge
HEIGHT = 16
GAP = 3


def badge_labels(why) -> list[str]:
    return [BADGES[w][0] for w in why or () if w in BADGES]


def fit_badges(why, width: int, metrics: QFontMetrics) -> list[tuple[str, QColor, int]]:
    """The badges (text, colour, width) that fit in width: every reason's, or as many as fit beside a
    "+N" badge for the others."""
    reasons = [BADGES[w] for w in why or () if w in BADGES]
    badges = [(text, colour, metrics.horizontalAdvance(text) + 10) for text, colour in reasons]

    def total(items) -> int:
        return sum(w for _, _, w in items) + GAP * max(len(items) - 1, 0)

    if total(badges) <= width:
        return badges
    for shown in range(len(badges) - 1, -1, -1):
        more = f"+{len(badges) - shown}"
        fitted = [*badges[:shown], (more, MORE, metrics.horizontalAdvance(more) + 10)]
        if total(fitted) <= width or shown == 0:
            return fitted
    return []


def paint_why_badges(painter: QPainter, image_rect: QRect, why, base_font: QFont) -> list[QRectF]:
    """Pills along the bottom of the thumbnail, left to right (see fit_badges); returns where they went."""
    if not why:
        return []
    painter.save()
    font = QFont(base_font)
    font.setPointSizeF(max(6.5, base_font.pointSizeF() * 0.75))
    font.setBold(True)
    painter.setFont(font)
    x, y = image_rect.left() + 4, image_rect.bottom() - HEIGHT - 4
    placed: list[QRectF] = []
    for text, colour, width in fit_badges(why, image_rect.width() - 8, painter.fontMetrics()):
        pill = QRectF(x, y, width, HEIGHT)
        path = QPainterPath()
        path.addRoundedRect(pill, HEIGHT / 2, HEIGHT / 2)
        painter.fillPath(path, colour)
        painter.setPen(Qt.GlobalColor.white)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
        placed.append(pill)
        x += width + GAP
    painter.restore()
    return placed
