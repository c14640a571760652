"""The browse timeline shown when the search box is empty: every photo newest first by date taken,
with a header at each new month, loaded a page at a time as the view scrolls (Qt's fetchMore), and a
year list that jumps to a year's newest photo."""

from __future__ import annotations

import calendar
import datetime as dt
import os
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStyleOptionViewItem,
    QWidget,
)

from photosearch.core.browse import Month
from photosearch.core.types import SearchResult
from photosearch.ui.delegates import TileDelegate
from photosearch.ui.results_model import _ThumbModel

PAGE = 200
HeaderRole = Qt.ItemDataRole.UserRole + 20  # the month label on a header row, None on a photo
HEADER_H = 34

Fetch = Callable[[int, int], list[SearchResult]]  # (offset, count) -> photos in browse order


def month_label(stamp: float | None) -> str:
    if stamp is None:
        return "Undated"
    when = dt.datetime.fromtimestamp(stamp, dt.UTC)
    return f"{calendar.month_name[when.month]} {when.year}"


class TimelineModel(_ThumbModel):
    """Header rows (a month's name) and photo rows, in browse order; only fetched pages are held."""

    def __init__(self, loader, parent=None) -> None:
        super().__init__(loader, parent)
        self._fetch: Fetch | None = None
        self._rows: list[SearchResult | str] = []
        self._next = 0  # browse position of the next photo to fetch
        self._done = True
        self._last_month = ""
        self.fetches = 0  # pages fetched since the last reset (tests count lazy loading with it)

    def reset(self, fetch: Fetch | None, start: int = 0) -> None:
        """Start over from browse position `start` (0: the newest photo)."""
        self.beginResetModel()
        self._fetch, self._rows, self._next, self._done = fetch, [], max(start, 0), fetch is None
        self._last_month, self.fetches = "", 0
        self._reindex([])
        self.endResetModel()
        if fetch is not None:
            self.fetchMore(QModelIndex())

    @property
    def start(self) -> int:
        return self._next - self.photo_count()

    def photo_count(self) -> int:
        return sum(1 for r in self._rows if not isinstance(r, str))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def canFetchMore(self, parent=QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._done

    def fetchMore(self, parent=QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._done or self._fetch is None:
            return
        page = self._fetch(self._next, PAGE)
        self.fetches += 1
        self._next += len(page)
        self._done = len(page) < PAGE
        added: list[SearchResult | str] = []
        for result in page:
            label = month_label(result.date)
            if label != self._last_month:
                added.append(label)
                self._last_month = label
            added.append(result)
        if not added:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
        self._rows.extend(added)
        self.endInsertRows()
        for row, item in enumerate(added, start=first):
            if not isinstance(item, str):
                self._rows_by_path.setdefault(item.path, []).append(row)

    def result(self, row: int) -> SearchResult | None:
        item = self._rows[row] if 0 <= row < len(self._rows) else None
        return None if isinstance(item, str) else item

    def headers(self) -> list[str]:
        return [r for r in self._rows if isinstance(r, str)]

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        if isinstance(item, str):
            return item if role in (HeaderRole, Qt.ItemDataRole.DisplayRole) else None
        if role == HeaderRole:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return os.path.basename(item.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.path
        return self._shared_data(item, role)

    def flags(self, index) -> Qt.ItemFlag:
        if index.isValid() and isinstance(self._rows[index.row()], str):
            return Qt.ItemFlag.ItemIsEnabled  # a header: not selectable
        return super().flags(index)


class TimelineDelegate(TileDelegate):
    """Photo tiles as in the results grid; a month header spans the whole row."""

    def __init__(self, view: QListView, tile: int = 180) -> None:
        super().__init__(tile, view)
        self.view = view

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        if index.data(HeaderRole):
            return QSize(max(self.view.viewport().width() - 8, 100), HEADER_H)
        return super().sizeHint(option, index)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        label = index.data(HeaderRole)
        if not label:
            super().paint(painter, option, index)
            return
        painter.save()
        font = QFont(option.font)
        font.setPointSizeF(option.font.pointSizeF() * 1.25)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(option.palette.color(QPalette.ColorRole.Text))
        painter.drawText(option.rect.adjusted(8, 6, -8, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         label)
        painter.restore()


class YearList(QListWidget):
    """"Newest" then each year with its photo count; choosing one emits the browse position to start at."""

    jump = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("yearList")
        self.setFixedWidth(110)
        self.setStyleSheet(
            "#yearList { border: none; border-left: 1px solid #e3e6eb; background: #fbfbfc; padding-top: 6px; }"
            "#yearList::item { padding: 5px 10px; border-radius: 6px; color: #374151; }"
            "#yearList::item:selected, #yearList::item:hover { background: #dbe7ff; color: #111827; }"
        )
        self.itemClicked.connect(lambda item: self.jump.emit(int(item.data(Qt.ItemDataRole.UserRole))))

    def set_months(self, months: list[Month]) -> None:
        self.clear()
        if not months:
            return
        newest = QListWidgetItem("Newest")
        newest.setData(Qt.ItemDataRole.UserRole, 0)
        self.addItem(newest)
        years: dict[int, list[Month]] = {}
        for m in months:
            years.setdefault(m.year, []).append(m)
        for year, ms in years.items():  # months come newest first, so each year's first is its newest
            item = QListWidgetItem(f"{year}  ({sum(m.count for m in ms):,})")
            item.setData(Qt.ItemDataRole.UserRole, ms[0].start)
            self.addItem(item)

    def years(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]


class TimelinePanel(QWidget):
    """The timeline view and its year list, fed by a library's browse()."""

    activated = Signal(object)  # the SearchResult of a double-clicked photo

    def __init__(self, loader, tile: int = 180, parent=None) -> None:
        super().__init__(parent)
        self.model = TimelineModel(loader, self)
        self.view = QListView()
        self.view.setObjectName("timeline")
        self.view.setStyleSheet("#timeline { border: none; background: #f6f7f9; }")
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(False)  # headers are a row wide
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(256)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.verticalScrollBar().setSingleStep(24)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setSpacing(2)
        self.delegate = TimelineDelegate(self.view, tile)
        self.view.setItemDelegate(self.delegate)
        self.view.setModel(self.model)
        self.view.doubleClicked.connect(self._activated)
        self.years = YearList()
        self.years.jump.connect(self.jump_to)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.view, 1)
        row.addWidget(self.years)
        self._fetch: Fetch | None = None
        self.loaded_key: object = None  # what the shown timeline was built from (library version, filters)

    def load(self, fetch: Fetch, months: list[Month] | Callable[[], list[Month]], key: object = None) -> None:
        """Show the timeline from its newest photo; `months` may be a callable, then the year list is
        built right after the first screen is painted rather than before it."""
        self._fetch = fetch
        self.loaded_key = key
        self.model.reset(fetch)
        if callable(months):
            self.years.clear()
            QTimer.singleShot(0, lambda: self._set_months(months, key))
        else:
            self.years.set_months(months)

    def _set_months(self, months: Callable[[], list[Month]], key: object) -> None:
        if key == self.loaded_key:  # not reloaded meanwhile
            try:
                self.years.set_months(months())
            except Exception:  # the library went away (a model switch): the next load fills it
                self.years.clear()

    def jump_to(self, start: int) -> None:
        self.model.reset(self._fetch, start)
        self.view.scrollToTop()

    def set_tile(self, size: int) -> None:
        self.delegate.tile = size
        self.view.doItemsLayout()

    def _activated(self, index) -> None:
        result = self.model.result(index.row())
        if result is not None:
            self.activated.emit(result)
