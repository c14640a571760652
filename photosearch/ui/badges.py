"""Small badges on a tile saying why the photo matched: image, caption, file name, keyword, text in photo."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath

# why -> (label on the tile, colour); the order is the one the core reports.
BADGES = {
    "image": ("image", QColor(37, 99, 235, 215)),
    "caption": ("caption", QColor(5, 150, 105, 215)),
    "filename": ("file name", QColor(217, 119, 6, 215)),
    "keyword": ("keyword", QColor(147, 51, 234, 215)),
    "text-in-photo": ("text in photo", QColor(219, 39, 119, 215)),
}
HEIGHT = 16


def badge_labels(why) -> list[str]:
    return [BADGES[w][0] for w in why or () if w in BADGES]


def paint_why_badges(painter: QPainter, image_rect: QRect, why, base_font: QFont) -> list[QRectF]:
    """Pills along the bottom of the thumbnail, left to right, as many as fit; returns where they went."""
    if not why:
        return []
    painter.save()
    font = QFont(base_font)
    font.setPointSizeF(max(6.5, base_font.pointSizeF() * 0.75))
    font.setBold(True)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    x, y = image_rect.left() + 4, image_rect.bottom() - HEIGHT - 4
    placed: list[QRectF] = []
    for key in why:
        if key not in BADGES:
            continue
        text, colour = BADGES[key]
        width = metrics.horizontalAdvance(text) + 10
        if x + width > image_rect.right() - 4:
            break
        pill = QRectF(x, y, width, HEIGHT)
        path = QPainterPath()
        path.addRoundedRect(pill, HEIGHT / 2, HEIGHT / 2)
        painter.fillPath(path, colour)
        painter.setPen(Qt.GlobalColor.white)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
        placed.append(pill)
        x += width + 3
    painter.restore()
    return placed
