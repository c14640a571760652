"""Model and device changes from the window: Settings, "Choose a model file...", and their outcomes.

A change is only asked of the worker; the settings file records it once the worker says the new
model is loaded and indexed (`switched`). A failure keeps the previous model serving and says why.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from photosearch.core.devices import DEVICE_WORDS
from photosearch.ui.dialogs import SettingsDialog, ask_for_checkpoint
from photosearch.ui.messages import in_gui_words, switch_failed_text
from photosearch.ui.worker import connect_job

if TYPE_CHECKING:
    from photosearch.ui.main_window import MainWindow

CHECKPOINT_FILTER = "Model files (*.safetensors *.bin *.pt *.pth)"


class ModelControl(QObject):
    switchRequested = Signal(str, str, str)  # model, pretrained, device
    reloadRequested = Signal(str, str, str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.devices: list[str] = ["auto", "cpu"]  # until the worker has looked
        self.switching = ""  # what is being switched to, for the failure message
        worker = window.worker
        connect_job(self.switchRequested, worker.switch_model, worker)
        connect_job(self.reloadRequested, worker.reload_with, worker)
        worker.modelFailed.connect(self.on_model_failed)
        worker.switchFailed.connect(self.on_switch_failed)
        worker.switched.connect(self.on_switched)
        worker.devicesFound.connect(self.on_devices)

    # -- outcomes --------------------------------------------------------------------------------
    def on_devices(self, devices: list) -> None:
        self.devices = [str(d) for d in devices]

    def on_model_failed(self, message: str) -> None:
        window = self.window
        text = in_gui_words(message)
        window.last_error = text
        window.device_label.setText("no model")
        window.device_label.setToolTip(text)
        window.note(f"No model loaded: {text}. Use File ▸ Choose a model file…")
        if window.interactive and ask_for_checkpoint(window, text):
            self.choose_model_file()

    def on_switch_failed(self, asked: str, reason: str) -> None:
        window = self.window
        current = window.ref.get().spec.describe()
        text = switch_failed_text(asked, reason, current)
        window.last_switch_error = text
        self.switching = ""
        window.note(text, 20000)
        if window.interactive:
            QMessageBox.warning(window, "Model not changed", text)

    def on_switched(self, model: str, pretrained: str, device: str) -> None:
        settings = self.window.settings
        settings.model, settings.pretrained, settings.device = model, pretrained, device
        self.switching = ""
        self.window.last_error = ""
        self.window.save_settings()

    # -- requests ---------------------------------------------------------------------------------
    def request(self, model: str, pretrained: str, device: str) -> None:
        """A new model or device: a live switch when a model serves, else a fresh load."""
        window = self.window
        self.switching = f"{model} ({pretrained})"
        if window.ref.get().model_loaded:
            window.note(f"Switching to {os.path.basename(model)}; current results stay available meanwhile")
            self.switchRequested.emit(model, pretrained, device)
        else:
            window.note(f"Loading {os.path.basename(pretrained) or model}…")
            self.reloadRequested.emit(model, pretrained, device)

    def choose_model_file(self) -> str | None:
        """File ▸ Choose a model file… (and Settings ▸ Model ▸ From a file…): a local checkpoint."""
        window = self.window
        path = window.pick_file("Choose a model file", CHECKPOINT_FILTER)
        if path:
            spec = window.ref.get().spec
            self.request(spec.model, path, window.settings.device)
        return path

    def settings_dialog(self) -> SettingsDialog:
        window = self.window
        spec = window.ref.get().spec
        return SettingsDialog(
            window.settings, spec.model, spec.pretrained, self.devices, window, offline_forced=window.offline_forced
        )

    def open_settings(self) -> None:
        window = self.window
        dialog = self.settings_dialog()
        dialog.fileRequested.connect(
            lambda: dialog.set_model_file(window.pick_file("Choose a model file", CHECKPOINT_FILTER))
        )
        window.settings_dialog = dialog
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        self.apply_settings(dialog)

    def apply_settings(self, dialog: SettingsDialog) -> None:
        window = self.window
        settings = window.settings
        spec = window.ref.get().spec
        settings.results_per_page = dialog.per_page.value()
        if not dialog.offline_forced:  # --offline is for its run: not saved as the person's choice
            settings.offline = dialog.offline.isChecked()
        settings.read_text = window.worker.read_text = dialog.read_text.isChecked()
        window.size_slider.setValue(dialog.thumb.value())
        model, pretrained = dialog.chosen_model(spec.model)
        device = dialog.chosen_device()
        if (model, pretrained) != (spec.model, spec.pretrained) or device != settings.device:
            if device not in self.devices:
                window.note(f"{DEVICE_WORDS.get(device, device)} is not available on this computer", 8000)
            else:
                self.request(model, pretrained, device)
        window.save_settings()
        window.refresh_query()


def pick_file(parent, title: str, filters: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, os.path.expanduser("~"), filters)
    return path
