"""The photo preview: a large view with details and actions; Left/Right step through the results.

Space closes it (like Quick Look), whatever button has focus. A photo smaller than the window is
shown at its actual size, and says so, rather than blown up into a blur.
"""

from __future__ import annotations

import datetime as dt
import os

from PySide6.QtCore import QEvent, QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from photosearch.ui.text_in_photos import show_text_in_photo, text_in_photo_label
from photosearch.ui.thumbnails import read_image

PREVIEW_SIDE = 1200
_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Left, Qt.Key.Key_Right)


def human_size(size: int | None) -> str:
    if not size:
        return "unknown size"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def human_date(taken: float | None) -> str:
    if not taken:
        return "date unknown"
    return dt.datetime.fromtimestamp(taken).strftime("%d %b %Y, %H:%M")


def photo_date(details: dict) -> str:
    """The date the grid files the photo under; a file's time is named as such (it may be a copy's)."""
    if details.get("taken") is not None:
        return human_date(details["taken"])
    date = details.get("date")
    if date is None and details.get("mtime_ns") is not None:
        date = details["mtime_ns"] / 1e9
    return f"{human_date(date)} (file time; no date taken)" if date else "date unknown"


class _ImageSignals(QObject):
    loaded = Signal(str, QImage)


class _LoadFull(QRunnable):
    """The full photo (scaled on decode) off the GUI thread: a 40 MP JPEG takes a noticeable while."""

    def __init__(self, path: str, signals: _ImageSignals) -> None:
        super().__init__()
        self._path, self._signals = path, signals

    def run(self) -> None:
        self._signals.loaded.emit(self._path, read_image(self._path, PREVIEW_SIDE))


class PreviewDialog(QDialog):
    openRequested = Signal(str)
    revealRequested = Signal(str)
    copyRequested = Signal(str)
    similarRequested = Signal(str)
    stepRequested = Signal(int)  # -1 previous result, +1 next

    def __init__(self, path: str, details: dict | None, thumb: QPixmap | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.resize(980, 760)
        layout = QVBoxLayout(self)
        self.image = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(400, 300)
        self.image.setStyleSheet("background: #111; border-radius: 6px;")
        layout.addWidget(self.image, 1)
        self.path_label = QLabel()
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setStyleSheet("font-weight: 600;")
        self.facts_label = QLabel()
        self.scale_label = QLabel()  # "Actual size" when the photo is smaller than the view
        self.scale_label.setStyleSheet("color: palette(placeholder-text);")
        self.captions_label = QLabel()
        self.captions_label.setWordWrap(True)
        self.captions_label.setTextFormat(Qt.TextFormat.PlainText)  # captions are user data, never markup
        self.text_label = text_in_photo_label(None)  # issue 12: words read from the photo (OCR)
        for label in (self.path_label, self.facts_label, self.scale_label, self.captions_label, self.text_label):
            layout.addWidget(label)

        buttons = QHBoxLayout()
        for text, signal in (
            ("Open", self.openRequested),
            ("Show in folder", self.revealRequested),
            ("Copy path", self.copyRequested),
            ("Find similar", self.similarRequested),
        ):
            button = QPushButton(text)
            button.setAutoDefault(False)  # Enter/Space on the dialog must not launch the external viewer
            button.clicked.connect(lambda _=False, s=signal: s.emit(self.path))
            button.installEventFilter(self)
            buttons.addWidget(button)
        self.similar_button = button
        self.similar_button.clicked.connect(self.accept)
        buttons.addStretch(1)
        close = QPushButton("Close")
        close.setAutoDefault(False)
        close.installEventFilter(self)
        close.clicked.connect(self.reject)
        buttons.addWidget(close)
        layout.addLayout(buttons)

        # No parent: the runnable keeps it alive, so closing the dialog first cannot delete it under the loader.
        self._signals = _ImageSignals()
        self._signals.loaded.connect(self._on_loaded)
        self.show_photo(path, details, thumb)

    def show_photo(self, path: str, details: dict | None, thumb: QPixmap | None) -> None:
        """Show another photo in this dialog (Left/Right)."""
        self.path = path
        self.setWindowTitle(os.path.basename(path))
        details = details or {}
        self._true_size = QSize(int(details.get("width") or 0), int(details.get("height") or 0))
        facts = [human_size(details.get("size")), photo_date(details)]
        if self._true_size.width() and self._true_size.height():
            facts.insert(0, f"{self._true_size.width()} × {self._true_size.height()}")
        self.path_label.setText(path)
        self.facts_label.setText("  ·  ".join(facts))
        captions = [c["text"] for c in details.get("captions", []) if c.get("source") != "ocr"]
        self.captions_label.setText("\n".join(f"“{c}”" for c in captions) if captions else "No captions")
        show_text_in_photo(self.text_label, details)
        self._pixmap = thumb
        self._show_pixmap()
        QThreadPool.globalInstance().start(_LoadFull(path, self._signals))

    def _on_loaded(self, path: str, image: QImage) -> None:
        if path == self.path and not image.isNull():
            self._pixmap = QPixmap.fromImage(image)
            self._show_pixmap()

    def shown_size(self) -> QSize:
        pixmap = self.image.pixmap()
        return pixmap.size() if pixmap is not None and not pixmap.isNull() else QSize()

    def _show_pixmap(self) -> None:
        if self._pixmap is None or self._pixmap.isNull():
            return
        true = self._true_size if self._true_size.width() and self._true_size.height() else self._pixmap.size()
        fit = true.scaled(self.image.size(), Qt.AspectRatioMode.KeepAspectRatio)
        small = fit.width() > true.width()  # fitting would enlarge it past 1:1
        target = true if small else fit
        self.scale_label.setText(f"Shown at actual size ({true.width()} × {true.height()}), not enlarged")
        self.scale_label.setVisible(small)
        self.image.setPixmap(
            self._pixmap.scaled(target, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        )

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._show_pixmap()

    def _handle_key(self, key: int) -> bool:
        if key == Qt.Key.Key_Space:  # Space toggles the preview, like Quick Look
            self.reject()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.stepRequested.emit(-1 if key == Qt.Key.Key_Left else 1)
        else:
            return False
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A focused button would take Space (click) and arrows (focus moves) before the dialog sees them.
        if event.type() == QEvent.Type.KeyPress and event.key() in _KEYS and self._handle_key(event.key()):
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event) -> None:
        if not self._handle_key(event.key()):
            super().keyPressEvent(event)
