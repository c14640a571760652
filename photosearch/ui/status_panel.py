"""The status bar's permanent widgets: indexing progress with Pause/Cancel, the device, the photo count
and, when indexing left files out, "N skipped" (a click lists them)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton

from photosearch.core.types import Progress


class StatusPanel(QObject):
    pauseToggled = Signal(bool)
    cancelRequested = Signal()
    resumeRequested = Signal()  # index again after a Cancel
    skippedRequested = Signal()  # "N skipped" clicked: list the files

    def __init__(self, bar: QStatusBar) -> None:
        super().__init__(bar)
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(120)  # grows to 360 in a wide window; a narrow one still fits it
        self.progress.setMaximumWidth(360)
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
        self.resume_button = QToolButton()
        self.resume_button.setText("Resume indexing")
        self.resume_button.setToolTip("Index the photos still waiting (F5)")
        self.resume_button.clicked.connect(self._on_resume)
        self.resume_button.hide()
        self._last: Progress | None = None
        self.device_label = QLabel("model loading…")
        self.device_label.setObjectName("deviceLabel")
        self.count_label = QLabel("")
        self.skipped_button = QToolButton()
        self.skipped_button.setObjectName("skippedButton")
        self.skipped_button.setAutoRaise(True)
        self.skipped_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.skipped_button.clicked.connect(self.skippedRequested)
        self.skipped_button.hide()
        bar.addPermanentWidget(self.progress, 1)
        for widget in (
            self.pause_button,
            self.cancel_button,
            self.resume_button,
            self.device_label,
            self.count_label,
            self.skipped_button,
        ):
            bar.addPermanentWidget(widget)

    def _on_pause(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pauseToggled.emit(paused)
        if self._last is not None:
            self.show_progress(self._last)

    def _on_resume(self) -> None:
        self.resume_button.hide()
        self.resumeRequested.emit()

    def show_cancelled(self, pending: int, reading_text: bool = False) -> None:
        """After Cancel: a visible way to carry on (not only F5)."""
        self.hide_progress()
        self.resume_button.setText("Resume reading text" if reading_text else "Resume indexing")
        what = "Read the text in" if reading_text else "Index"
        self.resume_button.setToolTip(f"{what} the photos still waiting (F5)")
        self.resume_button.setVisible(pending > 0)

    def show_skipped(self, count: int) -> None:
        """The library's skipped files (status's count): shown, and clickable, only when there are some."""
        self.skipped_button.setText(f"{count:,} skipped")
        self.skipped_button.setToolTip(
            f"{count:,} file{'s' * (count != 1)} could not be indexed (damaged, not a photo, unreadable). "
            "Click to see which, and why."
        )
        self.skipped_button.setVisible(count > 0)

    def show_progress(self, progress: Progress) -> None:
        self._last = progress
        self.resume_button.hide()
        if progress.phase == "scanning":
            self.progress.setRange(0, 0)
            self.progress.setFormat("Scanning folders…")
        else:
            self.progress.setRange(0, max(progress.total, 1))
            self.progress.setValue(min(progress.done, max(progress.total, 1)))
            self.progress.setFormat(progress_text(progress, self.pause_button.isChecked()))
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
        # Forgotten first: unchecking Pause below redraws the last progress, which would show the bar again.
        self._last = None
        for widget in (self.progress, self.pause_button, self.cancel_button):
            widget.hide()
        self.pause_button.setChecked(False)


def progress_text(progress: Progress, paused: bool = False) -> str:
    """"Indexing 40 / 300 · 12/s · 0:21 left"; "Paused · 40 / 300" while paused (no rate, no ETA)."""
    counts = f"{progress.done:,} / {progress.total:,}"
    if paused:
        return f"Paused · {counts}"
    rate = rate_text(progress.rate)
    rate = f" · {rate}" if rate else ""
    eta = ""
    if progress.eta_seconds is not None and progress.done < progress.total:
        minutes, seconds = divmod(max(1, round(progress.eta_seconds)), 60)  # never "0:00 left" with photos left
        eta = f" · {minutes}:{seconds:02d} left"
    verb = "Reading text in" if progress.phase == "reading text" else "Indexing"
    return f"{verb} {counts}{rate}{eta}"


def rate_text(per_second: float) -> str:
    """"12/s"; below 1 photo/s (slow CPUs, reading text) "24/min" or "0.2/min", never "0/s"; "" while
    no rate is known yet (nothing done) or it rounds to nothing."""
    if per_second >= 1:
        return f"{per_second:.0f}/s"
    per_minute = per_second * 60
    if per_minute >= 1:
        return f"{per_minute:.0f}/min"
    return f"{per_minute:.1f}/min" if per_minute >= 0.05 else ""
