"""The right-hand panel: photos whose captions match the query, best first."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QFrame, QLabel, QListView, QVBoxLayout

from photosearch.ui.delegates import CaptionDelegate
from photosearch.ui.results_model import CaptionModel


class CaptionPanel(QFrame):
    def __init__(self, model: CaptionModel, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("captionPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 10, 10, 10)
        self.heading = QLabel("CAPTION MATCHES")
        self.heading.setObjectName("sectionHeading")
        self.view = QListView()
        self.view.setObjectName("captionList")
        self.view.setWordWrap(True)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setItemDelegate(CaptionDelegate(self.view))
        self.view.setModel(model)
        layout.addWidget(self.heading)
        layout.addWidget(self.view, 1)

    def set_count(self, count: int) -> None:
        self.heading.setText(f"CAPTION MATCHES ({count})" if count else "CAPTION MATCHES")
