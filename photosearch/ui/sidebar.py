"""The folder sidebar: watched folders with their photo counts, and Add/Remove buttons."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout


class FolderSidebar(QFrame):
    addRequested = Signal()
    removeRequested = Signal(str)  # the selected folder's path

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        side = QVBoxLayout(self)
        side.setContentsMargins(10, 10, 6, 10)
        heading = QLabel("FOLDERS")
        heading.setObjectName("sectionHeading")
        self.folder_list = QListWidget()
        self.folder_list.setObjectName("folderList")
        buttons = QHBoxLayout()
        add = QPushButton("Add…")
        add.clicked.connect(self.addRequested)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove_selected)
        buttons.addWidget(add)
        buttons.addWidget(self.remove_button)
        side.addWidget(heading)
        side.addWidget(self.folder_list, 1)
        side.addLayout(buttons)

    def selected_folder(self) -> str | None:
        item = self.folder_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _remove_selected(self) -> None:
        path = self.selected_folder()
        if path:
            self.removeRequested.emit(path)

    def set_folders(self, folders: list) -> None:
        """folders: [Folder] from the library (path, photos, online)."""
        self.folder_list.clear()
        for folder in folders:
            name = os.path.basename(folder.path.rstrip(os.sep)) or folder.path
            state = f"{folder.photos:,} photos" if folder.online else "not connected"
            item = QListWidgetItem(f"{name}\n{state}")
            item.setData(Qt.ItemDataRole.UserRole, folder.path)
            item.setToolTip(folder.path)
            self.folder_list.addItem(item)
