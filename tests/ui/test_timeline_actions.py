"""The browse timeline is a photo view like the results grid: its context menu, Enter/Space preview with
Left/Right through its photos, Down from the search box, Ctrl+wheel tile size, and actions on a selection."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QWheelEvent
from PySide6.QtWidgets import QApplication, QMenu

from tests.ui.conftest import gui_args, open_window
from tests.ui.test_timeline import dated_library  # noqa: F401 (a fixture)

WAIT = 60000
BROWSE_ORDER = ["d1.jpg", "d0.jpg", "d2.jpg", "lighthouse-coast.jpg"]


def _browsing(qtbot, root):
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.jobs_done >= 1, timeout=WAIT)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.timeline, timeout=WAIT)
    model = window.timeline.model
    qtbot.waitUntil(lambda: model.photo_count() == 4, timeout=WAIT)
    qtbot.waitUntil(lambda: window.timeline.view.visualRect(model.index(model.rowCount() - 1)).isValid())
    return window, window.timeline.view, model


def _row(model, name: str) -> int:
    return next(r for r in range(model.rowCount()) if model.result(r) and Path(model.result(r).path).name == name)


def _click(qtbot, view, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    centre = view.visualRect(view.model().index(row)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, centre)


def _urls(mime) -> list[str]:
    return [Path(u.toLocalFile()).name for u in mime.urls()]


def _close_popup(shown: list[list[str]]) -> None:
    menu = QApplication.activePopupWidget()
    if isinstance(menu, QMenu):
        shown.append([a.text() for a in menu.actions()])
        menu.close()
    else:
        QTimer.singleShot(10, lambda: _close_popup(shown))


def test_timeline_photos_have_the_grid_s_context_menu(qtbot, dated_library):  # noqa: F811
    root, _ = dated_library
    window, view, model = _browsing(qtbot, root)
    shown: list[list[str]] = []
    row = _row(model, "d0.jpg")
    QTimer.singleShot(0, lambda: _close_popup(shown))  # the menu runs its own event loop until closed
    view.customContextMenuRequested.emit(view.visualRect(model.index(row)).center())
    assert shown and {"Preview", "Open", "Show in folder", "Copy path", "Find similar"} <= set(shown[-1])
    assert window.grid_menu(model.index(0)) is None  # a month header has no menu

    # several selected: the actions take them all
    _click(qtbot, view, _row(model, "d1.jpg"))
    _click(qtbot, view, row, Qt.KeyboardModifier.ControlModifier)
    menu = window.grid_menu(model.index(row))
    texts = [a.text() for a in menu.actions()]
    assert "Copy 2 paths" in texts and "Find similar to these 2" in texts
    next(a for a in menu.actions() if a.text() == "Copy 2 paths").trigger()
    assert [Path(p).name for p in QGuiApplication.clipboard().text().splitlines()] == ["d1.jpg", "d0.jpg"]


def test_enter_and_space_preview_the_timeline_photo_and_left_right_step_over_months(qtbot, dated_library):  # noqa: F811
    root, _ = dated_library
    window, view, model = _browsing(qtbot, root)
    _click(qtbot, view, _row(model, "d0.jpg"))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    dialog = window.preview
    assert dialog is not None and Path(dialog.path).name == "d0.jpg"
    qtbot.keyClick(dialog, Qt.Key.Key_Right)  # past the "August 2019" header
    assert Path(dialog.path).name == "d2.jpg"
    assert [Path(p).name for p in window.selected_paths()] == ["d2.jpg"]
    assert view.currentIndex().row() == _row(model, "d2.jpg")
    qtbot.keyClick(dialog, Qt.Key.Key_Right)
    qtbot.keyClick(dialog, Qt.Key.Key_Right)  # the last photo stays the last
    assert Path(dialog.path).name == "lighthouse-coast.jpg"
    for _ in range(4):
        qtbot.keyClick(dialog, Qt.Key.Key_Left)
    assert Path(dialog.path).name == "d1.jpg"  # the first photo, not the header above it
    dialog.close()
    window.preview = None
    _click(qtbot, view, _row(model, "d2.jpg"))
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert window.preview is not None and Path(window.preview.path).name == "d2.jpg"
    window.preview.close()


def test_down_from_the_search_box_selects_a_timeline_photo(qtbot, dated_library):  # noqa: F811
    root, _ = dated_library
    window, view, _ = _browsing(qtbot, root)
    window.activateWindow()
    window.search_bar.edit.setFocus()
    qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Down)
    assert QApplication.focusWidget() is view
    assert [Path(p).name for p in window.selected_paths()] == ["d1.jpg"]  # the first photo, not its header
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert window.preview is not None and Path(window.preview.path).name == "d1.jpg"
    window.preview.close()


def test_ctrl_wheel_over_the_timeline_resizes_the_tiles(qtbot, dated_library):  # noqa: F811
    root, _ = dated_library
    window, view, _ = _browsing(qtbot, root)
    before = window.size_slider.value()
    viewport = view.viewport()
    centre = QPointF(viewport.rect().center())
    event = QWheelEvent(centre, QPointF(viewport.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, -120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(viewport, event)
    assert window.size_slider.value() == before - 16
    assert window.timeline.delegate.tile == before - 16 and window.settings.thumb_size == before - 16


def test_copy_takes_the_timeline_selection(qtbot, dated_library):  # noqa: F811
    root, _ = dated_library
    window, view, model = _browsing(qtbot, root)
    for name in ("d2.jpg", "lighthouse-coast.jpg"):
        view.selectionModel().select(model.index(_row(model, name)), QItemSelectionModel.SelectionFlag.Select)
    view.setFocus()
    window.menu_actions["copy"].trigger()
    assert [Path(p).name for p in QGuiApplication.clipboard().text().splitlines()] == BROWSE_ORDER[2:]
    # Ctrl+C: file URLs and the paths as text, just what the grid copies and a drag of them carries
    QGuiApplication.clipboard().clear()
    window.activateWindow()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QGuiApplication.clipboard().mimeData()
    assert _urls(copied) == BROWSE_ORDER[2:]
    dragged = model.mimeData([model.index(_row(model, name)) for name in BROWSE_ORDER[2:]])
    assert copied.urls() == dragged.urls() and copied.text() == dragged.text()


def test_select_all_in_the_timeline_selects_every_photo_and_no_month_header(qtbot, dated_library):  # noqa: F811
    root, _ = dated_library
    window, view, model = _browsing(qtbot, root)
    view.setFocus()
    window.menu_actions["select_all"].trigger()  # Edit → Select all
    assert [Path(p).name for p in window.selected_paths()] == BROWSE_ORDER
    headers = [r for r in range(model.rowCount()) if model.result(r) is None]
    assert len(headers) == 3 and not any(view.selectionModel().isSelected(model.index(r)) for r in headers)
    view.clearSelection()
    window.activateWindow()
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # its shortcut, Ctrl+A
    assert [Path(p).name for p in window.selected_paths()] == BROWSE_ORDER
    assert "loaded so far" not in window.statusBar().currentMessage()
    # after a jump the newer photos are not read yet: Select all takes the photos held, and says so
    window.timeline.jump_to(2)
    qtbot.waitUntil(lambda: model.start == 2 and model.photo_count() == 2, timeout=WAIT)
    window.menu_actions["select_all"].trigger()
    assert [Path(p).name for p in window.selected_paths()] == BROWSE_ORDER[2:]
    assert "Selected the 2 photos loaded so far" in window.statusBar().currentMessage()


def test_timeline_photos_drag_out_as_file_urls_like_the_grid_s(qtbot, dated_library):  # noqa: F811
    root, _ = dated_library
    window, view, model = _browsing(qtbot, root)
    assert view.dragEnabled() and view.dragDropMode() == view.DragDropMode.DragOnly
    assert model.supportedDragActions() == Qt.DropAction.CopyAction
    drag = Qt.ItemFlag.ItemIsDragEnabled
    assert model.flags(model.index(0)) & drag == Qt.ItemFlag.NoItemFlags  # a month header is not dragged
    photo_rows = [r for r in range(model.rowCount()) if model.result(r) is not None]
    assert all(model.flags(model.index(r)) & drag for r in photo_rows)
    # what a drag of the whole timeline carries (headers among the indexes give nothing)
    mime = model.mimeData([model.index(r) for r in range(model.rowCount())])
    assert "text/uri-list" in model.mimeTypes()
    assert _urls(mime) == BROWSE_ORDER and [u.isLocalFile() for u in mime.urls()] == [True] * 4
    assert [Path(p).name for p in mime.text().splitlines()] == BROWSE_ORDER
    # the same as the grid gives for the same photos
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.search_bar.set_text("anything")
    grid = window.results_model
    rows = sorted(range(grid.rowCount()), key=lambda r: BROWSE_ORDER.index(Path(grid.result(r).path).name))
    grid_mime = grid.mimeData([grid.index(r) for r in rows])
    assert grid_mime.urls() == mime.urls() and grid_mime.text() == mime.text()

