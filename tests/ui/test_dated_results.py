"""Search results sorted by date show month headers between the tiles, as the browse timeline does."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from photosearch.ui.month_headers import HeaderRole
from tests.ui.conftest import gui_args, open_window
from tests.ui.test_timeline import dated_library  # noqa: F401 (a fixture)

WAIT = 60000


def test_date_sorted_results_have_month_headers(qtbot, dated_library):  # noqa: F811
    root, _ = dated_library
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.ref.get().model_loaded and window.jobs_done >= 1, timeout=WAIT)
    model = window.results_model
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.search_bar.set_text("a photo")
    qtbot.waitUntil(lambda: model.rowCount() == 4, timeout=WAIT)
    assert model.headers() == [] and not window.grid.sectioned  # by relevance: no headers
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.filter_chips.set_sort("date")
    qtbot.waitUntil(lambda: model.rowCount() == 7, timeout=WAIT)
    rows = [model.data(model.index(r), HeaderRole) or Path(model.result(r).path).name for r in range(7)]
    assert rows == ["March 2021", "d1.jpg", "d0.jpg", "August 2019", "d2.jpg", "January 2018", "lighthouse-coast.jpg"]
    assert window.grid.sectioned and len(model.results()) == 4
    # a header spans the grid, and its month's photos start below it
    qtbot.waitUntil(lambda: window.grid.visualRect(model.index(6)).isValid(), timeout=WAIT)
    header, first, second_header = (window.grid.visualRect(model.index(r)) for r in (0, 1, 3))
    assert header.width() >= window.grid.viewport().width() - 20
    assert first.top() >= header.bottom() and second_header.top() > first.top()
    # headers are neither selectable nor dragged; Left/Right in the preview steps over them
    selectable = Qt.ItemFlag.ItemIsSelectable
    assert not model.flags(model.index(0)) & selectable and model.flags(model.index(1)) & selectable
    window.grid.selectAll()
    assert [Path(p).name for p in window.selected_paths()] == ["d1.jpg", "d0.jpg", "d2.jpg", "lighthouse-coast.jpg"]
    dialog = window.open_preview(2)
    window._preview_step(+1)
    assert Path(dialog.path).name == "d2.jpg"
    dialog.close()
    qtbot.waitUntil(window.thumbnails_settled, timeout=WAIT)
    # back to relevance: plain tiles again
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.filter_chips.remove("sort")
    assert model.headers() == [] and not window.grid.sectioned and model.rowCount() == 4
