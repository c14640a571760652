"""The main window: search bar, folder sidebar, ranked grid, caption panel and status bar."""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QEvent,
    QIODevice,
    QItemSelectionModel,
    QMimeData,
    QObject,
    QSize,
    QStandardPaths,
    Qt,
    QThread,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QImage, QImageReader, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photosearch.core.library import Library
from photosearch.core.types import IndexSummary, Progress
from photosearch.ui.delegates import CaptionDelegate, TileDelegate
from photosearch.ui.dialogs import PreviewDialog, SettingsDialog, ask_for_checkpoint
from photosearch.ui.duplicates_view import duplicates_button
from photosearch.ui.results_model import CaptionModel, PathRole, ResultsModel
from photosearch.ui.search_bar import SearchBar
from photosearch.ui.settings import THUMB_MAX, THUMB_MIN, Settings
from photosearch.ui.thumbnails import ThumbnailLoader
from photosearch.ui.watch_bridge import WatchBridge
from photosearch.ui.worker import ImageQuery, IndexWorker, LibraryRef, SearchRunner

PAGE_EMPTY, PAGE_HINT, PAGE_RESULTS = 0, 1, 2
_EXTRA_IMAGE_SUFFIXES = {"heic", "heif"}  # decoded by the core (pillow-heif), not by Qt


def is_image_file(path: str) -> bool:
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    readable = {bytes(f).decode().lower() for f in QImageReader.supportedImageFormats()}
    return os.path.isfile(path) and (suffix in readable or suffix in _EXTRA_IMAGE_SUFFIXES or suffix == "jpg")


def image_query_from_mime(mime: QMimeData | None) -> ImageQuery | None:
    """A dropped/pasted image file (local URL) or raw image data; None for anything else."""
    if mime is None:
        return None
    for url in mime.urls():
        if url.isLocalFile() and is_image_file(url.toLocalFile()):
            path = url.toLocalFile()
            return ImageQuery(path=path, label=os.path.basename(path))
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            buffer = QBuffer()
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            image.save(buffer, "PNG")
            return ImageQuery(data=bytes(buffer.data()), label="pasted image")
    for fmt in mime.formats():
        if fmt.startswith("image/"):
            data = bytes(mime.data(fmt))
            if data:
                return ImageQuery(data=data, label="dropped image")
    return None


class _EmptyState(QWidget):
    """First run: invite adding a folder, offering the user's Pictures folder."""

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
        choose = QPushButton("Choose a folder…")
        choose.clicked.connect(self.chooseFolder)
        row.addWidget(self.pictures_button)
        row.addWidget(choose)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)


class MainWindow(QMainWindow):
    resultsShown = Signal(int)  # number of results now in the grid
    modelMessage = Signal(str)  # model download/load progress, from any thread
    _start = Signal()
    _index = Signal()
    _changes = Signal(list)
    _add = Signal(str)
    _remove = Signal(str)
    _switch = Signal(str, str, str)
    _reload = Signal(str, str, str)

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
        top = QFrame()
        top.setObjectName("topBar")
        top_layout = QHBoxLayout(top)
        top_layout.setContentsMargins(12, 10, 12, 10)
        top_layout.setSpacing(8)
        self.search_bar = SearchBar()
        self.search_bar.textSearch.connect(self.run_text_query)
        self.search_bar.imageSearch.connect(self.run_image_query)
        self.search_bar.cleared.connect(self._clear_results)
        self.search_bar.pasteRequested.connect(self.paste_query)
        self.search_bar.moveToResults.connect(self._focus_grid)
        self.image_button = QPushButton("Search by image…")
        self.image_button.setToolTip("Find photos that look like an image file (Ctrl+O)")
        self.image_button.clicked.connect(self.choose_query_image)
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(THUMB_MIN, THUMB_MAX)
        self.size_slider.setValue(self.settings.thumb_size)
        self.size_slider.setFixedWidth(120)
        self.size_slider.setToolTip("Thumbnail size (Ctrl+wheel over the grid)")
        self.size_slider.valueChanged.connect(self._set_tile_size)
        settings_button = QToolButton()
        settings_button.setText("⚙")
        settings_button.setToolTip("Settings")
        settings_button.clicked.connect(self.open_settings)
        top_layout.addWidget(self.search_bar, 1)
        top_layout.addWidget(self.image_button)
        top_layout.addWidget(QLabel("Size"))
        top_layout.addWidget(self.size_slider)
        top_layout.addWidget(duplicates_button(self))
        top_layout.addWidget(settings_button)

        # Sidebar: watched folders.
        sidebar = QFrame()
        sidebar.setObjectName("sidebar")
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(10, 10, 6, 10)
        heading = QLabel("FOLDERS")
        heading.setObjectName("sectionHeading")
        self.folder_list = QListWidget()
        self.folder_list.setObjectName("folderList")
        buttons = QHBoxLayout()
        add = QPushButton("Add…")
        add.clicked.connect(self.choose_folder)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove_selected_folder)
        buttons.addWidget(add)
        buttons.addWidget(self.remove_button)
        side.addWidget(heading)
        side.addWidget(self.folder_list, 1)
        side.addLayout(buttons)

        # Centre: empty state / hint / grid.
        self.grid = QListView()
        self.grid.setObjectName("grid")
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)  # one sizeHint for all: layout of 10k tiles stays instant
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)
        self.grid.setBatchSize(256)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.grid.verticalScrollBar().setSingleStep(24)
        self.grid.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.grid.setDragEnabled(True)
        self.grid.setMouseTracking(True)
        self.grid.setSpacing(2)
        self.tile_delegate = TileDelegate(self.settings.thumb_size, self.grid)
        self.grid.setItemDelegate(self.tile_delegate)
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
        self.empty_state = _EmptyState()
        self.empty_state.addFolder.connect(self.add_folder)
        self.empty_state.chooseFolder.connect(self.choose_folder)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_state)
        self.stack.addWidget(self.hint)
        self.stack.addWidget(self.grid)

        # Right: caption matches.
        captions_panel = QFrame()
        captions_panel.setObjectName("captionPanel")
        cap = QVBoxLayout(captions_panel)
        cap.setContentsMargins(6, 10, 10, 10)
        self.caption_heading = QLabel("CAPTION MATCHES")
        self.caption_heading.setObjectName("sectionHeading")
        self.caption_view = QListView()
        self.caption_view.setObjectName("captionList")
        self.caption_view.setWordWrap(True)
        self.caption_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.caption_view.setItemDelegate(CaptionDelegate(self.caption_view))
        self.caption_view.setModel(self.caption_model)
        self.caption_view.selectionModel().currentChanged.connect(self._caption_selected)
        self.caption_view.doubleClicked.connect(self._caption_activated)
        cap.addWidget(self.caption_heading)
        cap.addWidget(self.caption_view, 1)

        splitter = QSplitter()
        splitter.addWidget(sidebar)
        splitter.addWidget(self.stack)
        splitter.addWidget(captions_panel)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([220, 740, 320])
        splitter.setChildrenCollapsible(False)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(top)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

        # Status bar: progress + controls, device, count.
        bar = self.statusBar()
        self.progress = QProgressBar()
        self.progress.setFixedWidth(360)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.pause_button = QToolButton()
        self.pause_button.setText("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._toggle_pause)
        self.pause_button.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(self.cancel_indexing)
        self.cancel_button.hide()
        self.device_label = QLabel("model loading…")
        self.device_label.setObjectName("deviceLabel")
        self.count_label = QLabel("")
        for widget in (self.progress, self.pause_button, self.cancel_button, self.device_label, self.count_label):
            bar.addPermanentWidget(widget)
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
        self._switch.connect(self.worker.switch_model)
        self._reload.connect(self.worker.reload_with)
        self.worker.modelLoading.connect(self._note)
        self.worker.modelReady.connect(self._on_model_ready)
        self.worker.modelFailed.connect(self._on_model_failed)
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
    @Slot(str)
    def run_text_query(self, text: str) -> None:
        self._text_query, self._image_query = text, None
        self.searcher.submit(text=text, k=self.settings.results_per_page)
        self._note(f"Searching “{text}”…")

    @Slot(object)
    def run_image_query(self, query: ImageQuery) -> None:
        self._image_query, self._text_query = query, ""
        self.searcher.submit(image=query, k=self.settings.results_per_page)
        self._note(f"Searching photos like {query.label or 'the image'}…")

    def set_image_query(self, query: ImageQuery) -> None:
        """Show the chip and search (drop, paste, file dialog, Find similar all come here)."""
        self.search_bar.set_image(query)

    def refresh_query(self) -> None:
        """Re-run the current query (the index changed under it)."""
        if self._image_query is not None:
            self.searcher.submit(image=self._image_query, k=self.settings.results_per_page)
        elif self._text_query:
            self.searcher.submit(text=self._text_query, k=self.settings.results_per_page)

    def has_query(self) -> bool:
        return bool(self._text_query) or self._image_query is not None

    @Slot(list, list, float)
    def _show_results(self, results: list, captions: list, seconds: float) -> None:
        selected = self.selected_paths()
        self.results_model.set_results(results)
        self.caption_model.set_captions(captions)
        self.caption_heading.setText(f"CAPTION MATCHES ({len(captions)})" if captions else "CAPTION MATCHES")
        for path in selected:  # a refresh keeps what the user had picked
            row = self.results_model.row_of(path)
            if row >= 0:
                self.grid.selectionModel().select(
                    self.results_model.index(row), QItemSelectionModel.SelectionFlag.Select
                )
        if self.has_query():
            what = "image" if self._image_query is not None else f"“{self._text_query}”"
            self._note(f"{len(results)} photos for {what} in {seconds * 1000:.0f} ms", 8000)
        self._update_page()
        self.resultsShown.emit(len(results))

    def _clear_results(self) -> None:
        self._text_query, self._image_query = "", None
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
        if image_query_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        if self.handle_drop(event.mimeData()):
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
        self.tile_delegate.tile = size
        self.grid.setGridSize(self.tile_delegate.sizeHint(None, None) + QSize(4, 4))
        self.settings.thumb_size = size

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
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show() if not self.interactive else dialog.open()
        self.preview = dialog
        return dialog

    def open_file(self, path: str) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))  # the platform's viewer; never a shell

    def reveal(self, path: str) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))

    def copy_paths(self, paths: list[str]) -> None:
        if not paths:
            return
        mime = QMimeData()
        mime.setText("\n".join(paths))
        mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
        QGuiApplication.clipboard().setMimeData(mime)
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

    def _remove_selected_folder(self) -> None:
        item = self.folder_list.currentItem()
        if item is None:
            return
        path = item.data(Qt.ItemDataRole.UserRole)
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
        self.folder_list.clear()
        for folder in folders:
            name = os.path.basename(folder.path.rstrip(os.sep)) or folder.path
            state = f"{folder.photos:,} photos" if folder.online else "not connected"
            item = QListWidgetItem(f"{name}\n{state}")
            item.setData(Qt.ItemDataRole.UserRole, folder.path)
            item.setToolTip(folder.path)
            self.folder_list.addItem(item)
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

    def _on_model_ready(self, device: str, description: str) -> None:
        self.device_label.setText((device or "cpu").upper())
        self.device_label.setToolTip(description)
        self._note(f"Model ready: {description}", 5000)
        if self.has_query():
            self.refresh_query()

    def _on_model_failed(self, message: str) -> None:
        self.last_error = message
        self.device_label.setText("no model")
        self._note(f"Model not available: {message}")
        if not self.interactive:
            return
        path = ask_for_checkpoint(self, message)
        if path:
            spec = self.ref.get().spec
            self._reload.emit(spec.model, path, self.settings.device)

    def _on_progress(self, progress: Progress) -> None:
        if progress.phase == "scanning":
            self.progress.setRange(0, 0)
            self.progress.setFormat("Scanning folders…")
        else:
            total = max(progress.total, 1)
            self.progress.setRange(0, total)
            self.progress.setValue(min(progress.done, total))
            eta = ""
            if progress.eta_seconds is not None and progress.done < progress.total:
                minutes, seconds = divmod(int(progress.eta_seconds), 60)
                eta = f" · {minutes}:{seconds:02d} left"
            rate = f" · {progress.rate:.0f}/s" if progress.rate else ""
            verb = "Reading text in" if progress.phase == "reading text" else "Indexing"
            self.progress.setFormat(f"{verb} {progress.done:,} / {progress.total:,}{rate}{eta}")
        for widget in (self.progress, self.pause_button, self.cancel_button):
            widget.show()

    def _on_job_finished(self, job: str, summary: IndexSummary) -> None:
        self.jobs_done += 1
        for widget in (self.progress, self.pause_button, self.cancel_button):
            widget.hide()
        self.pause_button.setChecked(False)
        if summary.cancelled:
            self._note("Indexing cancelled; photos indexed so far stay searchable", 8000)
        elif job in ("index", "changes", "switch") and (summary.added or summary.updated or summary.removed):
            self._note(
                f"Index updated: {summary.added} added, {summary.updated} updated, {summary.removed} removed", 8000
            )
        self.refresh_query()

    def _on_busy(self, message: str) -> None:
        self._note(f"{message} (retrying shortly)")

    def _on_failed(self, message: str) -> None:
        self.last_error = message
        self._note(message, 15000)

    @Slot(list)
    def _on_disk_changes(self, paths: list) -> None:
        self._note(f"{len(paths)} change(s) on disk; updating the index…", 5000)

    @Slot(str)
    def _on_watch_error(self, message: str) -> None:
        self.last_error = message
        self._note(message)

    def _on_status(self, status: dict) -> None:
        photos = status.get("photos", {})
        self._indexed_count = int(photos.get("indexed", 0))
        text = f"{self._indexed_count:,} photos"
        pending = int(photos.get("pending", 0))
        if pending:
            text += f" · {pending:,} to index"
        self.count_label.setText(text)
        if status.get("device") and self.ref.get().model_loaded:
            self.device_label.setText(str(status["device"]).upper())
        self._update_page()

    def _on_library_replaced(self, model_id: str) -> None:
        self.thumbs.clear()
        self._note(f"Now searching with {model_id}", 8000)
        self.refresh_query()

    def _toggle_pause(self, paused: bool) -> None:
        if paused:
            self.worker.pause_event.set()  # read by the indexer between batches
        else:
            self.worker.pause_event.clear()
        self.pause_button.setText("Resume" if paused else "Pause")

    def cancel_indexing(self) -> None:
        self.worker.cancel_event.set()
        self.worker.pause_event.clear()

    # -- settings -----------------------------------------------------------------------------------
    def open_settings(self) -> None:
        spec = self.ref.get().spec
        dialog = SettingsDialog(self.settings, spec.model, spec.pretrained, self)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        self.settings.results_per_page = dialog.per_page.value()
        self.settings.offline = dialog.offline.isChecked()
        self.settings.read_text = self.worker.read_text = dialog.read_text.isChecked()
        self.size_slider.setValue(dialog.thumb.value())
        preset = dialog.chosen_preset()
        device = dialog.device.currentText()
        changed_model = preset is not None and (preset.model, preset.pretrained) != (spec.model, spec.pretrained)
        if changed_model or device != self.settings.device:
            model = preset.model if preset else spec.model
            pretrained = preset.pretrained if preset else spec.pretrained
            self.settings.model, self.settings.pretrained, self.settings.device = model, pretrained, device
            self._note(f"Switching to {model} ({pretrained}); current results stay available meanwhile")
            self._switch.emit(model, pretrained, device)
        self._save_settings()
        self.refresh_query()

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

    def closeEvent(self, event) -> None:
        self.settings.window_geometry = bytes(self.saveGeometry().toHex()).decode()
        self._save_settings()
        self.shutdown()
        super().closeEvent(event)

    def restore_geometry(self) -> None:
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromHex(self.settings.window_geometry.encode()))
