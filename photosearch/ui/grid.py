"""The results grid: a QListView in icon mode, tuned for thousands of uniform tiles; sorted by date, it
shows month headers between them (then the tiles are laid out one by one, still fast at a few thousand)."""

from __future__ import annotations

from PySide6.QtCore import QSize

from photosearch.ui.delegates import TileDelegate
from photosearch.ui.photo_view import PhotoView


class ResultsGrid(PhotoView):
    def __init__(self, tile_size: int, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("grid")
        self.setUniformItemSizes(True)  # one sizeHint for all: layout of 10k tiles stays instant
        self.setBatchSize(256)
        self.setMouseTracking(True)
        self.tile_delegate = TileDelegate(tile_size, self)
        self.setItemDelegate(self.tile_delegate)

        self.sectioned = False

    def set_sectioned(self, on: bool) -> None:
        """Month headers among the tiles (results sorted by date): rows of their own size, no fixed grid."""
        if on == self.sectioned:
            return
        self.sectioned = on
        self.setUniformItemSizes(not on)
        self.set_tile_size(self.tile_delegate.tile)

    def set_tile_size(self, size: int) -> None:
        self.tile_delegate.tile = size
        if getattr(self, "sectioned", False):
            self.setGridSize(QSize())  # a header is a row wide; tiles take their own size hint
            self.doItemsLayout()
        else:
            self.setGridSize(self.tile_delegate.sizeHint(None, None) + QSize(4, 4))
        self.keep_room_for(self.tile_delegate.sizeHint(None, None).width() + 4)
