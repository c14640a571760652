"""The tile and caption delegates keep Python's books straight while painting, thousands of times.

PySide6 6.12.0 on CPython < 3.12 drops one reference to None on every void Qt call made from Python;
painting a few thousand tiles then deallocates None and the process aborts ("none_dealloc"). These
tests paint through the real delegates and fail as soon as sys.getrefcount(None) falls.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from photosearch.ui.delegates import CaptionDelegate, TileDelegate
from photosearch.ui.results_model import HtmlRole, ScoreRole, ThumbStateRole

PAINTS = 3000
# Noise from other threads and caches is a few references; the bug costs ~10 per paint.
TOLERANCE = 200


def none_refs() -> int:
    return sys.getrefcount(None)


def paint_until_drift(paint, count: int = PAINTS) -> int:
    """Paint count times; the lowest drift of None's reference count seen (stops early once it falls)."""
    paint()  # first paint fills caches (fonts, glyphs) that hold references for good
    before = none_refs()
    lowest = 0
    for i in range(count):
        paint()
        if i % 50 == 0:
            lowest = min(lowest, none_refs() - before)
            if lowest < -TOLERANCE:
                break  # failing: stop before None really reaches zero and aborts the test run
    return min(lowest, none_refs() - before)


def _item(role_values: dict) -> QStandardItem:
    item = QStandardItem()
    for role, value in role_values.items():
        item.setData(value, role)
    return item


@pytest.fixture
def painted(qapp):
    pixmap = QPixmap(120, 90)
    pixmap.fill(QColor(200, 80, 40))
    model = QStandardItemModel()
    model.appendRow(
        _item(
            {
                Qt.ItemDataRole.DisplayRole: "a_rather_long_photo_name_0001.jpg",
                Qt.ItemDataRole.DecorationRole: pixmap,
                ScoreRole: 0.3141,
                ThumbStateRole: "ready",
                HtmlRole: "a <b>dog</b> on a beach, with a long caption that wraps over lines",
            }
        )
    )
    model.appendRow(_item({Qt.ItemDataRole.DisplayRole: "loading.jpg", ThumbStateRole: "loading"}))
    model.appendRow(_item({Qt.ItemDataRole.DisplayRole: "broken.jpg", ThumbStateRole: "failed", ScoreRole: 0.1}))
    image = QImage(QSize(400, 300), QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    yield model, painter
    painter.end()


def _options() -> list[QStyleOptionViewItem]:
    options = []
    for state in (QStyle.StateFlag.State_None, QStyle.StateFlag.State_Selected, QStyle.StateFlag.State_MouseOver):
        option = QStyleOptionViewItem()
        option.rect = QRect(0, 0, 200, 220)
        option.state = state | QStyle.StateFlag.State_Enabled
        options.append(option)
    return options


def test_tile_delegate_paints_without_losing_references_to_none(painted) -> None:
    model, painter = painted
    delegate = TileDelegate(160)
    options = _options()
    indexes = [model.index(row, 0) for row in range(model.rowCount())]

    def paint() -> None:
        for option in options:
            for index in indexes:
                delegate.paint(painter, option, index)

    drift = paint_until_drift(paint, PAINTS // 9)
    assert drift >= -TOLERANCE, f"sys.getrefcount(None) fell by {-drift} while painting tiles"


def test_caption_delegate_paints_without_losing_references_to_none(painted) -> None:
    model, painter = painted
    delegate = CaptionDelegate()
    options = _options()
    index = model.index(0, 0)

    def paint() -> None:
        for option in options:
            delegate.paint(painter, option, index)

    drift = paint_until_drift(paint, PAINTS // 3)
    assert drift >= -TOLERANCE, f"sys.getrefcount(None) fell by {-drift} while painting captions"
