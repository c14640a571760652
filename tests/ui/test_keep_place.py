"""A photo view keeps the photo at its top in view when its width changes: the caption panel hidden or
shown (by the menu, or by itself as a query starts or ends), the window resized."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QAbstractItemView

from photosearch.core.types import SearchResult
from tests.ui.test_timeline import _fake_library, _months_of, _shown_panel

WAIT = 60000


def top_row(view) -> int:
    for y in (4, 20, 40, 60):
        index = view.indexAt(QPoint(12, y))
        if index.isValid():
            return index.row()
    return -1


def columns(view) -> int:
    """Tiles in the widest row among the first 100 rows."""
    tops = [view.visualRect(view.model().index(r)).top() for r in range(min(100, view.model().rowCount()))]
    return max(tops.count(top) for top in set(tops))


def _keeps(qtbot, view, row: int, change) -> None:
    """Scroll row to the top, make the change, and see row come back to the top once laid out anew."""
    model = view.model()
    before = columns(view)
    view.scrollTo(model.index(row), QAbstractItemView.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: top_row(view) >= 0 and abs(top_row(view) - row) < before)
    anchor = top_row(view)
    change()
    qtbot.waitUntil(lambda: columns(view) != before, timeout=WAIT)

    def back_at_top() -> bool:
        rect = view.visualRect(model.index(anchor))
        return rect.isValid() and rect.top() <= 8 and rect.bottom() > 8

    qtbot.waitUntil(back_at_top, timeout=WAIT)


def test_hiding_the_caption_panel_keeps_the_grid_s_place(qtbot, window) -> None:
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.run_text_query("a photo")
    results = window.results_model.results()
    window.results_model.set_results((results * 30)[:360])  # 360 tiles over the 12 real photos
    window.resize(1280, 800)
    assert window.caption_panel.isVisible()
    grid = window.grid
    qtbot.waitUntil(lambda: grid.verticalScrollBar().maximum() > 0, timeout=WAIT)
    _keeps(qtbot, grid, 150, lambda: window.menu_actions["captions"].setChecked(False))
    _keeps(qtbot, grid, 200, lambda: window.menu_actions["captions"].setChecked(True))
    _keeps(qtbot, grid, 100, lambda: window.resize(1000, 800))


def test_resizing_keeps_the_timeline_s_place(qtbot) -> None:
    photos, _, _ = _fake_library(600)
    photos = [replace(p, date=photos[0].date - i * 86400) for i, p in enumerate(photos)]  # a month a row or two

    def fetch(offset: int, k: int) -> list[SearchResult]:
        return photos[offset : offset + k]

    panel = _shown_panel(qtbot, fetch, _months_of(photos), (700, 500))
    view = panel.view
    qtbot.waitUntil(lambda: panel.model.photo_count() >= 200 and not panel.model.loading, timeout=WAIT)
    qtbot.waitUntil(lambda: view.visualRect(panel.model.index(200)).isValid(), timeout=WAIT)
    _keeps(qtbot, view, 120, lambda: panel.resize(1100, 500))
