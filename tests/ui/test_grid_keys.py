"""The keyboard in the photo views: arrow keys always land on a photo (never a month header), and focus
arriving from the search box selects the photo Enter would open."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication

from photosearch.ui.results_model import PathRole
from tests.ui.conftest import gui_args, open_window
from tests.ui.test_timeline import dated_library  # noqa: F401 (a fixture)

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


def _name(view) -> str | None:
    result = view.model().result(view.currentIndex().row())
    return None if result is None else Path(result.path).name


def _selected_names(view) -> list[str]:
    model = view.model()
    return [Path(model.result(i.row()).path).name for i in view.selectionModel().selectedIndexes()
            if model.result(i.row())]


def _press(qtbot, view, key) -> str | None:
    qtbot.keyClick(view, key)
    name = _name(view)
    assert name is not None, f"{key!r} made a month header current"
    assert _selected_names(view) == [name], f"{key!r}: the current photo is not the one selected"
    return name


def _walk(qtbot, view) -> None:
    """March 2021: d1 d0 / August 2019: d2 / January 2018: lighthouse (one row each)."""
    model = view.model()
    start = next(r for r in range(model.rowCount()) if model.result(r) and model.result(r).path.endswith("d0.jpg"))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(model.index(start)).center())
    assert _name(view) == "d0.jpg"
    assert _press(qtbot, view, Qt.Key.Key_Down) == "d2.jpg"  # the row below is shorter: its nearest tile
    assert _press(qtbot, view, Qt.Key.Key_Down) == "lighthouse-coast.jpg"
    assert _press(qtbot, view, Qt.Key.Key_Down) == "lighthouse-coast.jpg"  # the last row stays
    assert _press(qtbot, view, Qt.Key.Key_Up) == "d2.jpg"
    assert _press(qtbot, view, Qt.Key.Key_Up) == "d1.jpg"  # straight above d2
    assert _press(qtbot, view, Qt.Key.Key_Up) == "d1.jpg"  # not the header above it
    assert _press(qtbot, view, Qt.Key.Key_Right) == "d0.jpg"
    _press(qtbot, view, Qt.Key.Key_Right)
    _press(qtbot, view, Qt.Key.Key_Left)
    assert _press(qtbot, view, Qt.Key.Key_Home) == "d1.jpg"
    assert _press(qtbot, view, Qt.Key.Key_End) == "lighthouse-coast.jpg"
    _press(qtbot, view, Qt.Key.Key_PageUp)
    _press(qtbot, view, Qt.Key.Key_PageDown)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert window_of(view).preview.path.endswith(_name(view))
    window_of(view).preview.close()


def window_of(view):
    return view.window()


def test_arrow_keys_in_date_sorted_results_land_on_photos(qtbot, dated_library):  # noqa: F811
    root, _ = dated_library
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.ref.get().model_loaded and window.jobs_done >= 1, timeout=WAIT)
    window.filter_chips.set_sort("date")
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.search_bar.set_text("a photo")
    qtbot.waitUntil(lambda: window.results_model.rowCount() == 7, timeout=WAIT)
    qtbot.waitUntil(lambda: window.grid.visualRect(window.results_model.index(6)).isValid(), timeout=WAIT)
    window.activateWindow()
    _walk(qtbot, window.grid)


def test_arrow_keys_in_the_timeline_land_on_photos(qtbot, dated_library):  # noqa: F811
    root, _ = dated_library
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.timeline, timeout=WAIT)
    view, model = window.timeline.view, window.timeline.model
    qtbot.waitUntil(lambda: model.photo_count() == 4, timeout=WAIT)
    qtbot.waitUntil(lambda: view.visualRect(model.index(model.rowCount() - 1)).isValid(), timeout=WAIT)
    window.activateWindow()
    _walk(qtbot, view)
