"""The bar above the grid: the search field, Search by image, the tile-size slider and the Settings gear."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSlider, QToolButton

from photosearch.ui.search_bar import SearchBar
from photosearch.ui.settings import THUMB_MAX, THUMB_MIN


class TopBar(QFrame):
    def __init__(self, thumb_size: int, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("topBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        self.search_bar = SearchBar()
        self.image_button = QPushButton("Search by image…")
        self.image_button.setToolTip("Find photos that look like an image file (Ctrl+O)")
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(THUMB_MIN, THUMB_MAX)
        self.size_slider.setValue(thumb_size)
        self.size_slider.setFixedWidth(120)
        self.size_slider.setToolTip("Thumbnail size (Ctrl+wheel over the grid)")
        self.settings_button = QToolButton()
        self.settings_button.setText("⚙")
        self.settings_button.setToolTip("Settings")
        layout.addWidget(self.search_bar, 1)
        layout.addWidget(self.image_button)
        layout.addWidget(QLabel("Size"))
        layout.addWidget(self.size_slider)
        layout.addWidget(self.settings_button)
