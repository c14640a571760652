"""The main window: search bar, folder sidebar, ranked grid, caption panel and status bar."""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import QThread, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from photosearch.core.library import Library
from photosearch.ui.desktop_actions import DesktopActions
from photosearch.ui.drop_handling import DropHandling
from photosearch.ui.drops import image_query_from_mime, is_image_file
from photosearch.ui.duplicates_view import stop_duplicate_searches
from photosearch.ui.grid_actions import GridActions
from photosearch.ui.index_feedback import IndexFeedback
from photosearch.ui.model_control import ModelControl, pick_file
from photosearch.ui.query_dispatch import QueryDispatch
from photosearch.ui.results_model import CaptionModel, ResultsModel
from photosearch.ui.settings import Settings
from photosearch.ui.thumbnails import ThumbnailLoader
from photosearch.ui.watch_bridge import WatchBridge
from photosearch.ui.window_layout import build_shortcuts, build_ui
from photosearch.ui.worker import ImageQuery, IndexWorker, LibraryRef, SearchRunner, connect_job

__all__ = ["MainWindow", "image_query_from_mime", "is_image_file"]  # the drop helpers moved to drops.py


class MainWindow(QueryDispatch, DropHandling, GridActions, DesktopActions, IndexFeedback, QMainWindow):
    resultsShown = Signal(int)  # number of results now in the grid
    modelMessage = Signal(str)  # model download/load progress, from any thread
    _start = Signal()
    _index = Signal()
    _changes = Signal(list)
    _add = Signal(str)
    _remove = Signal(str)
    _import = Signal(str)

    def __init__(
        self,
        ref: LibraryRef,
        settings: Settings,
        make_library: Callable[..., Library],
        *,
        start_worker: bool = True,
        index_on_start: bool = True,
        watch: bool = True,
        interactive: bool = True,
    ) -> None:
        super().__init__()
        self.ref = ref
        self.settings = settings
        self.interactive = interactive  # False in screenshot mode and tests: no modal dialogs
        self.offline_forced = False  # started with --offline (build_window says so)
        self.watch_enabled = watch
        self.setWindowTitle("PhotoSearch")
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.last_error = ""
        self.last_switch_error = ""
        self.last_import = ""
        self.last_status: dict = {}
        self.folder_filter = ""  # results limited to this watched folder ("" = all)
        self._scroll_top = False  # a new query shows its best results first
        self._last_query_note = ""  # the status line's "Searching…" or "N photos for…": cleared with its query
        self._quiet_answer = -1  # the search of a refresh whose count must not replace other news
        self._text_query = ""
        self._image_query: ImageQuery | None = None
        self._indexed_count = 0
        self._folders: list[str] = []
        self.jobs_done = 0  # finished worker jobs (tests and screenshot mode wait on it)
        self.index_version = 0  # jobs done that may have changed what the timeline shows

        self.thumbs = ThumbnailLoader(lambda p, f: self.ref.get().thumbnail(p, f or None), parent=self)
        self.results_model = ResultsModel(self.thumbs, self)
        self.caption_model = CaptionModel(self.thumbs, self)
        self.searcher = SearchRunner(ref, self)
        self.searcher.resultsReady.connect(self._show_results)
        self.searcher.searchFailed.connect(self._on_search_failed)

        self._build_ui()
        self._build_shortcuts()
        self._build_worker(make_library, start_worker, index_on_start)
        self.bridge = WatchBridge(parent=self)
        self.bridge.changes.connect(self._changes)
        self.bridge.changes.connect(self._on_disk_changes)  # a bound slot: queued to the GUI thread
        self.bridge.error.connect(self._on_watch_error)
        self.modelMessage.connect(self._note)

    # -- construction -------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        build_ui(self)

    def _build_shortcuts(self) -> None:
        build_shortcuts(self)

    def _build_worker(self, make_library: Callable[..., Library], start: bool, index_on_start: bool) -> None:
        self.worker_thread = QThread(self)
        self.worker_thread.setObjectName("photosearch-index")
        self.worker = IndexWorker(self.ref, make_library)
        self.worker.moveToThread(self.worker_thread)
        # Destroyed on its own thread when that ends, never from the GUI thread's garbage collector.
        self.worker_thread.finished.connect(self.worker.deleteLater)
        worker = self.worker
        connect_job(self._start, worker.start_up if index_on_start else worker.start_quiet, worker)
        connect_job(self._index, worker.index_all, worker)
        connect_job(self._changes, worker.apply_changes, worker)
        connect_job(self._add, worker.add_folder, worker)
        connect_job(self._remove, worker.remove_folder, worker)
        connect_job(self._import, worker.import_captions, worker)
        self.worker.captionsImported.connect(self._on_captions_imported)
        self.worker.modelLoading.connect(self._note)
        self.worker.modelReady.connect(self._on_model_ready)
        self.worker.waitingForModel.connect(self.status_panel.show_waiting)
        self.models = ModelControl(self)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_job_finished)
        self.worker.busy.connect(self._on_busy)
        self.worker.failed.connect(self._on_failed)
        self.worker.statusChanged.connect(self._on_status)
        self.worker.foldersChanged.connect(self._on_folders)
        self.worker.libraryReplaced.connect(self._on_library_replaced)
        self.worker.read_text = self.settings.read_text
        self.worker_thread.start()
        if start:
            self._start.emit()

    # -- folders --------------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a folder of photos", os.path.expanduser("~"))
        if path:
            self.add_folder(path)

    def add_folder(self, path: str) -> None:
        self._note(f"Adding {path}…")
        self._add.emit(path)

    def _confirm_remove_folder(self, path: str) -> None:
        if self.interactive:
            answer = QMessageBox.question(
                self,
                "Remove folder",
                f"Stop watching {path}?\nYour files stay where they are; only the index forgets them.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.remove_folder(path)

    def remove_folder(self, path: str) -> None:
        self._note(f"Removing {path}…")
        self._remove.emit(path)

    @Slot(list)
    def _on_folders(self, folders: list) -> None:
        self._folders = [f.path for f in folders]
        self.sidebar.set_folders(folders)
        self.moved_notice.folders_changed({f.path for f in folders if not f.online})
        # The library is the truth; the settings file mirrors it (so the config dir alone says what we watch).
        if self.settings.folders != self._folders:
            self.settings.folders = list(self._folders)
            self._save_settings()
        if self.watch_enabled:
            self.bridge.watch(f.path for f in folders if f.online)
        self._update_page()

    # -- worker feedback --------------------------------------------------------------------------------
    def _note(self, message: str, timeout: int = 0) -> None:
        self.statusBar().showMessage(message, timeout)

    @Slot(list)
    def _on_disk_changes(self, paths: list) -> None:
        self._note(f"{len(paths)} change(s) on disk; updating the index…", 5000)

    @Slot(str)
    def _on_watch_error(self, message: str) -> None:
        self.last_error = message
        self._note(message)

    # -- settings -----------------------------------------------------------------------------------
    def open_settings(self) -> None:
        self.models.open_settings()

    def choose_model_file(self) -> None:
        self.models.choose_model_file()

    def pick_file(self, title: str, filters: str) -> str:
        """A file dialog (tests replace this method: no modal dialogs there)."""
        return pick_file(self, title, filters)

    def note(self, message: str, timeout: int = 0) -> None:
        self._note(message, timeout)

    def save_settings(self) -> None:
        self._save_settings()

    def _save_settings(self) -> None:
        try:
            self.settings.save()
        except OSError as exc:
            self._note(f"Cannot save settings: {exc}", 8000)

    # -- shutdown ----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        self.worker.request_cancel()
        self.worker.pause_event.clear()
        self.bridge.stop()
        self.worker_thread.quit()
        self.worker_thread.wait(30000)
        self.searcher.wait(5000)
        self.timeline.reads.wait(5000)  # a timeline page being read
        stop_duplicate_searches(self)  # a duplicates search (minutes on a large library) ends at its next step
        if getattr(self, "skipped_reads", None) is not None:
            self.skipped_reads.wait(5000)  # the skipped-files list being read
        self.thumbs.wait_idle(5000)
        self._release_clipboard()

    def _release_clipboard(self) -> None:
        """Hand copied paths to a clipboard object Qt made: PySide (6.10, 6.11) segfaults at exit when
        the clipboard still holds a QMimeData created from Python. The text survives; the URL list goes."""
        clipboard = QGuiApplication.clipboard()
        mime = getattr(self, "_clipboard_mime", None)
        if mime is not None and clipboard.mimeData() is mime:
            clipboard.setText(mime.text())
        self._clipboard_mime = None

    def closeEvent(self, event) -> None:
        self.settings.window_geometry = bytes(self.saveGeometry().toHex()).decode()
        self._save_settings()
        self.shutdown()
        super().closeEvent(event)


