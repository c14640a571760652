"""Month headers between photos in date order, shared by the browse timeline and date-sorted results:
the label of a photo's month, the rows with a header before each new month, and the header's look."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPainter, QPalette
from PySide6.QtWidgets import QStyleOptionViewItem

from photosearch.core.types import SearchResult

HeaderRole = Qt.ItemDataRole.UserRole + 20  # the month label on a header row, None on a photo
HEADER_H = 34


def month_label(stamp: float | None) -> str:
    if stamp is None:
        return "Undated"
    when = dt.datetime.fromtimestamp(stamp, dt.UTC)
    return month_label_of(when.year, when.month)


def month_label_of(year: int, month: int) -> str:
    return f"{calendar.month_name[month]} {year}"


def with_month_headers(results: Iterable[SearchResult], last_month: str = "") -> list[SearchResult | str]:
    """The results with a month's label (a str) before the first photo of each new month."""
    rows: list[SearchResult | str] = []
    for result in results:
        label = month_label(result.date)
        if label != last_month:
            rows.append(label)
            last_month = label
        rows.append(result)
    return rows


def paint_header(painter: QPainter, option: QStyleOptionViewItem, label: str) -> None:
    painter.save()
    font = QFont(option.font)
    font.setPointSizeF(option.font.pointSizeF() * 1.25)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(option.palette.color(QPalette.ColorRole.Text))
    align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    painter.drawText(option.rect.adjusted(8, 6, -8, 0), align, label)
    painter.restore()
