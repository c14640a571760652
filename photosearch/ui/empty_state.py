"""The first-run page: invite adding a folder, offering the user's Pictures folder."""

from __future__ import annotations

import os

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class EmptyState(QWidget):
    addFolder = Signal(str)
    chooseFolder = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel("Find your photos by what they show")
        title.setObjectName("emptyTitle")
        body = QLabel("Add a folder of photos. PhotoSearch indexes it on this computer — nothing leaves it.")
        body.setObjectName("emptyBody")
        for label in (title, body):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
            layout.addWidget(label)
        row = QHBoxLayout()
        row.addStretch(1)
        pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
        self.pictures_button = QPushButton(f"Use {pictures}")
        self.pictures_button.setObjectName("primaryButton")
        self.pictures_button.clicked.connect(lambda: self.addFolder.emit(pictures))
        self.pictures_button.setVisible(bool(pictures) and os.path.isdir(pictures))
        self.choose_button = QPushButton("Choose a folder…")
        self.choose_button.clicked.connect(self.chooseFolder)
        row.addWidget(self.pictures_button)
        row.addWidget(self.choose_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
