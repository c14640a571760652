"""The search bar: a text field, an image-query chip, and the debounce that makes typing search.

Text and image queries take turns: typing replaces an image query (which is kept, and can be brought
back with the restore chip); choosing an image replaces the text query until its chip is cleared.
Esc clears both and keeps the image query restorable; ✕ on its chip ends it for good.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from photosearch.ui.worker import ImageQuery

DEBOUNCE_MS = 250
CHIP_LABEL_MAX = 180  # px: a long file name is elided in the middle (the whole name is in the tooltip)
CHIP_LABEL_MIN = 60  # px: what the name may shrink to in a narrow search box
EDIT_MIN_WIDTH = 100  # px: room to type beside a query image's chip


def magnifier_pixmap(size: int) -> QPixmap:
    """Drawn, not an emoji: emoji fonts are missing on many Linux desktops."""
    ratio = 2
    pixmap = QPixmap(size * ratio, size * ratio)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("#6b7280"), 1.8))
    radius = size * 0.3
    painter.drawEllipse(QPointF(size * 0.42, size * 0.42), radius, radius)
    painter.drawLine(QPointF(size * 0.64, size * 0.64), QPointF(size * 0.9, size * 0.9))
    painter.end()
    return pixmap


class ElidedLabel(QLabel):
    """One line that is never wider than max_width and elides in the middle to fit the width it gets, so a
    200-character file name neither widens the search box (and the window's minimum) nor crowds its text
    out. text() is what shows; full_text() the whole."""

    def __init__(self, max_width: int, min_width: int, parent=None) -> None:
        super().__init__(parent)
        self._full = ""
        self._max, self._min = max_width, min_width

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.updateGeometry()
        self._elide(min(self.width(), self._max) if self.isVisible() else self._max)

    def sizeHint(self) -> QSize:
        width = self.fontMetrics().horizontalAdvance(self._full) + 2 * self.margin() + 2
        return QSize(min(width, self._max), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(min(self.sizeHint().width(), self._min), super().minimumSizeHint().height())

    def _elide(self, width: int) -> None:
        super().setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, width))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide(self.contentsRect().width())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._elide(self.contentsRect().width())


class ImageChip(QFrame):
    """A small thumbnail and name of the query image, with a clear (or restore) button.

    One Tab stop: Delete or Backspace does what its ✕ does, Space or Enter what a click does (a restore
    chip brings its image query back). The ✕ itself is for the mouse.
    """

    clicked = Signal()
    cleared = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("imageChip")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(6)
        self.thumb = QLabel()
        self.thumb.setFixedSize(24, 24)
        self.label = ElidedLabel(CHIP_LABEL_MAX, CHIP_LABEL_MIN)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Clear the image query")
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_button.clicked.connect(self.cleared)
        layout.addWidget(self.thumb)
        layout.addWidget(self.label)
        layout.addWidget(self.close_button)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click leaves the focus where it was (the search box)

    def show_query(self, query: ImageQuery, restore: bool = False, role: str = "") -> None:
        """role: "" for the first query image, "more" for another one, "minus" for one taken away."""
        image = QImage()
        if query.path:
            image.load(query.path)
        elif query.data:
            image.loadFromData(query.data)
        if not image.isNull():
            small = image.scaled(QSize(24, 24), Qt.AspectRatioMode.KeepAspectRatioByExpanding)
            self.thumb.setPixmap(QPixmap.fromImage(small))  # GUI thread, one small image
        else:  # never the previous query's picture (HEIC, which Qt cannot decode, lands here too)
            self.thumb.clear()
            self.thumb.setText("?")
        name = query.label or "image"
        prefix = {"more": "+ ", "minus": "− "}.get(role, "")
        text = f"↺ {name}" if restore else prefix + name
        self.label.set_full_text(text)  # elided: a long name widened the search box and the window
        self.close_button.setVisible(not restore)
        self.close_button.setToolTip("Remove this image from the query" if role else "Clear the image query")
        tip = f"Less like this image: {name}" if role == "minus" else (query.path or f"pasted image: {name}")
        self.setToolTip(f"Search by {name} again" if restore else tip)
        self.setAccessibleName(text)
        keys = "Space searches by it again" if restore else "Delete removes it"
        self.setAccessibleDescription(f"Query image chip: {keys}")
        self.setProperty("restore", restore)
        self.setProperty("minus", role == "minus")
        self.style().unpolish(self)
        self.style().polish(self)
        self.show()

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.close_button.isVisibleTo(self):
            self.cleared.emit()
        elif event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.clicked.emit()
        else:
            super().keyPressEvent(event)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.hasFocus():  # drawn here: the ring shows with or without the app's stylesheet
            painter = QPainter(self)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor("#1d4ed8"), 2))
            painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 8, 8)
            painter.end()


class SearchBar(QFrame):
    """Emits `textSearch(text)` after typing pauses (or at once on Enter), `imageSearch(query)` for images."""

    textSearch = Signal(str)
    imageSearch = Signal(object)  # ImageQuery
    cleared = Signal()
    pasteRequested = Signal()  # Ctrl+V with an image on the clipboard (the window decides)
    moveToResults = Signal()
    # An image query starts afresh or ends: its Refine words go with it (the window clears them).
    imageQueryReset = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 4, 2)
        layout.setSpacing(6)
        icon = QLabel()
        icon.setPixmap(magnifier_pixmap(16))
        self.chip = ImageChip()
        self.chip.hide()
        self.edit = QLineEdit()
        self.edit.setObjectName("searchEdit")
        self.edit.setPlaceholderText("Describe a photo… (e.g. a cat on a sofa), or drop an image here")
        self.edit.setClearButtonEnabled(True)
        self.edit.setFrame(False)
        self.edit.setAcceptDrops(False)  # dropped files go to the window: they are image queries
        self.edit.setMinimumWidth(EDIT_MIN_WIDTH)  # a query image's chip gives way first (its name elides)
        # Chips of further query images and of images taken away: the window shows them in its refine row.
        self.extra_box = QWidget()
        self.extra_row = QHBoxLayout(self.extra_box)
        self.extra_row.setContentsMargins(0, 0, 0, 0)
        self.extra_row.setSpacing(4)
        layout.addWidget(icon)
        layout.addWidget(self.chip)
        layout.addWidget(self.edit, 1)

        self.image_query: ImageQuery | None = None
        self.last_image: ImageQuery | None = None  # what the restore chip brings back (None after ✕)
        self.last_folder = ""  # of the last image file queried: where "Search by image…" opens
        self.more_images: list[ImageQuery] = []  # issue 11: several images query together
        self.minus_images: list[ImageQuery] = []  # and images to take away
        self.extra_chips: list[ImageChip] = []
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit_text)
        self.edit.textEdited.connect(self._on_edited)
        self.edit.returnPressed.connect(self.search_now)
        self.chip.cleared.connect(self.clear_image)
        self.chip.clicked.connect(self._on_chip_clicked)
        self.edit.installEventFilter(self)
        self._least = 0  # the width set_minimum_width asks for
        self.chip.installEventFilter(self)  # its minimum counts while it shows (_fit_minimum)
        QWidget.setTabOrder(self.edit, self.chip)  # Tab from the box reaches the query's chips first

    # -- text -------------------------------------------------------------------------------------
    def _on_edited(self, text: str) -> None:
        if self.image_query is not None:
            self._park_image()  # typing takes over from the image; it can be restored from the chip
        self._debounce.start()

    def _emit_text(self) -> None:
        self._debounce.stop()
        text = self.edit.text().strip()
        if text:
            self.textSearch.emit(text)
        elif self.image_query is None:
            self.cleared.emit()

    def search_now(self) -> None:
        if self.image_query is not None and not self.edit.text().strip():
            self.imageSearch.emit(self.image_query)
        else:
            self._emit_text()

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str, search: bool = True) -> None:
        if self.image_query is not None:
            self._park_image()
        self.edit.setText(text)
        if search:
            self._emit_text()

    # -- image --------------------------------------------------------------------------------------
    def set_image(self, query: ImageQuery) -> None:
        """One image replaces the whole image query (more and minus images included)."""
        self.set_images([query])

    def set_images(self, queries: list[ImageQuery]) -> None:
        """Photos like all of these (several dropped at once, or Find similar on a selection)."""
        self.more_images, self.minus_images = list(queries[1:]), []
        self.imageQueryReset.emit()  # before the search: it reads the Refine row
        self._activate(queries[0])

    def add_image(self, query: ImageQuery, minus: bool = False) -> bool:
        """Add to the image query on screen ("more like this too" or "less like this"); without one, a
        plus image starts one and a minus image is refused (False)."""
        if self.image_query is None:
            if minus:
                return False
            self.set_image(query)
            return True
        (self.minus_images if minus else self.more_images).append(query)
        self._activate(self.image_query)
        return True

    def remove_image(self, role: str, index: int) -> None:
        """✕ on a further ("more") or taken-away ("minus") image's chip."""
        images = self.minus_images if role == "minus" else self.more_images
        if 0 <= index < len(images):
            had_focus = any(chip.hasFocus() for chip in self.extra_chips)
            del images[index]
            self._activate(self.image_query)
            if had_focus:  # its chip is gone: the keyboard goes on from the first image's chip
                self.chip.setFocus(Qt.FocusReason.OtherFocusReason)

    def _activate(self, query: ImageQuery) -> None:
        self._debounce.stop()
        self.image_query = query
        self.last_image = query
        if query.path:
            self.last_folder = os.path.dirname(query.path)
        self.edit.clear()
        self.edit.setPlaceholderText("Searching by image — type to search by text instead")
        self.chip.show_query(query)
        self._show_extra_chips(True)
        self.imageSearch.emit(query)

    def _show_extra_chips(self, visible: bool) -> None:
        for chip in self.extra_chips:
            self.extra_row.removeWidget(chip)
            chip.deleteLater()
        self.extra_chips = []
        if not visible:
            return
        before: QWidget = self.chip
        for role, images in (("more", self.more_images), ("minus", self.minus_images)):
            for i, image in enumerate(images):
                chip = ImageChip()
                chip.show_query(image, role=role)
                chip.cleared.connect(lambda r=role, n=i: self.remove_image(r, n))
                chip.setCursor(Qt.CursorShape.ArrowCursor)
                self.extra_row.addWidget(chip)
                self.extra_chips.append(chip)
                if chip.window() is before.window():  # after the first image's chip, wherever shown
                    QWidget.setTabOrder(before, chip)
                    before = chip

    def query_images(self) -> list[ImageQuery]:
        """Every image of the image query on screen, first one first (empty without one)."""
        return [self.image_query, *self.more_images] if self.image_query is not None else []

    def _park_image(self) -> None:
        self.image_query = None
        self._show_extra_chips(False)  # kept: the restore chip brings the whole image query back
        if self.last_image is not None:
            self.chip.show_query(self.last_image, restore=True)
        self.edit.setPlaceholderText("Describe a photo… (e.g. a cat on a sofa), or drop an image here")

    def clear_image(self) -> None:
        """✕ on the first image's chip: the next image takes its place, or the image query ends."""
        if self.more_images:
            self._activate(self.more_images.pop(0))
            return
        had_focus = self.chip.hasFocus()
        self.image_query = None
        self.last_image = None  # closed: Esc must not bring it back as a restore chip
        self.minus_images = []
        self.imageQueryReset.emit()
        self._show_extra_chips(False)
        self.chip.hide()
        if had_focus:  # closed from the keyboard: typing goes on in the box
            self.edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.edit.setPlaceholderText("Describe a photo… (e.g. a cat on a sofa), or drop an image here")
        self._emit_text()

    def _on_chip_clicked(self) -> None:
        if self.image_query is None and self.last_image is not None:
            self._activate(self.last_image)  # swap back to the last image query (its other images too)

    def clear(self) -> None:
        """Esc: forget the current query (text and image); the last image stays restorable."""
        self._debounce.stop()
        self.edit.clear()
        self.image_query = None
        self._show_extra_chips(False)
        if self.last_image is not None:
            self.chip.show_query(self.last_image, restore=True)
        else:
            self.chip.hide()
        self.cleared.emit()

    # -- keys ----------------------------------------------------------------------------------------
    def set_minimum_width(self, width: int) -> None:
        """At least width, and room for a query image's chip (its name elided to its least) beside
        EDIT_MIN_WIDTH of text: the chip never crowds the text out, and a long name adds nothing."""
        self._least = width
        self._fit_minimum()

    def _fit_minimum(self) -> None:
        self.layout().invalidate()  # the chip was just shown or hidden
        self.setMinimumWidth(max(self._least, self.layout().minimumSize().width()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.chip and event.type() in (QEvent.Type.ShowToParent, QEvent.Type.HideToParent):
            self._fit_minimum()
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            if event.matches(QKeySequence.StandardKey.Paste) and self._clipboard_has_image():
                self.pasteRequested.emit()
                return True
            if event.key() == Qt.Key.Key_Down:
                self.moveToResults.emit()
                return True
            if event.key() == Qt.Key.Key_Escape:
                self.clear()
                return True
        return super().eventFilter(watched, event)

    @staticmethod
    def _clipboard_has_image() -> bool:
        from PySide6.QtWidgets import QApplication

        mime = QApplication.clipboard().mimeData()
        return mime is not None and (mime.hasImage() or any(u.isLocalFile() for u in mime.urls()))
