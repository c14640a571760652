"""Image queries from outside the window: a drop, a paste, or the file dialog."""

from __future__ import annotations

import os

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from photosearch.ui.desktop_actions import caption_csv_from_mime
from photosearch.ui.drops import image_queries_from_mime, image_query_from_mime
from photosearch.ui.worker import ImageQuery

ADD_MODIFIERS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def accept_as_copy(event) -> bool:
    """Accept a drag or drop as Copy, else Link; never Move. The window only reads what is dropped, and a
    source told Move (a file manager; Qt proposes it for Shift, which adds to the query) deletes its file."""
    offered = event.possibleActions()
    for action in (Qt.DropAction.CopyAction, Qt.DropAction.LinkAction):
        if offered & action:
            event.setDropAction(action)
            event.accept()
            return True
    event.ignore()
    return False


class DropHandling:
    """A mixin of MainWindow: its drag-and-drop event handlers and paste."""

    def dragEnterEvent(self, event) -> None:
        mime = event.mimeData()
        if (image_query_from_mime(mime) is not None or caption_csv_from_mime(mime) is not None) and accept_as_copy(
            event
        ):
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
        if not accept_as_copy(event):
            return
        csv = caption_csv_from_mime(event.mimeData())
        if csv is not None:
            self.import_captions(csv)
        elif not self.handle_drop(event.mimeData(), add=bool(event.modifiers() & ADD_MODIFIERS)):
            event.ignore()

    def handle_drop(self, mime: QMimeData | None, add: bool = False) -> bool:
        """Several images query together; with `add` (Ctrl or Shift held) they join the image query on
        screen instead of replacing it."""
        queries = image_queries_from_mime(mime)
        if not queries:
            self._note("Drop an image file (or image data) to find similar photos", 5000)
            return False
        if add and self.search_bar.image_query is not None:
            for query in queries:
                self.search_bar.add_image(query)
        else:
            self.search_bar.set_images(queries)
        return True

    def paste_query(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        if not self.handle_drop(mime) and mime is not None and mime.hasText() and not self.search_bar.edit.hasFocus():
            self.search_bar.set_text(mime.text().strip())

    def choose_query_image(self) -> None:
        start = self.search_bar.last_folder or os.path.expanduser("~")
        path, _ = QFileDialog.getOpenFileName(
            self, "Search by image", start, "Images (*.jpg *.jpeg *.png *.webp *.bmp *.gif *.tif *.tiff *.heic *.heif)"
        )
        if path:
            self.set_image_query(ImageQuery(path=path, label=os.path.basename(path)))

