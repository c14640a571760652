"""Dialogs: photo preview, settings, and the 'model weights are missing' question."""

from __future__ import annotations

import datetime as dt
import os

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from photosearch.ui.settings import DEVICES, PRESETS, THUMB_MAX, THUMB_MIN, Settings, preset_for
from photosearch.ui.text_in_photos import text_in_photo_label
from photosearch.ui.thumbnails import read_image

PREVIEW_SIDE = 1200


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
    """A large view of one photo with its details and actions."""

    openRequested = Signal(str)
    revealRequested = Signal(str)
    copyRequested = Signal(str)
    similarRequested = Signal(str)

    def __init__(self, path: str, details: dict | None, thumb: QPixmap | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.setWindowTitle(os.path.basename(path))
        self.resize(980, 760)
        layout = QVBoxLayout(self)
        self.image = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(400, 300)
        self.image.setStyleSheet("background: #111; border-radius: 6px;")
        self._pixmap = thumb
        layout.addWidget(self.image, 1)

        details = details or {}
        width, height = details.get("width"), details.get("height")
        facts = [human_size(details.get("size")), human_date(details.get("taken"))]
        if width and height:
            facts.insert(0, f"{width} × {height}")
        self.path_label = QLabel(path)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setStyleSheet("font-weight: 600;")
        self.facts_label = QLabel("  ·  ".join(facts))
        captions = [c["text"] for c in details.get("captions", []) if c.get("source") != "ocr"]
        self.captions_label = QLabel("\n".join(f"“{c}”" for c in captions) if captions else "No captions")
        self.captions_label.setWordWrap(True)
        self.captions_label.setTextFormat(Qt.TextFormat.PlainText)  # captions are user data, never markup
        self.text_label = text_in_photo_label(details)
        for label in (self.path_label, self.facts_label, self.captions_label, self.text_label):
            layout.addWidget(label)

        buttons = QHBoxLayout()
        for text, signal in (
            ("Open", self.openRequested),
            ("Show in folder", self.revealRequested),
            ("Copy path", self.copyRequested),
            ("Find similar", self.similarRequested),
        ):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, s=signal: s.emit(self.path))
            buttons.addWidget(button)
        self.similar_button = button
        self.similar_button.clicked.connect(self.accept)
        buttons.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons.addWidget(close)
        layout.addLayout(buttons)

        # No parent: the runnable keeps it alive, so closing the dialog first cannot delete it under the loader.
        self._signals = _ImageSignals()
        self._signals.loaded.connect(self._on_loaded)
        QThreadPool.globalInstance().start(_LoadFull(path, self._signals))
        self._show_pixmap()

    def _on_loaded(self, path: str, image: QImage) -> None:
        if path == self.path and not image.isNull():
            self._pixmap = QPixmap.fromImage(image)
            self._show_pixmap()

    def _show_pixmap(self) -> None:
        if self._pixmap is not None and not self._pixmap.isNull():
            self.image.setPixmap(
                self._pixmap.scaled(
                    self.image.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            )

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._show_pixmap()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space:  # Space toggles the preview, like Quick Look
            self.reject()
            return
        super().keyPressEvent(event)


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, current_model: str, current_pretrained: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        self.preset = QComboBox()
        current = preset_for(current_model, current_pretrained)
        if current is None:
            self.preset.addItem(f"Current: {current_model} / {current_pretrained}", None)
        for preset in PRESETS:
            self.preset.addItem(f"{preset.label} — {preset.note}", preset)
        if current is not None:
            self.preset.setCurrentIndex(PRESETS.index(current))
        self.device = QComboBox()
        self.device.addItems(list(DEVICES))
        self.device.setCurrentText(settings.device)
        self.thumb = QSpinBox()
        self.thumb.setRange(THUMB_MIN, THUMB_MAX)
        self.thumb.setSingleStep(20)
        self.thumb.setSuffix(" px")
        self.thumb.setValue(settings.thumb_size)
        self.per_page = QSpinBox()
        self.per_page.setRange(10, 5000)
        self.per_page.setSingleStep(50)
        self.per_page.setValue(settings.results_per_page)
        self.offline = QCheckBox("Work offline: never download model weights")
        self.offline.setChecked(settings.offline)
        self.read_text = QCheckBox("Read the text in photos (signs, menus, screenshots) so it can be searched")
        self.read_text.setChecked(settings.read_text)
        form.addRow("Model", self.preset)
        note = QLabel("Changing the model re-indexes in the background; searches keep working meanwhile.")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        form.addRow("", note)
        form.addRow("Device", self.device)
        form.addRow("Thumbnail size", self.thumb)
        form.addRow("Results per search", self.per_page)
        form.addRow("Network", self.offline)
        form.addRow("Text in photos", self.read_text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def chosen_preset(self):
        return self.preset.currentData()


def ask_for_checkpoint(parent: QWidget | None, reason: str) -> str | None:
    """Explain that the weights are missing; let the user point at a local checkpoint file."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Model weights not available")
    box.setText("PhotoSearch cannot load its model, so it can't search or index yet.")
    box.setInformativeText(
        f"{reason}\n\nConnect to the internet and restart to download the weights, "
        "or choose a checkpoint file you already have (.safetensors, .bin, .pt, .pth)."
    )
    choose = box.addButton("Choose checkpoint…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is not choose:
        return None
    path, _ = QFileDialog.getOpenFileName(
        parent, "Choose a CLIP checkpoint", os.path.expanduser("~"), "Checkpoints (*.safetensors *.bin *.pt *.pth)"
    )
    return path or None
