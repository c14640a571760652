"""The status bar's permanent widgets: indexing progress with Pause/Cancel, the device, the photo count."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton

from photosearch.core.types import Progress


class StatusPanel(QObject):
    pauseToggled = Signal(bool)
    cancelRequested = Signal()

    def __init__(self, bar: QStatusBar) -> None:
        super().__init__(bar)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(360)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.pause_button = QToolButton()
        self.pause_button.setText("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._on_pause)
        self.pause_button.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.cancel_button.hide()
        self.device_label = QLabel("model loading…")
        self.device_label.setObjectName("deviceLabel")
        self.count_label = QLabel("")
        for widget in (self.progress, self.pause_button, self.cancel_button, self.device_label, self.count_label):
            bar.addPermanentWidget(widget)

    def _on_pause(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pauseToggled.emit(paused)

    def show_progress(self, progress: Progress) -> None:
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
            self.progress.setFormat(f"Indexing {progress.done:,} / {progress.total:,}{rate}{eta}")
        for widget in (self.progress, self.pause_button, self.cancel_button):
            widget.show()

    def show_waiting(self, pending: int) -> None:
        """No model: say that indexing waits for one, not a progress bar stuck at 0 / N."""
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        todo = f"{pending:,} photos" if pending else "photos"
        self.progress.setFormat(f"Waiting for the model to index {todo}")
        self.progress.show()
        self.pause_button.hide()
        self.cancel_button.hide()

    def hide_progress(self) -> None:
        for widget in (self.progress, self.pause_button, self.cancel_button):
            widget.hide()
        self.pause_button.setChecked(False)
