"""The list view both photo views are made of (the results grid and the browse timeline): an icon-mode
QListView whose model may put month headers (rows with no result) between the photos."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QListView

KEYBOARD_FOCUS = (
    Qt.FocusReason.TabFocusReason,
    Qt.FocusReason.BacktabFocusReason,
    Qt.FocusReason.ShortcutFocusReason,
    Qt.FocusReason.OtherFocusReason,  # setFocus(): Down from the search box
)


class PhotoView(QListView):
    """Its model answers result(row): a photo, or None for a month header."""

    def is_photo(self, index: QModelIndex) -> bool:
        model = self.model()
        return index.isValid() and model is not None and model.result(index.row()) is not None

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
