"""The preview: Left/Right step through results, Space closes it, small photos are not blown up."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from photosearch.ui.results_model import PathRole

WAIT = 60000


def _open(qtbot, window, row: int = 1):
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.run_text_query("anything")
    return window.open_preview(row)


def _path(window, row: int) -> str:
    return window.results_model.data(window.results_model.index(row), PathRole)


def test_left_and_right_go_to_the_previous_and_next_result(qtbot, window) -> None:
    dialog = _open(qtbot, window, 1)
    assert dialog.path == _path(window, 1)
    qtbot.keyClick(dialog, Qt.Key.Key_Right)
    assert dialog.path == _path(window, 2)
    assert window.selected_paths() == [_path(window, 2)]
    qtbot.keyClick(dialog, Qt.Key.Key_Left)
    qtbot.keyClick(dialog, Qt.Key.Key_Left)
    assert dialog.path == _path(window, 0)
    qtbot.keyClick(dialog, Qt.Key.Key_Left)  # the first result stays the first
    assert dialog.path == _path(window, 0)
    dialog.close()


def test_space_closes_even_when_the_open_button_has_focus(qtbot, window) -> None:
    dialog = _open(qtbot, window)
    opened = []
    dialog.openRequested.connect(opened.append)
    open_button = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Open")
    open_button.setFocus()
    qtbot.keyClick(open_button, Qt.Key.Key_Space)
    assert opened == []  # the external viewer was not launched
    assert not dialog.isVisible()


def test_a_small_photo_is_shown_at_actual_size_and_says_so(qtbot, window) -> None:
    dialog = _open(qtbot, window)  # the test photos are 48 x 48
    qtbot.waitUntil(lambda: dialog.shown_size().width() > 0, timeout=WAIT)
    assert dialog.shown_size().width() <= 48 and dialog.shown_size().height() <= 48
    assert dialog.scale_label.isVisibleTo(dialog) and "actual size" in dialog.scale_label.text()
    dialog.close()


def test_a_photo_without_a_date_taken_shows_its_file_time_as_the_grid_does(qtbot, window) -> None:
    """No EXIF date: the grid and the timeline file the photo under its file's time, so the preview
    shows that date too, and says it is the file's time."""
    import datetime as dt
    import os

    dialog = _open(qtbot, window)
    result = window.results_model.result(1)
    assert result.taken is None and result.date == os.stat(dialog.path).st_mtime_ns / 1e9
    shown = dt.datetime.fromtimestamp(result.date).strftime("%d %b %Y, %H:%M")
    facts = dialog.facts_label.text()
    assert "date unknown" not in facts and f"{shown} (file time; no date taken)" in facts
    dialog.close()
