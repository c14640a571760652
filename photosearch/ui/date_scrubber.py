"""The date scrubber on the timeline's right edge (as in Google or Apple Photos): the strip stands for
the whole browse order, each month taking a height in proportion to its photos, with the years
marked. Hover or drag and a bubble names the month under the cursor; release jumps there.

It needs only the month list (Library.months: counts and first positions), never the photos, so it
works the same at 100,000 photos: a jump asks the timeline for the page at that month's position.
"""

from __future__ import annotations

import bisect

from PySide6.QtCore import QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QLabel, QWidget

from photosearch.core.browse import Month
from photosearch.ui.month_headers import month_label_of

PAD = 10  # pixels kept free above the newest and below the oldest month
WIDTH = 64


class DateScrubber(QWidget):
    jump = Signal(int)  # browse position of the first photo of the month released on

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dateScrubber")
        self.setFixedWidth(WIDTH)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.SizeVerCursor)
        self.setToolTip("Drag to travel through time; release to jump there")
        self._months: list[Month] = []
        self._starts: list[int] = []
        self._total = 0
        self.position = 0  # browse position at the top of the view (the marker)
        self.dragging = False
        self.hover: Month | None = None
        self.bubble = QLabel(parent)  # a sibling over the grid, so it can stand left of the strip
        self.bubble.setObjectName("scrubberBubble")
        self.bubble.setStyleSheet(
            "#scrubberBubble { background: #1f2937; color: white; border-radius: 10px; padding: 4px 10px; }"
        )
        self.bubble.hide()

    # -- data ------------------------------------------------------------------------------------
    def set_months(self, months: list[Month]) -> None:
        self._months = list(months)
        self._starts = [m.start for m in self._months]
        self._total = sum(m.count for m in self._months)
        self.update()

    def months(self) -> list[Month]:
        return list(self._months)

    def years(self) -> list[str]:
        """The year marks, newest first (what the strip labels)."""
        return list(dict.fromkeys(str(m.year) for m in self._months))

    def set_position(self, position: int) -> None:
        if position != self.position:
            self.position = max(position, 0)
            self.update()

    # -- geometry: strip height <-> browse position ------------------------------------------------
    def _span(self) -> float:
        return max(self.height() - 2 * PAD, 1)

    def y_of(self, position: int) -> float:
        return PAD + (position / self._total if self._total else 0.0) * self._span()

    def month_at(self, y: float) -> Month | None:
        if not self._months:
            return None
        fraction = min(max((y - PAD) / self._span(), 0.0), 1.0)
        target = min(int(fraction * self._total), self._total - 1)
        return self._months[max(bisect.bisect_right(self._starts, target) - 1, 0)]

    # -- mouse -----------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._months:
            self.dragging = True
            self._point_at(event.position().y())

    def mouseMoveEvent(self, event) -> None:
        self._point_at(event.position().y())

    def mouseReleaseEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.dragging:
            return
        self.dragging = False
        if not self.rect().contains(event.position().toPoint()):  # let go beside the strip: no hover left
            self.hover = None
            self.bubble.hide()
        month = self.month_at(event.position().y())
        if month is not None:
            self.set_position(month.start)
            self.jump.emit(month.start)

    def leaveEvent(self, event) -> None:
        if not self.dragging:
            self.hover = None
            self.bubble.hide()
            self.update()
        super().leaveEvent(event)

    def _point_at(self, y: float) -> None:
        self.hover = self.month_at(y)
        if self.hover is None:
            self.bubble.hide()
            return
        self.bubble.setText(month_label_of(self.hover.year, self.hover.month))
        self.bubble.adjustSize()
        parent = self.parentWidget()  # the bubble's (a top-level label when the strip has none)
        at = QPoint(0, int(y))
        corner = self.mapTo(parent, at) if parent is not None else self.mapToGlobal(at)
        self.bubble.move(corner.x() - self.bubble.width() - 6, corner.y() - self.bubble.height() // 2)
        self.bubble.show()
        self.bubble.raise_()
        self.update()

    # -- paint -----------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#fbfbfc"))
        painter.setPen(QColor("#e3e6eb"))
        painter.drawLine(0, 0, 0, self.height())
        if not self._total:
            return
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 0.9)
        painter.setFont(font)
        line_h = painter.fontMetrics().height()
        last_label = -1e9
        last_year = None
        for month in self._months:
            y = self.y_of(month.start)
            painter.setPen(QColor("#c5cad3"))
            painter.drawLine(self.width() - 8, int(y), self.width() - 4, int(y))  # a tick a month
            if month.year != last_year:
                last_year = month.year
                if y - last_label >= line_h:  # years too close together share the space
                    painter.setPen(QColor("#374151"))
                    box = QRectF(4, y - 1, self.width() - 14, line_h)
                    painter.drawText(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, str(month.year))
                    last_label = y
        painter.setPen(QPen(QColor("#2563eb"), 3))
        y = int(self.y_of(self.position))
        painter.drawLine(6, y, self.width() - 2, y)  # where the view is now
        if self.hover is not None:
            painter.setPen(QPen(QColor("#1f2937"), 1))
            y = int(self.y_of(self.hover.start))
            painter.drawLine(2, y, self.width(), y)
