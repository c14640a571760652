"""The main window: search bar, folder sidebar, ranked grid, caption panel and status bar."""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QMimeData,
    QObject,
    Qt,
    QThread,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from photosearch.core.library import Library
from photosearch.ui.caption_panel import CaptionPanel
from photosearch.ui.desktop_actions import DesktopActions, caption_csv_from_mime
from photosearch.ui.drops import image_query_from_mime, is_image_file
from photosearch.ui.duplicates_view import duplicates_button
from photosearch.ui.empty_state import EmptyState
from photosearch.ui.grid import ResultsGrid
from photosearch.ui.index_feedback import IndexFeedback
from photosearch.ui.menus import build_menus
from photosearch.ui.model_control import ModelControl, pick_file
from photosearch.ui.preview import PreviewDialog
from photosearch.ui.results_model import CaptionModel, PathRole, ResultsModel
from photosearch.ui.search_options import FilterChips, SearchOptions, WeightControl
from photosearch.ui.settings import Settings
from photosearch.ui.sidebar import FolderSidebar
from photosearch.ui.status_panel import StatusPanel
from photosearch.ui.thumbnails import ThumbnailLoader
from photosearch.ui.timeline import TimelinePanel
from photosearch.ui.top_bar import TopBar
from photosearch.ui.watch_bridge import WatchBridge
from photosearch.ui.worker import ImageQuery, IndexWorker, LibraryRef, SearchRunner

PAGE_EMPTY, PAGE_HINT, PAGE_RESULTS, PAGE_TIMELINE = 0, 1, 2, 3
__all__ = ["MainWindow", "image_query_from_mime", "is_image_file"]  # the drop helpers moved to drops.py


class MainWindow(DesktopActions, IndexFeedback, QMainWindow):
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
        self._text_query = ""
        self._image_query: ImageQuery | None = None
        self._indexed_count = 0
        self._folders: list[str] = []
        self.jobs_done = 0  # finished worker jobs (tests and screenshot mode wait on it)

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
        top = TopBar(self.settings.thumb_size)
        self.top_bar = top
        self.search_bar, self.image_button, self.size_slider = top.search_bar, top.image_button, top.size_slider
        self.search_bar.textSearch.connect(self.run_text_query)
        self.search_bar.imageSearch.connect(self.run_image_query)
        self.search_bar.cleared.connect(self._clear_results)
        self.search_bar.pasteRequested.connect(self.paste_query)
        self.search_bar.moveToResults.connect(self._focus_grid)
        self.image_button.clicked.connect(self.choose_query_image)
        self.size_slider.valueChanged.connect(self._set_tile_size)
        top.settings_button.clicked.connect(lambda: self.open_settings())
        # issue 11: filter chips, and words + weight for image queries (shown while one is on)
        self.filter_chips = FilterChips()
        self.filter_chips.changed.connect(self._on_options_changed)
        self.weight_control = WeightControl()
        self.weight_control.changed.connect(self._on_options_changed)
        self.weight_control.hide()
        top.layout().insertWidget(1, self.weight_control)
        top.layout().insertWidget(2, self.filter_chips)
        top.layout().insertWidget(top.layout().indexOf(top.settings_button), duplicates_button(self))

        # Sidebar: watched folders.
        sidebar = FolderSidebar()
        sidebar.addRequested.connect(self.choose_folder)
        sidebar.removeRequested.connect(self._confirm_remove_folder)
        sidebar.filterChanged.connect(self._on_folder_filter)
        sidebar.rescanRequested.connect(self.rescan_folder)
        sidebar.revealRequested.connect(self.open_folder)
        self.sidebar = sidebar
        self.folder_list, self.remove_button = sidebar.folder_list, sidebar.remove_button

        # Centre: empty state / hint / grid.
        self.grid = ResultsGrid(self.settings.thumb_size)
        self.tile_delegate = self.grid.tile_delegate
        self.grid.setModel(self.results_model)
        self.grid.doubleClicked.connect(lambda index: self.open_preview(index.row()))
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self._grid_menu)
        self.grid.installEventFilter(self)
        self.grid.viewport().installEventFilter(self)
        self._set_tile_size(self.settings.thumb_size)

        self.hint = QLabel()
        self.hint.setObjectName("hint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.empty_state = EmptyState()
        self.empty_state.addFolder.connect(self.add_folder)
        self.empty_state.chooseFolder.connect(self.choose_folder)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_state)
        self.stack.addWidget(self.hint)
        self.stack.addWidget(self.grid)
        self.timeline = TimelinePanel(self.thumbs, self.settings.thumb_size)  # issue 11: browse with no query
        self.timeline.activated.connect(lambda result: self.open_preview_path(result.path))
        self.stack.addWidget(self.timeline)

        # Right: caption matches.
        captions_panel = CaptionPanel(self.caption_model)
        self.caption_panel = captions_panel
        self.caption_heading, self.caption_view = captions_panel.heading, captions_panel.view
        self.caption_view.selectionModel().currentChanged.connect(self._caption_selected)
        self.caption_view.doubleClicked.connect(self._caption_activated)

        splitter = QSplitter()
        splitter.addWidget(sidebar)
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(0)
        filter_row = QHBoxLayout()
        filter_row.setContentsMargins(10, 4, 10, 0)
        self.filter_label = QLabel()
        self.filter_label.setObjectName("filterLabel")
        self.filter_clear = QPushButton("Show all folders")
        self.filter_clear.clicked.connect(self.show_all_folders)
        filter_row.addWidget(self.filter_label)
        filter_row.addWidget(self.filter_clear)
        filter_row.addStretch(1)
        self.filter_label.hide()
        self.filter_clear.hide()
        centre_layout.addLayout(filter_row)
        centre_layout.addWidget(self.stack, 1)
        splitter.addWidget(centre)
        splitter.addWidget(captions_panel)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([220, 740, 320])
        splitter.setChildrenCollapsible(False)

        central = QWidget()
        central.setObjectName("central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(top)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

        # Status bar: progress + controls, device, count.
        self.status_panel = StatusPanel(self.statusBar())
        self.status_panel.pauseToggled.connect(self._toggle_pause)
        self.status_panel.cancelRequested.connect(self.cancel_indexing)
        self.progress, self.pause_button = self.status_panel.progress, self.status_panel.pause_button
        self.cancel_button = self.status_panel.cancel_button
        self.device_label, self.count_label = self.status_panel.device_label, self.status_panel.count_label
        self.status_panel.resumeRequested.connect(self._index)
        self.menu_actions = build_menus(self)
        self._update_page()

    def _build_shortcuts(self) -> None:
        QShortcut(QKeySequence.StandardKey.Find, self, self.focus_search)
        QShortcut(QKeySequence.StandardKey.Open, self, self.choose_query_image)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.clear_query)
        paste = QShortcut(QKeySequence.StandardKey.Paste, self, self.paste_query)
        paste.setContext(Qt.ShortcutContext.WindowShortcut)
        refresh = QAction("Re-index", self)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self._index)
        self.addAction(refresh)

    def _build_worker(self, make_library: Callable[..., Library], start: bool, index_on_start: bool) -> None:
        self.worker_thread = QThread(self)
        self.worker_thread.setObjectName("photosearch-index")
        self.worker = IndexWorker(self.ref, make_library)
        self.worker.moveToThread(self.worker_thread)
        # Destroyed on its own thread when that ends, never from the GUI thread's garbage collector.
        self.worker_thread.finished.connect(self.worker.deleteLater)
        self._start.connect(self.worker.start_up if index_on_start else self.worker.start_quiet)
        self._index.connect(self.worker.index_all)
        self._changes.connect(self.worker.apply_changes)
        self._add.connect(self.worker.add_folder)
        self._remove.connect(self.worker.remove_folder)
        self._import.connect(self.worker.import_captions)
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

    # -- queries ------------------------------------------------------------------------------------
    def search_options(self) -> SearchOptions:
        """The chips' filters, plus the words and weight of an image query (issue 11)."""
        options = self.filter_chips.options()
        folder = options.folder or self.folder_filter  # a sidebar click limits the search in the core too
        return SearchOptions(
            **{**options.__dict__, "folder": folder, "plus": self.weight_control.plus(),
               "weight": self.weight_control.weight()}
        )

    def _on_options_changed(self) -> None:
        self.timeline.loaded_key = None  # filters changed: the timeline reloads when shown
        if self.has_query():
            self.refresh_query()
        else:
            self._update_page()

    def _load_timeline(self) -> None:
        options = self.search_options()
        library = self.ref.get()
        # Rebuilt when the filters change or a job finishes, not on every batch (it would jump to the top).
        key = (id(library), self.jobs_done, options.after, options.before, options.folder)
        if self.timeline.loaded_key == key:
            return
        try:
            filters = options.filters()
            fetch = lambda offset, k: self.ref.get().browse(k, offset, filters=filters)  # noqa: E731
            self.timeline.load(fetch, lambda: library.months(filters), key)
        except Exception as exc:  # a library going away mid-switch: say so, keep the window
            self._note(f"cannot browse: {exc}", 8000)

    @Slot(str)
    def run_text_query(self, text: str) -> None:
        self._text_query, self._image_query = text, None
        self._scroll_top = True
        self.weight_control.hide()
        self.searcher.submit(text=text, k=self._k(), options=self.search_options())
        self._note(f"Searching “{text}”…")

    @Slot(object)
    def run_image_query(self, query: ImageQuery) -> None:
        self._image_query, self._text_query = query, ""
        self._scroll_top = True
        self.weight_control.show()
        self.searcher.submit(image=query, k=self._k(), options=self.search_options())
        self._note(f"Searching photos like {query.label or 'the image'}…")

    def set_image_query(self, query: ImageQuery) -> None:
        """Show the chip and search (drop, paste, file dialog, Find similar all come here)."""
        self.search_bar.set_image(query)

    def refresh_query(self) -> None:
        """Re-run the current query (the index changed under it)."""
        options = self.search_options()
        if self._image_query is not None:
            self.searcher.submit(image=self._image_query, k=self._k(), options=options)
        elif self._text_query:
            self.searcher.submit(text=self._text_query, k=self._k(), options=options)

    def _k(self) -> int:
        # Limited to one folder, ask for more so the folder still fills a page.
        per_page = self.settings.results_per_page
        return per_page * 5 if self.folder_filter else per_page

    def has_query(self) -> bool:
        return bool(self._text_query) or self._image_query is not None

    @Slot(list, list, float)
    def _show_results(self, results: list, captions: list, seconds: float) -> None:
        selected = self.selected_paths()
        if self.folder_filter:
            results = [r for r in results if self.in_filter(r.path)][: self.settings.results_per_page]
            captions = [c for c in captions if self.in_filter(c.path)]
        self.results_model.set_results(results)
        self.caption_model.set_captions(captions)
        if self._scroll_top:
            self._scroll_top = False
            self.grid.scrollToTop()
        self.caption_panel.set_count(len(captions))
        for path in selected:  # a refresh keeps what the user had picked
            row = self.results_model.row_of(path)
            if row >= 0:
                self.grid.selectionModel().select(
                    self.results_model.index(row), QItemSelectionModel.SelectionFlag.Select
                )
        if self.has_query() and not self.searcher.failed:  # a failure's message stays up
            what = "image" if self._image_query is not None else f"“{self._text_query}”"
            where = f" in {os.path.basename(self.folder_filter.rstrip(os.sep))}" if self.folder_filter else ""
            self._note(f"{len(results)} photos for {what}{where} in {seconds * 1000:.0f} ms", 8000)
        self._update_page()
        self.resultsShown.emit(len(results))

    def _clear_results(self) -> None:
        self._text_query, self._image_query = "", None
        self.weight_control.hide()
        self.searcher.latest += 1  # drop any answer still on its way
        self.results_model.set_results([])
        self.caption_model.set_captions([])
        self._update_page()

    def clear_query(self) -> None:
        self.search_bar.clear()

    def _on_search_failed(self, message: str) -> None:
        self.last_error = message
        self._note(message, 10000)

    def _update_page(self) -> None:
        if not self._folders:
            self.stack.setCurrentIndex(PAGE_EMPTY)
        elif self.results_model.rowCount() > 0:
            self.stack.setCurrentIndex(PAGE_RESULTS)
        elif not self.has_query() and self._indexed_count:  # issue 11: an empty box browses the timeline
            self._load_timeline()
            self.stack.setCurrentIndex(PAGE_TIMELINE)
        else:
            count = f"{self._indexed_count:,} photos" if self._indexed_count else "your photos"
            if self.has_query() and self.searcher.idle:
                self.hint.setText("No matches yet.\nTry other words, or drop a photo to find similar ones.")
            else:
                self.hint.setText(
                    f"Search {count} by describing them\n“dog on a beach”, “receipts”, “red car -toy”\n\n"
                    "or drop a photo anywhere to find similar ones"
                )
            self.stack.setCurrentIndex(PAGE_HINT)

    # -- image queries: drop, paste, dialog -----------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        mime = event.mimeData()
        if image_query_from_mime(mime) is not None or caption_csv_from_mime(mime) is not None:
            event.acceptProposedAction()
            self.set_drop_highlight(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dragLeaveEvent(self, event) -> None:
        self.set_drop_highlight(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event) -> None:
        self.set_drop_highlight(False)
        csv = caption_csv_from_mime(event.mimeData())
        if csv is not None:
            self.import_captions(csv)
            event.acceptProposedAction()
        elif self.handle_drop(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def handle_drop(self, mime: QMimeData | None) -> bool:
        query = image_query_from_mime(mime)
        if query is None:
            self._note("Drop an image file (or image data) to find similar photos", 5000)
            return False
        self.set_image_query(query)
        return True

    def paste_query(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        if not self.handle_drop(mime) and mime is not None and mime.hasText() and not self.search_bar.edit.hasFocus():
            self.search_bar.set_text(mime.text().strip())

    def choose_query_image(self) -> None:
        start = (
            os.path.dirname(self.search_bar.last_image.path)
            if self.search_bar.last_image and self.search_bar.last_image.path
            else os.path.expanduser("~")
        )
        path, _ = QFileDialog.getOpenFileName(
            self, "Search by image", start, "Images (*.jpg *.jpeg *.png *.webp *.bmp *.gif *.tif *.tiff *.heic *.heif)"
        )
        if path:
            self.set_image_query(ImageQuery(path=path, label=os.path.basename(path)))

    # -- grid and captions ---------------------------------------------------------------------------
    def _set_tile_size(self, size: int) -> None:
        self.grid.set_tile_size(size)
        self.settings.thumb_size = size
        if getattr(self, "timeline", None) is not None:  # built after the grid
            self.timeline.set_tile(size)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        is_wheel = watched is self.grid.viewport() and event.type() == QEvent.Type.Wheel
        if is_wheel and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            step = 16 if event.angleDelta().y() > 0 else -16
            self.size_slider.setValue(self.size_slider.value() + step)
            return True
        if watched is self.grid and event.type() == QEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
                self.open_preview(self.grid.currentIndex().row())
                return True
            if event.matches(QKeySequence.StandardKey.Copy):
                self.copy_paths(self.selected_paths())
                return True
        return super().eventFilter(watched, event)

    def _focus_grid(self) -> None:
        if self.results_model.rowCount():
            self.grid.setFocus()
            if not self.grid.currentIndex().isValid():
                self.grid.setCurrentIndex(self.results_model.index(0))

    def focus_search(self) -> None:
        self.search_bar.edit.setFocus()
        self.search_bar.edit.selectAll()

    def selected_paths(self) -> list[str]:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        return [p for p in (self.results_model.data(self.results_model.index(r), PathRole) for r in rows) if p]

    def _caption_selected(self, current, _previous) -> None:
        path = current.data(PathRole) if current.isValid() else None
        if not path:
            return
        row = self.results_model.row_of(path)
        if row < 0:
            self._note("That photo is not among the image results; double-click the caption to preview it", 5000)
            return
        index = self.results_model.index(row)
        self.grid.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.grid.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    def _caption_activated(self, index) -> None:
        path = index.data(PathRole)
        if path:
            self.open_preview_path(path)

    def _grid_menu(self, pos) -> None:
        index = self.grid.indexAt(pos)
        if not index.isValid():
            return
        path = index.data(PathRole)
        paths = self.selected_paths() or [path]
        menu = QMenu(self)
        menu.addAction("Preview", lambda: self.open_preview(index.row()))
        menu.addAction("Open", lambda: self.open_file(path))
        menu.addAction("Show in folder", lambda: self.reveal(path))
        menu.addAction("Copy path" if len(paths) == 1 else f"Copy {len(paths)} paths", lambda: self.copy_paths(paths))
        menu.addSeparator()
        menu.addAction("Find similar", lambda: self.find_similar(path))
        menu.exec(self.grid.viewport().mapToGlobal(pos))

    # -- actions --------------------------------------------------------------------------------------
    def open_preview(self, row: int) -> PreviewDialog | None:
        result = self.results_model.result(row)
        return self.open_preview_path(result.path) if result else None

    def open_preview_path(self, path: str) -> PreviewDialog:
        details = self.ref.get().photo_details(path)  # one indexed row: a few ms at most
        dialog = PreviewDialog(path, details, self.thumbs.pixmap(path), self)
        dialog.openRequested.connect(self.open_file)
        dialog.revealRequested.connect(self.reveal)
        dialog.copyRequested.connect(lambda p: self.copy_paths([p]))
        dialog.similarRequested.connect(self.find_similar)
        dialog.stepRequested.connect(self._preview_step)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show() if not self.interactive else dialog.open()
        self.preview = dialog
        return dialog

    def _preview_step(self, step: int) -> None:
        """Left/Right in the preview: the previous/next result, selected in the grid too."""
        dialog = self.preview
        row = self.results_model.row_of(dialog.path) + step
        result = self.results_model.result(row)
        if result is None:
            return
        dialog.show_photo(result.path, self.ref.get().photo_details(result.path), self.thumbs.pixmap(result.path))
        index = self.results_model.index(row)
        self.grid.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def open_file(self, path: str) -> None:
        self._open_url(path, "Could not open")  # the platform's viewer; never a shell

    def reveal(self, path: str) -> None:
        self._open_url(os.path.dirname(path), "Could not show the folder")

    def copy_paths(self, paths: list[str]) -> None:
        if not paths:
            return
        mime = QMimeData()
        mime.setText("\n".join(paths))
        mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
        QGuiApplication.clipboard().setMimeData(mime)
        self._clipboard_mime = mime
        self._note("Copied " + (paths[0] if len(paths) == 1 else f"{len(paths)} paths"), 4000)

    def find_similar(self, path: str) -> None:
        self.set_image_query(ImageQuery(path=path, label=os.path.basename(path)))

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
        self._remove.emit(path)

    @Slot(list)
    def _on_folders(self, folders: list) -> None:
        self._folders = [f.path for f in folders]
        self.sidebar.set_folders(folders)
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

    # -- state for tests and screenshot mode ----------------------------------------------------------
    def thumbnails_settled(self) -> bool:
        """Every tile on screen (grid and captions) shows its picture or its 'no preview' mark."""
        for view, model in ((self.grid, self.results_model), (self.caption_view, self.caption_model)):
            rect = view.viewport().rect()
            for row in range(model.rowCount()):
                index = model.index(row)
                if not view.visualRect(index).intersects(rect):
                    continue
                path = index.data(PathRole)
                if not self.thumbs.settled(path):
                    self.thumbs.pixmap(path)  # make sure it is on its way
                    return False
        return True

    # -- shutdown ----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        self.worker.cancel_event.set()
        self.worker.pause_event.clear()
        self.bridge.stop()
        self.worker_thread.quit()
        self.worker_thread.wait(30000)
        self.searcher.wait(5000)
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


