"""Soak: scroll a populated results grid with the wheel, offscreen, for thousands of tile paints."""

from __future__ import annotations

import sys

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from photosearch.ui.delegates import TileDelegate
from tests.ui.test_delegates import TOLERANCE

TILE_PAINTS = 5000


class CountingTileDelegate(TileDelegate):
    def __init__(self, tile: int, parent=None) -> None:
        super().__init__(tile, parent)
        self.paints = 0

    def paint(self, painter, option, index) -> None:
        self.paints += 1
        super().paint(painter, option, index)


def _wheel(viewport, delta: int) -> None:
    centre = QPointF(viewport.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(viewport.mapToGlobal(QPoint(int(centre.x()), int(centre.y())))),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)


def test_wheel_scrolling_a_300_result_grid_keeps_none_alive(qtbot, window) -> None:
    library = window.ref.get()
    results = library.search_text("a photo", k=200)
    window.results_model.set_results((results * 25)[:300])  # 300 tiles over the 12 real photos
    window._update_page()
    delegate = CountingTileDelegate(window.settings.thumb_size, window.grid)
    window.grid.setItemDelegate(delegate)
    window.grid.tile_delegate = delegate
    window.resize(900, 700)
    qtbot.waitUntil(lambda: window.grid.verticalScrollBar().maximum() > 0, timeout=60000)
    qtbot.waitUntil(window.thumbnails_settled, timeout=60000)
    bar = window.grid.verticalScrollBar()
    viewport = window.grid.viewport()
    viewport.repaint()
    before = sys.getrefcount(None)
    direction, lowest, positions = -120, 0, set()
    while delegate.paints < TILE_PAINTS:
        if bar.value() >= bar.maximum():
            direction = 120
        elif bar.value() <= bar.minimum():
            direction = -120
        positions.add(bar.value())
        _wheel(viewport, direction)
        viewport.repaint()  # paint now, synchronously: the count below does not depend on timing
        QApplication.processEvents()
        lowest = min(lowest, sys.getrefcount(None) - before)
        if lowest < -TOLERANCE:
            break
    assert lowest >= -TOLERANCE, f"sys.getrefcount(None) fell by {-lowest} over {delegate.paints} tile paints"
    assert delegate.paints >= TILE_PAINTS
    assert len(positions) > 10 and bar.minimum() in positions and bar.maximum() in positions  # it really scrolled
    assert window.isVisible()
