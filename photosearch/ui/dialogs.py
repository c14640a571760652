"""Dialogs: settings, and the 'model is missing' question (the photo preview is in preview.py)."""

from __future__ import annotations

import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QSpinBox,
    QWidget,
)

from photosearch.core.devices import DEVICE_WORDS
from photosearch.ui.preview import PreviewDialog, human_date, human_size  # moved there; still importable here
from photosearch.ui.settings import PRESETS, THUMB_MAX, THUMB_MIN, ModelPreset, Settings, preset_for

__all__ = [
    "CHOOSE_FILE",
    "FROM_FILE",
    "PreviewDialog",
    "SettingsDialog",
    "ask_for_checkpoint",
    "human_date",
    "human_size",
]
CHOOSE_FILE = "Choose a model file…"
FROM_FILE = "From a file…"


class SettingsDialog(QDialog):
    fileRequested = Signal()  # "From a file…" picked in the model list: the window asks for the file

    def __init__(
        self,
        settings: Settings,
        current_model: str,
        current_pretrained: str,
        devices: list[str] | None = None,
        parent=None,
        *,
        offline_forced: bool = False,
    ) -> None:
        """offline_forced: --offline was given; this run is offline whatever the setting says."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.offline_forced = offline_forced
        form = QFormLayout(self)
        self._current = (current_model, current_pretrained)
        self.model_file = ""
        self.preset = QComboBox()
        current = preset_for(current_model, current_pretrained)
        if current is None:
            shown = os.path.basename(current_pretrained) if os.path.isfile(current_pretrained) else current_pretrained
            self.preset.addItem(f"Current: {os.path.basename(current_model)} / {shown}", "current")
        for preset in PRESETS:
            self.preset.addItem(f"{preset.label} — {preset.note}", preset)
        self.preset.addItem(FROM_FILE, "file")
        if current is not None:
            self.preset.setCurrentIndex(PRESETS.index(current))
        self.preset.activated.connect(self._on_preset)
        self.device = QComboBox()
        for name in devices or ["auto", "cpu"]:
            self.device.addItem(DEVICE_WORDS.get(name, name), name)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
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
        self.offline.setChecked(settings.offline or offline_forced)
        # Shown as in effect, and locked: unticking it could not take this run back online.
        self.offline_note = QLabel("On for this run: PhotoSearch was started with --offline.")
        self.offline_note.setStyleSheet("color: palette(placeholder-text);")
        self.offline_note.setVisible(offline_forced)
        if offline_forced:
            self.offline.setEnabled(False)
            self.offline.setToolTip("Set by --offline on the command line, for this run only")
        self.read_text = QCheckBox("Read the text in photos (signs, menus, screenshots) so it can be searched")
        self.read_text.setChecked(settings.read_text)
        form.addRow("Model", self.preset)
        note = QLabel(
            "Changing the model re-indexes in the background; searches keep working meanwhile. "
            "If the new model cannot be loaded, nothing changes."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        form.addRow("", note)
        form.addRow("Device", self.device)
        form.addRow("Thumbnail size", self.thumb)
        form.addRow("Results per search", self.per_page)
        form.addRow("Network", self.offline)
        form.addRow("", self.offline_note)
        form.addRow("Text in photos", self.read_text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _on_preset(self, _row: int) -> None:
        if self.preset.currentData() == "file":
            self.fileRequested.emit()

    def set_model_file(self, path: str | None) -> None:
        """The file chosen for "From a file…" (empty: the choice is undone)."""
        self.model_file = path or ""
        row = self.preset.findData("file")
        self.preset.setItemText(row, f"File: {os.path.basename(path)}" if path else FROM_FILE)
        if not path:
            self.preset.setCurrentIndex(max(0, self.preset.findData("current")))

    def chosen_preset(self):
        data = self.preset.currentData()
        return data if isinstance(data, ModelPreset) else None

    def chosen_model(self, current_model: str) -> tuple[str, str]:
        """(model, pretrained) picked: a preset, the current model with a weights file, or unchanged."""
        preset = self.chosen_preset()
        if preset is not None:
            return preset.model, preset.pretrained
        if self.preset.currentData() == "file" and self.model_file:
            return current_model, self.model_file
        return self._current

    def chosen_device(self) -> str:
        return str(self.device.currentData())


def ask_for_checkpoint(parent: QWidget | None, reason: str) -> bool:
    """Explain that the model could not be loaded; True when the person wants to choose a model file."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Model not available")
    box.setText("PhotoSearch cannot load its model, so it can't search or index yet.")
    box.setInformativeText(
        f"{reason}.\n\nConnect to the internet and restart PhotoSearch to download the model, "
        "or choose a model file you already have (.safetensors, .bin, .pt, .pth). "
        "You can do this later from File ▸ Choose a model file… or Settings ▸ Model ▸ From a file…"
    )
    choose = box.addButton(CHOOSE_FILE, QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is choose

