"""The Duplicates window: groups of copies with size, resolution and date, the proposed copy to keep,
Show in folder, and Move to trash (asks first; the system trash, never a permanent delete).

Finding groups only reads the library, so it runs on a BackgroundReads pool thread (minutes on a large
library: the GUI thread only fills the list); trashing is a write, so it goes to the index worker (the
single writer) and the list refreshes when the worker reports back. Closing the window, quitting the
app or asking again (Find again) stops a search under way at its next step (the core's should_stop),
rather than letting it run on.
"""

from __future__ import annotations

import os
import threading

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from photosearch.ui.background_reads import BackgroundReads
from photosearch.ui.dialogs import human_size
from photosearch.ui.worker import connect_job

PATH_ROLE = Qt.ItemDataRole.UserRole
KIND_LABELS = {"exact": "Exact copies", "near": "Near-identical", "similar": "Similar shots"}
FINDING = "Finding duplicates…"


def _row(*widgets: QWidget | None) -> QHBoxLayout:
    """A row of widgets; None stands for the stretch that pushes the rest to the right."""
    row = QHBoxLayout()
    for widget in widgets:
        if widget is None:
            row.addStretch(1)
        else:
            row.addWidget(widget)
    return row


class DuplicatesDialog(QDialog):
    trashRequested = Signal(list)  # paths, confirmed by the user
    revealRequested = Signal(str)

    def __init__(self, library_getter, parent: QWidget | None = None, reads: BackgroundReads | None = None) -> None:
        super().__init__(parent)
        self._library = library_getter
        # open_duplicates passes the window's (see _window_reads); one of its own waits for a search on close
        self.reads = reads if reads is not None else BackgroundReads(self)
        self.groups: list = []
        self._asked = 0  # numbers each refresh: only the answer to the latest one is shown
        self._running = 0  # the request being computed now (0: none)
        self._outdated = threading.Event()  # the running search's own stop: set when a newer request comes
        self._trashing = False
        self._note = ""  # what the last trash did, kept above the groups found after it
        # Read by the search on the pool thread: set when the dialog closes (or is deleted) or the app quits.
        self.stop_event = threading.Event()
        self.finished.connect(self.stop_event.set)
        self.destroyed.connect(self.stop_event.set)
        self.setWindowTitle("Duplicates")
        self.resize(980, 640)
        layout = QVBoxLayout(self)
        self.include_similar = QCheckBox("Also group similar shots, CLIP similarity at least")
        self.similarity = QDoubleSpinBox()
        self.similarity.setRange(0.5, 1.0)
        self.similarity.setSingleStep(0.01)
        self.similarity.setDecimals(2)
        self.similarity.setValue(0.92)
        refresh = QPushButton("Find again")
        refresh.clicked.connect(lambda: self.refresh())
        layout.addLayout(_row(self.include_similar, self.similarity, None, refresh))
        self.summary = QLabel()
        layout.addWidget(self.summary)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Photo", "Resolution", "Size", "Date", ""])
        self.tree.setColumnWidth(0, 480)
        self.tree.itemDoubleClicked.connect(lambda item, _col: self._reveal(item))
        layout.addWidget(self.tree, 1)
        self.reveal_button = QPushButton("Show in folder")
        self.reveal_button.clicked.connect(lambda: self._reveal(self.tree.currentItem()))
        self.trash_button = QPushButton("Move checked to trash…")
        self.trash_button.clicked.connect(self.trash_checked)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        layout.addLayout(_row(self.reveal_button, self.trash_button, None, close))

    # -- groups ------------------------------------------------------------------------------------
    @property
    def finding(self) -> bool:
        return self._running != 0

    def refresh(self, note: str = "") -> None:
        """Find the groups again off the GUI thread; the list fills when they arrive."""
        self._asked += 1
        self._note = note
        self.stop_event.clear()  # shown again after a close (a dialog that is not deleted on close)
        self.groups = []
        self.tree.clear()  # what it showed may be gone (trashed) or grouped otherwise (new threshold)
        self._say(FINDING)
        if self._running:  # out of date: it stops at its next step, and one for this request follows it
            self._outdated.set()
        else:
            self._start()
        self._update_buttons()

    def _start(self) -> None:
        self._running = ticket = self._asked
        similarity = self.similarity.value() if self.include_similar.isChecked() else None
        library = self._library()  # the getter is the GUI's; the pool thread gets the library itself
        closed, outdated = self.stop_event, threading.Event()
        self._outdated = outdated

        def should_stop() -> bool:  # asked on the pool thread: the dialog closed, or a newer request came
            return closed.is_set() or outdated.is_set()

        self.reads.submit(
            lambda: library.duplicates(similarity=similarity, should_stop=should_stop),
            lambda groups: self._answered(ticket, groups, ""),
            lambda error: self._answered(ticket, [], error),
        )

    def _answered(self, ticket: int, groups: list, error: str) -> None:
        # A pool the window owns outlives the dialog: this one may be closed and deleted by now.
        if not shiboken6.isValid(self):
            return
        self._running = 0
        if ticket != self._asked:  # asked again meanwhile: this answer is stale, find with the latest
            self._start()
            return
        self.groups = list(groups)
        if error:
            self._say("Could not find duplicates: " + (error.strip().splitlines() or ["unknown error"])[0])
        else:
            self._fill()
        self._update_buttons()

    def _say(self, text: str) -> None:
        self.summary.setText(f"{self._note}. {text}" if self._note else text)

    def _update_buttons(self) -> None:
        self.trash_button.setEnabled(not self._running and not self._trashing)

    def _fill(self) -> None:
        self.tree.clear()
        extra = sum(len(g.photos) - 1 for g in self.groups)
        spare = sum(p.bytes for g in self.groups for p in g.photos if not p.keep)
        self._say(
            f"{len(self.groups)} groups, {extra} photos beyond the one proposed to keep ({human_size(spare)})"
            if self.groups
            else "No duplicates found"
        )
        for group in self.groups:
            head = QTreeWidgetItem([f"{KIND_LABELS[group.kind]} · {len(group.photos)} photos · {group.score:.3f}"])
            head.setFirstColumnSpanned(False)
            self.tree.addTopLevelItem(head)
            for photo in group.photos:
                item = QTreeWidgetItem(
                    [
                        photo.path,
                        f"{photo.width} × {photo.height}",
                        human_size(photo.bytes),
                        photo.date.replace("T", " "),
                        "keep" if photo.keep else "",
                    ]
                )
                item.setData(0, PATH_ROLE, photo.path)
                aliases = photo.aliases
                item.setToolTip(0, "\n".join([photo.path, *(f"also reached as {a}" for a in aliases)]))
                # Proposed for the trash: every copy but the one to keep, except merely similar shots and
                # files other paths lead to (trashing one would leave those links dangling).
                wanted = not photo.keep and group.kind != "similar" and not aliases
                item.setCheckState(0, Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
                head.addChild(item)
            head.setExpanded(True)

    def checked_paths(self) -> list[str]:
        paths = []
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            for j in range(head.childCount()):
                item = head.child(j)
                if item.checkState(0) == Qt.CheckState.Checked:
                    paths.append(item.data(0, PATH_ROLE))
        return paths

    # -- actions -----------------------------------------------------------------------------------
    def _reveal(self, item: QTreeWidgetItem | None) -> None:
        path = item.data(0, PATH_ROLE) if item is not None else None
        if path:
            self.revealRequested.emit(path)

    def trash_checked(self) -> bool:
        paths = self.checked_paths()
        if not paths:
            self.summary.setText("Check the photos to move to the trash first")
            return False
        if not self.confirm(paths):
            return False
        self._trashing = True
        self._update_buttons()
        self.trashRequested.emit(paths)
        return True

    def confirm(self, paths: list[str]) -> bool:
        names = "\n".join(os.path.basename(p) for p in paths[:8]) + ("\n…" if len(paths) > 8 else "")
        answer = QMessageBox.question(
            self,
            "Move to trash",
            f"Move {len(paths)} photo(s) to the trash?\n\n{names}\n\nYou can restore them from the system trash.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def on_trashed(self, paths: list, problems: list) -> None:
        self._trashing = False
        moved = len(paths) - len(problems)
        text = f"Moved {moved} photo(s) to the trash"
        if problems:
            text += "; not moved: " + "; ".join(f"{os.path.basename(p)} ({why})" for p, why in problems[:3])
        self.refresh(note=text)


def open_duplicates(window) -> DuplicatesDialog:
    """Open the Duplicates window for the main window's library and wire it to its worker."""
    dialog = DuplicatesDialog(window.ref.get, window, reads=_window_reads(window))
    dialog.revealRequested.connect(window.reveal)
    connect_job(dialog.trashRequested, window.worker.move_to_trash, window.worker)  # the worker's thread writes
    window.worker.trashed.connect(dialog.on_trashed)
    dialog.finished.connect(lambda _=0: window.worker.trashed.disconnect(dialog.on_trashed))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.refresh()
    dialog.show()
    window.duplicates_dialog = dialog
    return dialog


def stop_duplicate_searches(window, msecs: int = 5000) -> None:
    """On quit: stop the searches of the window's Duplicates dialogs, and wait for them to end."""
    for dialog in window.findChildren(DuplicatesDialog):
        dialog.stop_event.set()
    reads = getattr(window, "duplicate_reads", None)
    if reads is not None:
        reads.wait(msecs)


def _window_reads(window) -> BackgroundReads:
    """One reader per window, not per dialog: a pool the dialog owned would hold the GUI thread, when the
    dialog is closed mid-search, until the search ended; the window's lets it end on its own."""
    reads = getattr(window, "duplicate_reads", None)
    if reads is None:
        reads = window.duplicate_reads = BackgroundReads(window)
    return reads


def duplicates_button(window) -> QToolButton:
    button = QToolButton()
    button.setText("Duplicates")
    button.setToolTip("Find copies and near-identical photos to clean up")
    button.clicked.connect(lambda: open_duplicates(window))
    return button
