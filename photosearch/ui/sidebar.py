"""The folder sidebar: "All folders" and each watched folder with its photo count.

Clicking a folder limits the results to it; "All folders" (or View ▸ All folders) brings back all.
A folder's context menu offers Show in folder, Rescan and Remove; an offline folder whose photos an index
run found in another watched folder offers "Remove (it moved to …)" instead.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
)

ALL_FOLDERS = "All folders"


class FolderList(QListWidget):
    """The folder rows, whose highlight is the folder filter in effect: a left click or a key that moves
    the highlight picks that folder; a right click (for the folder's menu) leaves the highlight alone."""

    picked = Signal()  # the highlight moved by a left click or a key: the filter follows it

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            self.picked.emit()
            return
        row = self.currentRow()
        super().mousePressEvent(event)
        self.setCurrentRow(row)

    def keyPressEvent(self, event) -> None:
        super().keyPressEvent(event)
        self.picked.emit()


class FolderSidebar(QFrame):
    addRequested = Signal()
    removeRequested = Signal(str)  # a folder's path
    filterChanged = Signal(str)  # the folder results are limited to; "" for all folders
    rescanRequested = Signal(str)
    revealRequested = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        side = QVBoxLayout(self)
        side.setContentsMargins(10, 10, 6, 10)
        heading = QLabel("FOLDERS")
        heading.setObjectName("sectionHeading")
        self.folder_list = FolderList()
        self.folder_list.setObjectName("folderList")
        self.folder_list.itemClicked.connect(self._on_clicked)
        self.folder_list.picked.connect(lambda: self._on_clicked(self.folder_list.currentItem()))
        self.folder_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.folder_list.customContextMenuRequested.connect(self._menu)
        buttons = QHBoxLayout()
        self.add_button = add = QPushButton("Add…")
        add.clicked.connect(self.addRequested)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove_selected)
        buttons.addWidget(add)
        buttons.addWidget(self.remove_button)
        side.addWidget(heading)
        side.addWidget(self.folder_list, 1)
        side.addLayout(buttons)
        self.filter = ""
        self.summary = ""  # the status bar's count, shown on the "All folders" row too (they must agree)
        self.menu: QMenu | None = None
        self.moved: dict[str, str | None] = {}  # offline folder -> the watched folder now holding its photos

    def selected_folder(self) -> str | None:
        item = self.folder_list.currentItem()
        return (item.data(Qt.ItemDataRole.UserRole) or None) if item is not None else None

    def _remove_selected(self) -> None:
        path = self.selected_folder()
        if path:
            self.removeRequested.emit(path)

    def _on_clicked(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.set_filter(item.data(Qt.ItemDataRole.UserRole) or "")

    def set_filter(self, path: str) -> None:
        if path == self.filter:
            return
        self.filter = path
        self._select(path)
        self.filterChanged.emit(path)

    def _select(self, path: str) -> None:
        for row in range(self.folder_list.count()):
            item = self.folder_list.item(row)
            if (item.data(Qt.ItemDataRole.UserRole) or "") == path:
                self.folder_list.setCurrentItem(item)
                return

    def _menu(self, pos) -> None:
        item = self.folder_list.itemAt(pos)
        path = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if not path:
            return
        self.menu = self.folder_menu(path)
        self.menu.popup(self.folder_list.viewport().mapToGlobal(pos))

    def folder_menu(self, path: str) -> QMenu:
        menu = QMenu(self)
        menu.addAction("Show only this folder", lambda: self.set_filter(path))
        menu.addAction("Show in folder", lambda: self.revealRequested.emit(path))
        menu.addAction("Rescan", lambda: self.rescanRequested.emit(path))
        menu.addSeparator()
        menu.addAction(self._remove_text(path), lambda: self.removeRequested.emit(path))
        return menu

    def _remove_text(self, path: str) -> str:
        if path not in self.moved:
            return "Remove…"
        elsewhere = self.moved[path]
        if elsewhere is None:
            return "Remove (its photos are in other folders)…"
        return f"Remove (it moved to {os.path.basename(elsewhere.rstrip(os.sep)) or elsewhere})…"

    def set_moved(self, moved: list) -> None:
        """An index run's moved folders (core MovedFolder): their menus offer removal with where they went."""
        self.moved.update({m.path: m.elsewhere for m in moved})

    def set_summary(self, text: str) -> None:
        """The library's count as the status bar shows it ("120 photos · 180 to index")."""
        self.summary = text
        first = self.folder_list.item(0)
        if first is not None and not first.data(Qt.ItemDataRole.UserRole):
            first.setText(f"{ALL_FOLDERS}\n{text}")

    def set_folders(self, folders: list) -> None:
        """folders: [Folder] from the library (path, photos, online)."""
        self.folder_list.clear()
        offline = {f.path for f in folders if not f.online}
        self.moved = {path: where for path, where in self.moved.items() if path in offline}  # back, or removed
        if folders:
            total = sum(f.photos for f in folders)
            everything = QListWidgetItem(f"{ALL_FOLDERS}\n{self.summary or f'{total:,} photos'}")
            everything.setData(Qt.ItemDataRole.UserRole, "")
            self.folder_list.addItem(everything)
        for folder in folders:
            name = os.path.basename(folder.path.rstrip(os.sep)) or folder.path
            state = f"{folder.photos:,} photos" if folder.online else "not connected"
            item = QListWidgetItem(f"{name}\n{state}")
            item.setData(Qt.ItemDataRole.UserRole, folder.path)
            moved = self.moved.get(folder.path) or ""
            item.setToolTip(folder.path + (f"\nIts photos are now in {moved}" if moved else ""))
            self.folder_list.addItem(item)
        if self.filter and self.filter not in {f.path for f in folders}:
            self.set_filter("")  # the folder went away: show everything again
        else:
            self._select(self.filter)
