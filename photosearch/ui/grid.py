"""The results grid: a QListView in icon mode, tuned for thousands of uniform tiles."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QAbstractItemView, QListView

from photosearch.ui.delegates import TileDelegate


class ResultsGrid(QListView):
    def __init__(self, tile_size: int, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("grid")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)  # one sizeHint for all: layout of 10k tiles stays instant
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(256)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDragEnabled(True)
        self.setMouseTracking(True)
        self.setSpacing(2)
        self.tile_delegate = TileDelegate(tile_size, self)
        self.setItemDelegate(self.tile_delegate)

    def set_tile_size(self, size: int) -> None:
        self.tile_delegate.tile = size
        self.setGridSize(self.tile_delegate.sizeHint(None, None) + QSize(4, 4))
