"""What the user does with photos, in the results grid and the browse timeline alike: keys and Ctrl+wheel,
selection, the context menu, the preview (with Left/Right through the view's photos), open, reveal, copy
and Find similar. Both views hold a model with result(row) and row_of(path); a month header's row has no
result."""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QListView, QMenu

from photosearch.ui.preview import PreviewDialog
from photosearch.ui.results_model import PathRole, paths_mime
from photosearch.ui.worker import ImageQuery


def connect_photo_view(window, view: QListView) -> None:
    """Give a photo view the window's preview, context menu, keys and Ctrl+wheel."""
    view.doubleClicked.connect(window.preview_index)
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    view.customContextMenuRequested.connect(lambda pos: window._grid_menu(pos, view))
    view.installEventFilter(window)
    view.viewport().installEventFilter(window)


class GridActions:
    """A mixin of MainWindow (plain Python)."""

    preview: PreviewDialog | None = None

    def _set_tile_size(self, size: int) -> None:
        self.grid.set_tile_size(size)
        self.settings.thumb_size = size
        if getattr(self, "timeline", None) is not None:  # built after the grid
            self.timeline.set_tile(size)
        if getattr(self, "work_area", None) is not None:  # built after the grid
            self.work_area.relayout()  # the photos' minimum and their two columns changed

    def photo_views(self) -> list[QListView]:
        timeline = getattr(self, "timeline", None)  # built after the grid, whose events may come first
        return [self.grid] if timeline is None else [self.grid, timeline.view]

    def active_view(self) -> QListView:
        """The photo view on screen: the timeline while browsing, the results grid otherwise."""
        return self.timeline.view if self.stack.currentWidget() is self.timeline else self.grid

    def _view_of(self, widget: QObject) -> QListView | None:
        for view in self.photo_views():
            if widget is view or widget is view.viewport() or widget is view.model():
                return view
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        view = self._view_of(watched)
        if view is None:
            return super().eventFilter(watched, event)
        is_wheel = watched is view.viewport() and event.type() == QEvent.Type.Wheel
        if is_wheel and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            step = 16 if event.angleDelta().y() > 0 else -16
            self.size_slider.setValue(self.size_slider.value() + step)
            return True
        if watched is view and event.type() == QEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
                self.preview_index(view.currentIndex())
                return True
            if event.matches(QKeySequence.StandardKey.Copy):
                self.copy_paths(self.selected_paths(view))
                return True
        return super().eventFilter(watched, event)

    def _focus_grid(self) -> None:
        view = self.active_view()
        if not view.model().rowCount():
            return
        view.setFocus()
        view.select_current()  # also when the focus event waits for the window to be active

    def focus_search(self) -> None:
        self.search_bar.edit.setFocus()
        self.search_bar.edit.selectAll()

    def selected_paths(self, view: QListView | None = None) -> list[str]:
        """The selected photos' paths in view order (of the view on screen unless one is named)."""
        view = view or self.active_view()
        model = view.model()
        rows = sorted(i.row() for i in view.selectionModel().selectedIndexes())
        return [p for p in (model.data(model.index(r), PathRole) for r in rows) if p]

    def _caption_selected(self, selected, _deselected) -> None:
        picked = selected.indexes()
        path = picked[0].data(PathRole) if picked else None
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

    def _grid_menu(self, pos, view: QListView | None = None) -> None:
        view = view or self.grid
        menu = self.grid_menu(view.indexAt(pos))
        if menu is not None:
            menu.exec(view.viewport().mapToGlobal(pos))

    def grid_menu(self, index) -> QMenu | None:
        """The context menu of a photo tile in either view (tests trigger its actions without showing it)."""
        path = index.data(PathRole) if index.isValid() else None
        if not path:
            return None
        view = self._view_of(index.model()) or self.grid
        paths = self.selected_paths(view) or [path]
        menu = QMenu(self)
        menu.addAction("Preview", lambda: self.preview_index(index))
        menu.addAction("Open", lambda: self.open_file(path))
        menu.addAction("Show in folder", lambda: self.reveal(path))
        menu.addAction("Copy path" if len(paths) == 1 else f"Copy {len(paths)} paths", lambda: self.copy_paths(paths))
        menu.addSeparator()
        if len(paths) > 1:
            menu.addAction(f"Find similar to these {len(paths)}", lambda: self.find_similar_to_all(paths))
        else:
            menu.addAction("Find similar", lambda: self.find_similar(path))
        # issue 11: refine the image query on screen with this photo, either way
        more = menu.addAction("More like this too", lambda: self.add_to_image_query(path))
        less = menu.addAction("Less like this", lambda: self.add_to_image_query(path, minus=True))
        for action in (more, less):
            action.setEnabled(self.search_bar.image_query is not None)
        return menu

    # -- actions --------------------------------------------------------------------------------------
    def open_preview(self, row: int) -> PreviewDialog | None:
        """Preview the results grid's photo at row."""
        return self.preview_index(self.results_model.index(row))

    def preview_index(self, index) -> PreviewDialog | None:
        """Preview the photo at a photo view's index (nothing for a month header)."""
        view = self._view_of(index.model()) if index.isValid() else None
        result = view.model().result(index.row()) if view is not None else None
        if result is None:
            return None
        return self.open_preview_path(result.path, view)

    def open_preview_path(self, path: str, view: QListView | None = None) -> PreviewDialog:
        """Preview a photo; Left/Right then step through `view`'s photos (the results grid's by default)."""
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
        self._preview_view = view or self.grid
        return dialog

    def _preview_step(self, step: int) -> None:
        """Left/Right in the preview: the previous/next photo of its view, selected there too."""
        dialog, view = self.preview, getattr(self, "_preview_view", None) or self.grid
        model = view.model()
        row = model.row_of(dialog.path) + step
        if model.result(row) is None:  # a month header between the two
            row += step
        result = model.result(row)
        if result is None:
            if step > 0 and model.canFetchMore(QModelIndex()):
                model.fetchMore(QModelIndex())  # the timeline's next page: Right again shows it
            return
        dialog.show_photo(result.path, self.ref.get().photo_details(result.path), self.thumbs.pixmap(result.path))
        index = model.index(row)
        view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        view.scrollTo(index)

    def open_file(self, path: str) -> None:
        self._open_url(path, "Could not open")  # the platform's viewer; never a shell

    def reveal(self, path: str) -> None:
        self._open_url(os.path.dirname(path), "Could not show the folder")

    def copy_paths(self, paths: list[str]) -> None:
        if not paths:
            return
        mime = paths_mime(paths)  # what a drag of these photos carries, from either view
        QGuiApplication.clipboard().setMimeData(mime)
        self._clipboard_mime = mime
        self._note("Copied " + (paths[0] if len(paths) == 1 else f"{len(paths)} paths"), 4000)

    def find_similar(self, path: str) -> None:
        self.set_image_query(ImageQuery(path=path, label=os.path.basename(path)))

    def find_similar_to_all(self, paths: list[str]) -> None:
        self.search_bar.set_images([ImageQuery(path=p, label=os.path.basename(p)) for p in paths])

    def add_to_image_query(self, path: str, minus: bool = False) -> bool:
        """A result joins the image query on screen: like it too, or (minus) less like it."""
        query = ImageQuery(path=path, label=os.path.basename(path))
        if not self.search_bar.add_image(query, minus=minus):
            self._note("Search by an image first; then a photo can be taken away from it", 5000)
            return False
        return True


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
                if path and not self.thumbs.settled(path):  # (a month header has none)
                    self.thumbs.pixmap(path)  # make sure it is on its way
                    return False
        return True

