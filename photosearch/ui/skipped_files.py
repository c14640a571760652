"""The files indexing left out (damaged or truncated images, files that are not images, unreadable files
and folders, links leading outside the watched folders), as `photosearch status --skipped` lists them:
a dialog opened from the status bar's "N skipped", with Show in folder and Copy list.

The list is read on a BackgroundReads pool thread (a full scan of the photos table on a large library);
the GUI thread only fills the table. Nothing here writes.
"""

from __future__ import annotations

import os

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from photosearch.core.terminal import safe
from photosearch.ui.background_reads import BackgroundReads

PATH_ROLE = Qt.ItemDataRole.UserRole
READING = "Reading the list…"
FOLDER, FILE, WHY = range(3)  # the table's columns


def holding_folder(path: str, folders: list[str]) -> str | None:
    """The innermost watched folder path is in (or is), None when in none."""
    holders = [f for f in folders if path == f or path.startswith(f.rstrip(os.sep) + os.sep)]
    return max(holders, key=len) if holders else None


def folder_name(folder: str) -> str:
    return safe(os.path.basename(folder.rstrip(os.sep)) or folder)


def relative_name(path: str, folders: list[str]) -> str:
    """path as shown: relative to the innermost watched folder holding it (a watched folder that could not
    be read shows its own name), printable whatever bytes the name has; absolute when in none."""
    folder = holding_folder(path, folders)
    if folder is None:
        return safe(path)
    if path == folder:
        return folder_name(folder)
    return safe(path[len(folder.rstrip(os.sep)) + 1 :])


class SkippedDialog(QDialog):
    revealRequested = Signal(str)  # a skipped file's full path
    copied = Signal(int)  # how many files Copy list put on the clipboard

    def __init__(self, library_getter, reads: BackgroundReads, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._library = library_getter
        self.reads = reads  # the window's: a read still running when this closes ends on its own
        self.files: list[dict] = []  # {"path", "reason"} as Library.skipped() gives them
        self._asked = 0  # numbers each refresh: only the latest one's answer is shown
        self._running = 0
        self.setWindowTitle("Skipped files")
        self.resize(760, 420)
        layout = QVBoxLayout(self)
        self.summary = QLabel(READING)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Folder", "File", "Why it was skipped"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(FOLDER, 140)
        self.table.setColumnWidth(FILE, 320)
        self.table.setColumnHidden(FOLDER, True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.reveal_selected())
        layout.addWidget(self.table, 1)
        self.reveal_button = QPushButton("Show in folder")
        self.reveal_button.clicked.connect(self.reveal_selected)
        self.copy_button = QPushButton("Copy list")
        self.copy_button.setToolTip("Copy each file's full path and reason, one a line")
        self.copy_button.clicked.connect(self.copy_list)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (self.reveal_button, self.copy_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self._update_buttons()

    @property
    def loading(self) -> bool:
        return self._running != 0

    def refresh(self) -> None:
        """Read the list again off the GUI thread (after each index run); the table fills when it arrives."""
        self._asked += 1
        if not self._running:  # else the running read is followed by one for this request
            self._start()

    def _start(self) -> None:
        self._running = ticket = self._asked
        library = self._library()  # the getter is the GUI's; the pool thread gets the library itself

        def read() -> tuple[list[dict], list[str]]:
            # Connected only: a folder found renamed keeps its old (offline) rows, which would list each twice.
            return library.skipped(connected_only=True), [f.path for f in library.folders()]

        self.reads.submit(
            read, lambda answer: self._answered(ticket, answer, ""), lambda error: self._answered(ticket, None, error)
        )

    def _answered(self, ticket: int, answer: tuple | None, error: str) -> None:
        if not shiboken6.isValid(self):  # closed and deleted while the read ran
            return
        self._running = 0
        if ticket != self._asked:  # asked again meanwhile (another index run): read the latest
            self._start()
            return
        if error or answer is None:
            self.summary.setText("Could not read the list: " + (error.strip().splitlines() or ["unknown error"])[0])
            return
        self._fill(*answer)

    def _fill(self, files: list[dict], folders: list[str]) -> None:
        selected = self.selected_path()
        self.files = files
        self.table.setRowCount(len(files))
        holders = set()
        for row, entry in enumerate(files):
            folder = holding_folder(entry["path"], folders)
            holders.add(folder)
            where = QTableWidgetItem(folder_name(folder) if folder else "")
            where.setToolTip(safe(folder or ""))
            name = QTableWidgetItem(relative_name(entry["path"], folders))
            name.setData(PATH_ROLE, entry["path"])
            name.setToolTip(safe(entry["path"]))
            reason = QTableWidgetItem(safe(entry["reason"] or "unknown"))
            reason.setToolTip(reason.text())
            for column, item in ((FOLDER, where), (FILE, name), (WHY, reason)):
                self.table.setItem(row, column, item)
            if entry["path"] == selected:
                self.table.selectRow(row)
        self.table.setColumnHidden(FOLDER, len(holders) < 2)  # one folder: naming it on each row says nothing
        count = len(files)
        self.summary.setText(
            f"{count:,} file{'' if count == 1 else 's'} could not be indexed and {'is' if count == 1 else 'are'} "
            "left out of searches. A file you fix or replace is tried again on the next index."
            if files
            else "No files were skipped: everything in your folders is indexed."
        )
        self._update_buttons()

    def selected_path(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        item = self.table.item(rows[0].row(), FILE) if rows else None
        return item.data(PATH_ROLE) if item is not None else None

    def _update_buttons(self) -> None:
        self.reveal_button.setEnabled(self.selected_path() is not None)
        self.copy_button.setEnabled(bool(self.files))

    def reveal_selected(self) -> None:
        path = self.selected_path()
        if path:
            self.revealRequested.emit(path)

    def copy_list(self) -> None:
        """Full paths (to find the files elsewhere) and reasons, tab-separated: pastes into a note or a sheet."""
        lines = [f"{safe(f['path'])}\t{safe(f['reason'] or 'unknown')}" for f in self.files]
        if lines:
            QGuiApplication.clipboard().setText("\n".join(lines))
            self.copied.emit(len(lines))


def open_skipped(window) -> SkippedDialog:
    """Show the window's Skipped files dialog (one, reused), reading the list afresh."""
    dialog = getattr(window, "skipped_dialog", None)
    if dialog is None or not shiboken6.isValid(dialog):
        reads = getattr(window, "skipped_reads", None) or BackgroundReads(window)
        window.skipped_reads = reads
        dialog = window.skipped_dialog = SkippedDialog(window.ref.get, reads, window)
        dialog.revealRequested.connect(lambda path: window.reveal(path))
        dialog.copied.connect(lambda n: window.note(f"Copied the list of {n:,} skipped file{'s' * (n != 1)}", 4000))
    dialog.refresh()
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def refresh_skipped(window) -> None:
    """After an index run: an open list follows what the run found."""
    dialog = getattr(window, "skipped_dialog", None)
    if dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible():
        dialog.refresh()
