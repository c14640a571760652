"""The browse timeline shown when the search box is empty: every photo newest first by date taken,
with a header at each new month, loaded a page at a time as the view scrolls (Qt's fetchMore), and a
date scrubber on the right edge that jumps through time.

Pages and the month list are read on a pool thread (BackgroundReads); the GUI thread only inserts
the rows that come back, so scrolling never waits on SQLite.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QWidget

from photosearch.core.browse import Month
from photosearch.core.types import SearchResult
from photosearch.ui.background_reads import BackgroundReads
from photosearch.ui.date_scrubber import DateScrubber
from photosearch.ui.delegates import TileDelegate
from photosearch.ui.month_headers import HEADER_H, HeaderRole, month_label, with_month_headers
from photosearch.ui.photo_view import PhotoView
from photosearch.ui.results_model import PhotoRowsModel

PAGE = 200
__all__ = ["HEADER_H", "PAGE", "HeaderRole", "TimelineModel", "TimelinePanel", "month_label"]

Fetch = Callable[[int, int], list[SearchResult]]  # (offset, count) -> photos in browse order


class TimelineModel(PhotoRowsModel):
    """Header rows (a month's name) and photo rows, in browse order; only fetched pages are held.

    With `reads`, pages are fetched on its pool thread and inserted when they arrive; without, at once.
    """

    pageFailed = Signal(str)
    emptied = Signal()  # the first page came back empty: nothing to browse (the filters hide every photo)
    prepended = Signal(int, int)  # rows put before the first one, headers merged away (the view keeps its place)

    def __init__(self, loader, parent=None, reads: BackgroundReads | None = None) -> None:
        super().__init__(loader, parent)
        self._reads = reads
        self._fetch: Fetch | None = None
        self._positions: list[int] = []  # browse position of each row (a header: its first photo's)
        self._next = 0  # browse position of the next photo to fetch
        self._done = True
        self._loading = False
        self._generation = 0  # bumped by reset: a page asked for before it is dropped
        self._last_month = ""
        self.start = 0  # browse position of the first row
        self.fetches = 0  # pages fetched since the last reset (tests count lazy loading with it)

    def reset(self, fetch: Fetch | None, start: int = 0) -> None:
        """Start over from browse position `start` (0: the newest photo)."""
        self.beginResetModel()
        self._fetch, self._rows, self._positions = fetch, [], []
        self._next = self.start = max(start, 0)
        self._done, self._loading = fetch is None, False
        self._generation += 1
        self._last_month, self.fetches = "", 0
        self._reindex([])
        self.endResetModel()
        if fetch is not None:
            self.fetchMore(QModelIndex())

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def empty(self) -> bool:
        """Read from the start and found no photo at all."""
        return self._fetch is not None and self._done and not self._loading and self.start == 0 and not self._rows

    def photo_count(self) -> int:
        return len(self._rows) - sum(1 for r in self._rows if isinstance(r, str))

    def position(self, row: int) -> int:
        return self._positions[row] if 0 <= row < len(self._positions) else self._next

    def canFetchMore(self, parent=QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._done and not self._loading

    def fetchMore(self, parent=QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._done or self._loading or self._fetch is None:
            return
        fetch, offset, generation = self._fetch, self._next, self._generation
        if self._reads is None:
            self._add_page(generation, fetch(offset, PAGE))
            return
        self._loading = True
        self._reads.submit(
            lambda: fetch(offset, PAGE),
            lambda page: self._add_page(generation, page),
            lambda error: self._page_failed(generation, error),
        )

    def _page_failed(self, generation: int, error: str) -> None:
        if generation == self._generation:
            self._loading, self._done = False, True
            self.pageFailed.emit(error)

    def _add_page(self, generation: int, page: list[SearchResult]) -> None:
        if generation != self._generation:
            return  # reset meanwhile (a jump, new filters): this page belongs to the old timeline
        self._loading = False
        self.fetches += 1
        position = self._next
        self._next += len(page)
        self._done = len(page) < PAGE
        added = with_month_headers(page, self._last_month)
        if not added:
            if self.empty:
                self.emptied.emit()
            return
        self._last_month = month_label(page[-1].date)
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
        self._rows.extend(added)
        for item in added:
            self._positions.append(position)
            if not isinstance(item, str):
                position += 1
        self.endInsertRows()
        for row, item in enumerate(added, start=first):
            if not isinstance(item, str):
                self._rows_by_path.setdefault(item.path, []).append(row)

    # -- scrolling up from a jump: the page before the first row ---------------------------------
    def can_fetch_earlier(self) -> bool:
        return self._fetch is not None and self.start > 0 and not self._loading

    def fetch_earlier(self) -> None:
        """Read the photos just before the first row (after a jump, the user scrolls back up)."""
        if not self.can_fetch_earlier():
            return
        fetch, offset, generation = self._fetch, max(self.start - PAGE, 0), self._generation
        count = self.start - offset
        if self._reads is None:
            self._prepend_page(generation, offset, fetch(offset, count))
            return
        self._loading = True
        self._reads.submit(
            lambda: fetch(offset, count),
            lambda page: self._prepend_page(generation, offset, page),
            lambda error: self._page_failed(generation, error),
        )

    def _prepend_page(self, generation: int, offset: int, page: list[SearchResult]) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self.fetches += 1
        added = with_month_headers(page)
        if not added:
            self.start = 0  # nothing before after all (photos went away meanwhile)
            return
        removed = 0
        if self._rows and isinstance(self._rows[0], str) and self._rows[0] == month_label(page[-1].date):
            removed = 1
            self.beginRemoveRows(QModelIndex(), 0, 0)  # the month goes on: one header for it, the earlier one
            del self._rows[0], self._positions[0]
            self.endRemoveRows()
        positions, position = [], offset
        for item in added:
            positions.append(position)
            if not isinstance(item, str):
                position += 1
        self.beginInsertRows(QModelIndex(), 0, len(added) - 1)
        self._rows[:0] = added
        self._positions[:0] = positions
        self.start = offset
        self.endInsertRows()
        self._reindex(["" if isinstance(r, str) else r.path for r in self._rows])
        self.prepended.emit(len(added), removed)

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


def make_sectioned_view(name: str) -> PhotoView:
    """An icon-mode list whose rows may be month headers (a row wide), tiles otherwise."""
    view = PhotoView()
    view.setObjectName(name)
    view.setUniformItemSizes(False)  # headers are a row wide
    view.setBatchSize(512)  # a page and its headers in one layout batch (the view keeps its place)
    return view


class TimelinePanel(QWidget):
    """The timeline view and its date scrubber, fed by a library's browse() and months()."""

    failed = Signal(str)  # a page or the month list could not be read

    def __init__(self, loader, tile: int = 180, parent=None) -> None:
        super().__init__(parent)
        self.reads = BackgroundReads(self)
        self.model = TimelineModel(loader, self, reads=self.reads)
        self.model.pageFailed.connect(self.failed)
        self.view = make_sectioned_view("timeline")
        self.view.setStyleSheet("#timeline { border: none; background: #f6f7f9; }")
        self.delegate = TileDelegate(tile, self.view)  # paints the month headers too
        self.view.setItemDelegate(self.delegate)
        self.view.setModel(self.model)
        self.view.keep_room_for(self.delegate.sizeHint(None, None).width())
        self.view.verticalScrollBar().valueChanged.connect(self._follow_scroll)
        self.view.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.view.viewport().installEventFilter(self)
        self.model.rowsInserted.connect(self._follow_scroll)
        self.model.prepended.connect(self._keep_place)
        self._anchor = -1  # the row at the top while earlier rows load
        self.scrubber = DateScrubber(self)
        self.scrubber.jump.connect(self.jump_to)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.view, 1)
        row.addWidget(self.scrubber)
        self._fetch: Fetch | None = None
        self.loaded_key: object = None  # what the shown timeline was built from (library version, filters)

    def load(self, fetch: Fetch, months: list[Month] | Callable[[], list[Month]], key: object = None) -> None:
        """Show the timeline from its newest photo; `months` may be a callable, then the month list is
        read on the pool thread after the first page (the first screen does not wait for it)."""
        self._fetch = fetch
        self.loaded_key = key
        self.model.reset(fetch)
        self.scrubber.set_position(0)
        if callable(months):
            self.scrubber.set_months([])
            self.reads.submit(months, lambda found: self._set_months(found, key), self.failed.emit)
        else:
            self.scrubber.set_months(months)

    def _set_months(self, months: list[Month], key: object) -> None:
        if key == self.loaded_key:  # not reloaded meanwhile
            self.scrubber.set_months(months)

    def jump_to(self, start: int) -> None:
        self.model.reset(self._fetch, start)
        self.view.scrollToTop()
        self.scrubber.set_position(start)

    def top_row(self) -> int:
        """The row at the top of the view (0 when none is there yet)."""
        for y in (4, 20, 40, HEADER_H + 8):
            index = self.view.indexAt(QPoint(12, y))
            if index.isValid():
                return index.row()
        return 0

    def top_position(self) -> int:
        """Browse position of the first photo at the top of the view."""
        return self.model.position(self.top_row()) if self.model.rowCount() else self.model.start

    def _follow_scroll(self, *_args) -> None:
        if not self.scrubber.dragging:
            self.scrubber.set_position(self.top_position())

    def _scrolled(self, value: int) -> None:
        if value == self.view.verticalScrollBar().minimum():
            self._load_earlier()

    def eventFilter(self, watched, event) -> bool:
        """A wheel turned up at the top (no scroll value changes then): read the page before."""
        if watched is self.view.viewport() and event.type() == QEvent.Type.Wheel and event.angleDelta().y() > 0:
            bar = self.view.verticalScrollBar()
            if bar.value() == bar.minimum():
                self._load_earlier()
        return super().eventFilter(watched, event)

    def _load_earlier(self) -> None:
        if self.model.can_fetch_earlier():
            self._anchor = self.top_row()
            self.model.fetch_earlier()

    def _keep_place(self, added: int, removed: int) -> None:
        """Earlier rows went in above: the row that was at the top stays there (its month's header, when
        the page before ends in the same month, moved up to the earlier rows)."""
        anchor, self._anchor = self._anchor, -1
        if anchor >= 0:
            row = max(anchor - removed, 0) + added
            self.view.scrollTo(self.model.index(row), QAbstractItemView.ScrollHint.PositionAtTop)

    def set_tile(self, size: int) -> None:
        self.delegate.tile = size
        self.view.keep_room_for(self.delegate.sizeHint(None, None).width())
        self.view.doItemsLayout()
