"""The bar above the grid: the search field, Search by image, the tile-size slider and the Settings gear.

Its controls wrap onto a second (or third) row when the window is narrow, so none of them is pushed off
the window and the window never has to be wider than the screen (small screens, QT_SCALE_FACTOR=2).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QToolButton, QWidget

from photosearch.ui.search_bar import SearchBar
from photosearch.ui.settings import THUMB_MAX, THUMB_MIN
from photosearch.ui.wrap_layout import WrapLayout

SEARCH_MIN_WIDTH = 240  # room to read a few words of the query before the other controls wrap


class TopBar(QFrame):
    def __init__(self, thumb_size: int, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("topBar")
        layout = WrapLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        self.search_bar = SearchBar()
        self.search_bar.set_minimum_width(SEARCH_MIN_WIDTH)
        self.search_bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.image_button = QPushButton("Search by image…")
        self.image_button.setToolTip("Find photos that look like an image file (Ctrl+O)")
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(THUMB_MIN, THUMB_MAX)
        self.size_slider.setValue(thumb_size)
        self.size_slider.setFixedWidth(120)
        self.size_slider.setToolTip("Thumbnail size (Ctrl+wheel over the grid)")
        self.size_slider.setAccessibleName("Thumbnail size")
        self.settings_button = QToolButton()
        self.settings_button.setText("⚙")
        self.settings_button.setToolTip("Settings")
        self.settings_button.setAccessibleName("Settings")
        sizes = QWidget()  # the label wraps together with its slider
        size_row = QHBoxLayout(sizes)
        size_row.setContentsMargins(0, 0, 0, 0)
        size_row.addWidget(QLabel("Size"))
        size_row.addWidget(self.size_slider)
        for widget in (self.search_bar, self.image_button, sizes, self.settings_button):
            layout.addWidget(widget)
