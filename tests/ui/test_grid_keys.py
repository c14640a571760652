"""The keyboard in the photo views: arrow keys always land on a photo (never a month header), and focus
arriving from the search box selects the photo Enter would open."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication

from photosearch.ui.results_model import PathRole

WAIT = 60000


def test_down_from_the_search_box_selects_what_enter_opens(qtbot, window) -> None:
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.run_text_query("anything")
    grid, model = window.grid, window.results_model
    window.activateWindow()
    # the grid had a current tile, not selected (Qt's focus-in or a refresh leaves it so)
    grid.selectionModel().setCurrentIndex(model.index(3), QItemSelectionModel.SelectionFlag.NoUpdate)
    grid.clearSelection()
    window.search_bar.edit.setFocus()
    qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Down)
    assert QApplication.focusWidget() is grid
    assert window.selected_paths() == [model.data(model.index(3), PathRole)]
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert window.preview.path == model.data(model.index(3), PathRole)
    window.preview.close()
