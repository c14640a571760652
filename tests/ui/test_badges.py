"""Why badges fit every tile size: each reason a photo matched shows as a badge or in a "+N" badge whose
reasons the tooltip names; none covers the score."""

from __future__ import annotations

from PySide6.QtCore import QObject, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from photosearch.core.types import SearchResult
from photosearch.ui.badges import BADGES
from photosearch.ui.delegates import TileDelegate
from photosearch.ui.results_model import ResultsModel, format_score
from photosearch.ui.settings import THUMB_DEFAULT, THUMB_MAX, THUMB_MIN

WHY = ("image", "caption", "filename")
SCORE = 1.889


class _Loader(QObject):
    ready = Signal(str)

    def pixmap(self, path, fingerprint=""):
        return None

    def failed(self, path):
        return False

    def settled(self, path):
        return True


class RecordingPainter(QPainter):
    """Remembers the text the delegate draws, and where (badges are drawn from Python)."""

    def __init__(self, device) -> None:
        super().__init__(device)
        self.texts: list[tuple[QRectF, str]] = []

    def drawText(self, *args) -> None:
        if len(args) == 3 and isinstance(args[0], (QRect, QRectF)):
            self.texts.append((QRectF(args[0]), args[2]))
        super().drawText(*args)


def _paint(model: ResultsModel, tile: int) -> list[tuple[QRectF, str]]:
    delegate = TileDelegate(tile)
    image = QImage(tile + 40, tile + 60, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = RecordingPainter(image)
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, tile + 12, tile + 32)
    option.font = QFont()
    delegate.paint(painter, option, model.index(0))
    painter.end()
    return painter.texts


def test_every_reason_shows_at_every_tile_size(qtbot):
    model = ResultsModel(_Loader())
    model.set_results([SearchResult(path="/p/cat.jpg", score=SCORE, why=WHY)])
    labels = [BADGES[w][0] for w in WHY]
    tooltip = model.data(model.index(0), Qt.ItemDataRole.ToolTipRole)
    for tile in sorted({*range(THUMB_MIN, THUMB_MAX + 1, 8), THUMB_DEFAULT}):
        texts = _paint(model, tile)
        score = next(rect for rect, text in texts if text == format_score(SCORE))
        badges = [(rect, text) for rect, text in texts if text in labels or text.startswith("+")]
        shown = [text for _, text in badges if not text.startswith("+")]
        more = [int(text[1:]) for _, text in badges if text.startswith("+")]
        assert shown == labels[: len(shown)], tile
        assert len(shown) + sum(more) == len(WHY), f"tile {tile}: {shown} {more}: a reason is not shown"
        if more:  # the rest are named in the tooltip
            assert all(label in tooltip for label in labels[len(shown):]), tooltip
        image_rect = QRectF(6, 6, tile, tile)
        for rect, text in badges:
            assert image_rect.contains(rect), f"tile {tile}: {text} sticks out"
            assert not rect.intersects(score), f"tile {tile}: {text} covers the score"
