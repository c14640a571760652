"""A notice over the results when an index run finds that an offline watched folder's photos are now in
another watched folder (the core's moved_folders: most likely renamed or moved on disk). Said once per
folder and session, in words for a person; *Remove old folder…* goes through the window's usual removal
(with its confirmation). Nothing is removed on its own: the old folder may be a drive that comes back.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from photosearch.core.moved_folders import MovedFolder
from photosearch.core.terminal import safe


def folder_name(path: str) -> str:
    return safe(os.path.basename(path.rstrip(os.sep)) or path)


def moved_text(moved: MovedFolder) -> str:
    """“Trip” is not connected, and all 12 of its photos are now in “Trip 2019”. If you renamed..."""
    old = folder_name(moved.path)
    new = folder_name(moved.elsewhere) if moved.elsewhere else ""
    if new == old:  # /a/Trip moved to /b/Trip: the names alone would say nothing
        old, new = safe(moved.path), safe(moved.elsewhere)
    if moved.photos == 1:
        counted = "its photo is"
    elif moved.found == moved.photos:
        counted = f"all {moved.photos:,} of its photos are"
    else:
        counted = f"{moved.found:,} of its {moved.photos:,} photos are"
    where = f"“{new}”" if moved.elsewhere else "other watched folders"
    return (
        f"“{old}” is not connected, and {counted} now in {where}. "
        "If you renamed or moved it, you can remove the old folder; your files stay where they are."
    )


class MovedNotice(QFrame):
    """Hidden until offer() brings a moved folder not yet told of; one at a time, the next after it."""

    removeRequested = Signal(str)  # the old folder's path: the window confirms, then removes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBar")
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 8, 8)
        self.label = QLabel()
        self.label.setObjectName("noticeText")
        self.label.setWordWrap(True)
        self.remove_button = QPushButton("Remove old folder…")
        self.remove_button.clicked.connect(self._remove)
        self.dismiss_button = QPushButton("Not now")
        self.dismiss_button.setToolTip("Keep the folder; it stays in the sidebar as not connected")
        self.dismiss_button.clicked.connect(self.show_next)
        row.addWidget(self.label, 1)
        row.addWidget(self.remove_button)
        row.addWidget(self.dismiss_button)
        self.current: MovedFolder | None = None
        self._queue: list[MovedFolder] = []
        self._told: set[str] = set()  # folders already said (or waiting): never said again this session
        self.hide()

    def offer(self, moved: list[MovedFolder]) -> None:
        """An index run's moved folders: those not told of yet are said, one after the other."""
        for folder in moved:
            if folder.path not in self._told:
                self._told.add(folder.path)
                self._queue.append(folder)
        if self.current is None:
            self.show_next()

    def show_next(self) -> None:
        """Dismiss what is shown (if anything) and show the next folder waiting, or hide."""
        self.current = self._queue.pop(0) if self._queue else None
        if self.current is None:
            self.hide()
            return
        self.label.setText(moved_text(self.current))
        where = safe(self.current.elsewhere) if self.current.elsewhere else "several watched folders"
        self.label.setToolTip(f"Not connected: {safe(self.current.path)}\nIts photos are in: {where}")
        self.show()

    def folders_changed(self, offline: set[str]) -> None:
        """The watched folders still offline: a folder removed, or connected again, is no longer news."""
        self._queue = [f for f in self._queue if f.path in offline]
        if self.current is not None and self.current.path not in offline:
            self.show_next()

    def _remove(self) -> None:
        if self.current is not None:
            self.removeRequested.emit(self.current.path)  # hidden once the folder is gone (folders_changed)
