"""Painting: photo tiles with a score badge, and caption rows with highlighted words."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QPainter,
    QPainterPath,
    QPalette,
    QPixmap,
    QTextDocument,
)
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from photosearch.ui.badges import paint_why_badges
from photosearch.ui.month_headers import HEADER_H, HeaderRole, paint_header
from photosearch.ui.results_model import (
    HtmlRole,
    ItemRole,
    ScoreRole,
    ThumbStateRole,
    WhyRole,
    copies_text,
    format_score,
)

_Index = QModelIndex | QPersistentModelIndex
PLACEHOLDER = QColor(226, 229, 234)
BADGE = QColor(20, 24, 31, 190)
ACCENT = QColor(37, 99, 235)


def _rounded(rect: QRectF, radius: float) -> QPainterPath:
    path = QPainterPath()
    path.addRoundedRect(rect, radius, radius)
    return path


def draw_thumbnail(painter: QPainter, rect: QRect, pixmap: QPixmap | None, state: str) -> None:
    """The picture fitted into rect (aspect kept, centred), or a placeholder while it loads."""
    painter.save()
    clip = _rounded(QRectF(rect), 6)
    painter.setClipPath(clip)
    if pixmap is None or pixmap.isNull():
        painter.fillRect(rect, PLACEHOLDER)
        painter.setPen(QColor(150, 156, 166))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "no preview" if state == "failed" else "…")
    else:
        scaled = pixmap.size().scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatioByExpanding)
        # Crop to a square-ish tile (like photo apps): the grid reads as a grid, not a ragged wall.
        target = QRect(0, 0, scaled.width(), scaled.height())
        target.moveCenter(rect.center())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawPixmap(target, pixmap)
    painter.restore()


class TileDelegate(QStyledItemDelegate):
    """A square thumbnail, its file name below, the score in a badge on the corner; or a month header
    (a row wide) where the model gives one (the timeline, date-sorted results)."""

    MARGIN = 6
    LABEL_H = 20

    def __init__(self, tile: int = 180, parent=None) -> None:
        super().__init__(parent)
        self.tile = tile

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        if index is not None and index.data(HeaderRole):  # a month header spans the view's width
            view = self.parent()
            width = view.viewport().width() - 8 if isinstance(view, QAbstractItemView) else 0
            return QSize(max(width, 100), HEADER_H)
        return QSize(self.tile + 2 * self.MARGIN, self.tile + self.LABEL_H + 2 * self.MARGIN)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        label = index.data(HeaderRole)
        if label:
            paint_header(painter, option, label)
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        cell = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected or option.state & QStyle.StateFlag.State_MouseOver:
            color = QColor(ACCENT) if selected else option.palette.color(QPalette.ColorRole.Midlight)
            if selected:
                color.setAlpha(60)
            painter.fillPath(_rounded(QRectF(cell.adjusted(2, 2, -2, -2)), 8), color)
        image_rect = QRect(cell.x() + self.MARGIN, cell.y() + self.MARGIN, self.tile, self.tile)
        draw_thumbnail(painter, image_rect, index.data(Qt.ItemDataRole.DecorationRole), index.data(ThumbStateRole))
        if selected:
            painter.setPen(ACCENT)
            painter.drawPath(_rounded(QRectF(image_rect).adjusted(0.5, 0.5, -0.5, -0.5), 6))

        score = index.data(ScoreRole)
        if score is not None:
            font = QFont(option.font)
            font.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
            font.setBold(True)
            painter.setFont(font)
            text = format_score(score)
            width = painter.fontMetrics().horizontalAdvance(text) + 12
            badge = QRectF(image_rect.right() - width - 5, image_rect.top() + 5, width, 18)
            painter.fillPath(_rounded(badge, 9), BADGE)
            painter.setPen(Qt.GlobalColor.white)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)

        paint_why_badges(painter, image_rect, index.data(WhyRole), option.font)  # issue 11

        painter.setFont(option.font)
        painter.setPen(option.palette.color(QPalette.ColorRole.Text))
        label_rect = QRect(image_rect.x(), image_rect.bottom() + 3, self.tile, self.LABEL_H)
        name = painter.fontMetrics().elidedText(
            index.data(Qt.ItemDataRole.DisplayRole) or "", Qt.TextElideMode.ElideMiddle, self.tile
        )
        painter.drawText(label_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name)
        painter.restore()


class CaptionDelegate(QStyledItemDelegate):
    """Thumbnail on the left, caption (rich text, matched words bold) and score on the right."""

    THUMB = 64
    PAD = 8

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.text_width = 240

    def _document(self, option: QStyleOptionViewItem, index: _Index, width: int) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(0)
        doc.setHtml(index.data(HtmlRole) or "")
        doc.setTextWidth(width)
        return doc

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        width = max(120, option.rect.width() or self.text_width + self.THUMB + 3 * self.PAD)
        text_w = width - self.THUMB - 3 * self.PAD
        doc = self._document(option, index, text_w)
        height = max(self.THUMB, int(doc.size().height()) + 18) + 2 * self.PAD
        return QSize(width, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        cell = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            color = QColor(ACCENT)
            color.setAlpha(45)
            painter.fillPath(_rounded(QRectF(cell.adjusted(2, 1, -2, -1)), 6), color)
        thumb_rect = QRect(cell.x() + self.PAD, cell.y() + self.PAD, self.THUMB, self.THUMB)
        draw_thumbnail(painter, thumb_rect, index.data(Qt.ItemDataRole.DecorationRole), index.data(ThumbStateRole))

        text_x = thumb_rect.right() + self.PAD
        text_w = cell.right() - text_x - self.PAD
        doc = self._document(option, index, text_w)
        painter.translate(text_x, cell.y() + self.PAD)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, option.palette.color(QPalette.ColorRole.Text))
        doc.documentLayout().draw(painter, context)
        painter.translate(-text_x, -(cell.y() + self.PAD))

        score = index.data(ScoreRole)
        if score is not None:
            font = QFont(option.font)
            font.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
            painter.setFont(font)
            painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
            score_y = cell.y() + self.PAD + int(doc.size().height()) + 2
            painter.drawText(
                QRect(text_x, score_y, text_w, 16), Qt.AlignmentFlag.AlignLeft, caption_footer(index, score)
            )
        # A hairline between rows keeps long captions apart.
        painter.setPen(option.palette.color(QPalette.ColorRole.Midlight))
        painter.drawLine(cell.left() + self.PAD, cell.bottom(), cell.right() - self.PAD, cell.bottom())
        painter.restore()


def caption_footer(index: _Index, score: float) -> str:
    """"score 0.912", and "· +2 copies" where the row stands for copies of the photo (the tooltip lists them)."""
    item = index.data(ItemRole)
    copies = getattr(item, "copies", ())
    return f"score {format_score(score)}" + (f" · +{copies_text(item)}" if copies else "")
