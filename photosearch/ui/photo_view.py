"""The list view both photo views are made of (the results grid and the browse timeline): an icon-mode
QListView whose model may put month headers (rows with no result) between the photos.

Qt's own cursor moves know nothing of headers: Down from the third tile of a row above a two-tile month
lands on the next header (a row wide), which cannot be selected, and the selection vanished. Here Up and
Down go to the nearest tile of the row above or below, and every other move steps past a header.

A width change (the caption panel hidden or shown, the window resized) lays the tiles out anew with more
or fewer a row; Qt keeps the scroll value, which then points at other photos (or past the end). The row
that was at the top is brought back there once the new layout reaches it.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, QPoint, Qt
from PySide6.QtGui import QFocusEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle

Move = QAbstractItemView.CursorAction
FORWARD = (Move.MoveRight, Move.MoveNext, Move.MoveEnd, Move.MovePageDown)

KEYBOARD_FOCUS = (
    Qt.FocusReason.TabFocusReason,
    Qt.FocusReason.BacktabFocusReason,
    Qt.FocusReason.ShortcutFocusReason,
    Qt.FocusReason.OtherFocusReason,  # setFocus(): Down from the search box
)


class PhotoView(QListView):
    """Tiles in rows, as both views show them. Its model answers result(row): a photo, or None for a
    month header."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        # Set before the calls below: they lay out (doItemsLayout, updateGeometries here read these).
        self._keep: QPersistentModelIndex | None = None  # the row to bring back to the top
        self._relaid = False  # laid out since the width changed
        self._tile_width = 0  # a tile's width with its margin (keep_room_for)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)  # (this turns dragging off: on again below)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setSpacing(2)
        # Several photos at once (Ctrl/Shift-click, Select all), dragged out as files (the model's mimeData).
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDragEnabled(True)

    # -- the place kept across width changes -------------------------------------------------------
    def top_index(self) -> QModelIndex:
        """The row at the top of the viewport (a header or a tile), invalid when none is there."""
        for y in (4, 20, 40, 60):
            index = self.indexAt(QPoint(12, y))
            if index.isValid():
                return index
        return QModelIndex()

    def keep_room_for(self, tile_width: int) -> None:
        """The view never gets narrower than one whole tile (and its scroll bar): in a small window or at a
        large scale factor the side panels give way instead (see work_area.py)."""
        self._tile_width = tile_width
        self.setMinimumWidth(self.width_for_columns(1))

    def width_for_columns(self, columns: int) -> int:
        """The view's width that shows this many columns of whole tiles (as keep_room_for last set them)."""
        # Qt lays the tiles out in the width less the scroll bar's extent as the style reports it (with the
        # app's style sheet, more than the bar's size hint), a spacing before each tile and after the last.
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self.verticalScrollBar())
        bar = max(bar, self.verticalScrollBar().sizeHint().width())
        return columns * self._tile_width + (columns + 1) * self.spacing() + bar + 2 * self.frameWidth() + 2

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self._keep is None and event.size().width() != event.oldSize().width() and self.verticalScrollBar().value():
            top = self.top_index()  # from the layout still in place (the new one comes after a delay)
            if top.isValid():
                self._keep, self._relaid = QPersistentModelIndex(top), False
        super().resizeEvent(event)

    def doItemsLayout(self) -> None:
        if self._keep is not None:
            self._relaid = True
        super().doItemsLayout()

    def updateGeometries(self) -> None:
        """Called as a layout (or its first batch, then the whole) is done: the kept row goes back on top."""
        super().updateGeometries()
        keep = self._keep
        if keep is None or not self._relaid:
            return
        model = self.model()
        if not keep.isValid() or model is None:
            self._keep = None  # the rows changed meanwhile (a new query): nothing to keep
            return
        index = model.index(keep.row(), 0)
        if self.visualRect(index).isValid():
            super().scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
        if self.visualRect(model.index(model.rowCount() - 1, 0)).isValid():
            self._keep = None  # all laid out: the place is final

    def scrollTo(self, index: QModelIndex, hint=QAbstractItemView.ScrollHint.EnsureVisible) -> None:
        """A scroll asked for (a key, a search, a caption picked) ends the keeping: the rest of a batched
        layout must not bring the old row back over it."""
        self._keep = None
        super().scrollTo(index, hint)

    def is_photo(self, index: QModelIndex) -> bool:
        model = self.model()
        return index.isValid() and model is not None and model.result(index.row()) is not None

    def moveCursor(self, action: Move, modifiers: Qt.KeyboardModifier) -> QModelIndex:
        current = self.currentIndex()
        if action in (Move.MoveUp, Move.MoveDown) and self.is_photo(current):
            found = self._row_beside(current, 1 if action == Move.MoveDown else -1)
            if found is not None:
                return found
        index = super().moveCursor(action, modifiers)
        if not index.isValid() or self.is_photo(index):
            return index
        step = 1 if action in FORWARD else -1
        if action in (Move.MovePageUp, Move.MovePageDown) and self.is_photo(current):
            x = self.visualRect(current).center().x()
            return self._nearest_in_row(index.row() + step, step, x) or current
        return self._photo_from(index.row(), step) or self._photo_from(index.row(), -step) or current

    def _row_beside(self, current: QModelIndex, step: int) -> QModelIndex | None:
        """The tile nearest to current's column in the row of tiles below (step 1) or above (-1); current
        itself at the last (first) row; None where the layout is not there yet (Qt's move then)."""
        model, here = self.model(), self.visualRect(current)
        row = current.row() + step
        while 0 <= row < model.rowCount():
            rect = self.visualRect(model.index(row))
            if not rect.isValid():
                return None
            if self.is_photo(model.index(row)) and rect.top() != here.top():
                return self._nearest_in_row(row, step, here.center().x())
            row += step
        return current

    def _nearest_in_row(self, row: int, step: int, x: int) -> QModelIndex | None:
        """From row on (in step's direction), the first row of tiles' tile nearest to x."""
        first = self._photo_from(row, step)
        if first is None:
            return None
        top, best = self.visualRect(first).top(), first
        model, row = self.model(), first.row() + step
        while 0 <= row < model.rowCount():
            index = model.index(row)
            rect = self.visualRect(index)
            if not self.is_photo(index) or rect.top() != top:
                break
            if abs(rect.center().x() - x) < abs(self.visualRect(best).center().x() - x):
                best = index
            row += step
        return best

    def _photo_from(self, row: int, step: int) -> QModelIndex | None:
        model = self.model()
        while 0 <= row < model.rowCount():
            if self.is_photo(model.index(row)):
                return model.index(row)
            row += step
        return None

    def first_photo_in_view(self) -> QModelIndex:
        """The first photo showing in the viewport (the first photo at all when none shows)."""
        model = self.model()
        area = self.viewport().rect()
        first = QModelIndex()
        for row in range(model.rowCount()):
            index = model.index(row)
            if not self.is_photo(index):
                continue
            if not first.isValid():
                first = index
            rect = self.visualRect(index)
            if rect.intersects(area):
                return index
            if rect.isValid() and rect.top() > area.bottom():
                break
        return first

    def select_current(self) -> None:
        """Make what Enter opens the selected photo: the current photo, else a selected one, else the first
        one in view (Qt's own focus-in makes a month header or an unselected tile current)."""
        current = self.currentIndex()
        selection = self.selectionModel()
        if self.is_photo(current) and selection.isSelected(current):
            return
        chosen = sorted((i for i in selection.selectedIndexes() if self.is_photo(i)), key=lambda i: i.row())
        if chosen:  # keep the person's selection; Enter opens its first photo
            selection.setCurrentIndex(chosen[0], QItemSelectionModel.SelectionFlag.NoUpdate)
            return
        target = current if self.is_photo(current) else self.first_photo_in_view()
        if target.isValid():
            selection.setCurrentIndex(target, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.scrollTo(target)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        if event.reason() in KEYBOARD_FOCUS and self.model() is not None:
            self.select_current()  # (a click selects what it hits; a window or menu coming back changes nothing)
