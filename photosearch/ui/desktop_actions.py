"""What a desktop user expects beyond searching: caption import (menu or drop), a folder filter,
Select all, tile size steps, window geometry that fits the screen, and visible drop feedback.

A mixin of MainWindow (plain Python, no signals of its own), kept apart so the window stays small.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QMimeData, QModelIndex, QRect, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QWidget

CSV_FILTER = "Caption files (*.csv)"
DEFAULT_SIZE = (1280, 800)
SCREEN_SHARE = 0.9  # a new window takes at most this much of the available screen


def caption_csv_from_mime(mime: QMimeData | None) -> str | None:
    """The first local .csv file a drop carries, if any."""
    if mime is None:
        return None
    for url in mime.urls():
        path = url.toLocalFile() if url.isLocalFile() else ""
        if path.lower().endswith(".csv") and os.path.isfile(path):
            return path
    return None


def fitted(rect: QRect, available: QRect) -> QRect:
    """rect moved and shrunk so all of it lies on the available screen area."""
    width, height = min(rect.width(), available.width()), min(rect.height(), available.height())
    x = min(max(rect.x(), available.x()), available.right() + 1 - width)
    y = min(max(rect.y(), available.y()), available.bottom() + 1 - height)
    return QRect(x, y, width, height)


class DesktopActions:
    # -- caption import ------------------------------------------------------------------------------
    def choose_caption_file(self) -> None:
        path = self.pick_file("Import captions", CSV_FILTER)
        if path:
            self.import_captions(path)

    def import_captions(self, path: str) -> None:
        self.note(f"Importing captions from {os.path.basename(path)}…")
        self._import.emit(path)

    def _on_captions_imported(self, path: str, report: dict) -> None:
        parts = [f"Imported {report['imported']} captions from {os.path.basename(path)}"]
        if report.get("duplicates"):
            parts.append(f"{report['duplicates']} already there")
        if report.get("missing"):
            parts.append(f"{len(report['missing'])} rows name photos that are not there")
        if report.get("rejected"):
            parts.append(f"{len(report['rejected'])} rows could not be read")
        self.last_import = "; ".join(parts)
        self.note(self.last_import, 15000)
        self.refresh_query()

    # -- grid -------------------------------------------------------------------------------------------
    def select_all_results(self) -> None:
        """Every photo of the view on screen, results or timeline (month headers are not selectable); the
        timeline holds the pages read so far, so Select all takes those and says when more follow."""
        if self.stack.currentWidget() not in (self.grid, self.timeline):
            return  # the hint or the empty state: no photos to select
        view = self.active_view()
        view.selectAll()
        model = view.model()
        if view is not self.grid and (model.canFetchMore(QModelIndex()) or model.can_fetch_earlier()):
            self.note(f"Selected the {model.photo_count():,} photos loaded so far; scroll for more", 6000)

    def step_tile_size(self, step: int) -> None:
        self.size_slider.setValue(self.size_slider.value() + step)

    # -- folder filter -----------------------------------------------------------------------------------
    def show_all_folders(self) -> None:
        self.sidebar.set_filter("")

    def _on_folder_filter(self, path: str) -> None:
        self.folder_filter = path
        name = os.path.basename(path.rstrip(os.sep)) if path else ""
        self.filter_label.setText(f"Only {name}" if path else "")
        self.filter_label.setVisible(bool(path))
        self.filter_clear.setVisible(bool(path))
        self.refresh_query(news=True)
        self._update_page()

    def in_filter(self, path: str) -> bool:
        prefix = self.folder_filter.rstrip(os.sep) + os.sep
        return not self.folder_filter or path.startswith(prefix)

    def rescan_folder(self, path: str) -> None:
        self.note(f"Rescanning {path}…", 5000)
        self._changes.emit([path])

    def open_folder(self, path: str) -> None:
        self._open_url(path, "Could not open the folder")

    def _open_url(self, path: str, failure: str) -> bool:
        """The platform's handler for a file or folder; a failure is said in the window, not only a terminal."""
        if not os.path.exists(path):
            ok = False
            why = "it is no longer there"
        else:
            ok = QDesktopServices.openUrl(QUrl.fromLocalFile(path))
            why = "no application is set up to open it"
        if not ok:
            self.last_error = f"{failure} {path}: {why}"
            self.note(self.last_error, 10000)
        return ok

    # -- window geometry ---------------------------------------------------------------------------------
    def fit_to_screen(self) -> None:
        """Keep the whole window (gear and status bar included) on the screen it opens on, at any scale."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        available = screen.availableGeometry()
        frame = self.frameGeometry()
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
        width = min(self.width(), int(available.width() * SCREEN_SHARE) - extra_w)
        height = min(self.height(), int(available.height() * SCREEN_SHARE) - extra_h)
        self.resize(max(width, 200), max(height, 200))
        box = fitted(QRect(frame.topLeft(), self.frameGeometry().size()), available)
        self.move(box.topLeft())

    def restore_geometry(self) -> None:
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromHex(self.settings.window_geometry.encode()))
        self.fit_to_screen()  # a geometry saved on a bigger screen is clamped to this one

    # -- drop feedback -------------------------------------------------------------------------------------
    def set_drop_highlight(self, on: bool) -> None:
        central: QWidget = self.centralWidget()
        if bool(central.property("dropTarget")) == on:
            return
        central.setProperty("dropTarget", on)
        central.style().unpolish(central)
        central.style().polish(central)
        central.update()
