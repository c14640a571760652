"""Re-emits the Qt-free FolderWatcher's callbacks (from its own thread) as Qt signals."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal

from photosearch.core.watcher import FolderWatcher


class WatchBridge(QObject):
    # Emitted from the watcher's thread; Qt queues them to the receivers' threads.
    changes = Signal(list)  # sorted paths
    error = Signal(str)

    def __init__(self, debounce: float = 1.0, parent=None) -> None:
        super().__init__(parent)
        self.watcher = FolderWatcher(self._on_changes, self._on_error, debounce=debounce)

    def _on_changes(self, paths: set[str]) -> None:
        self.changes.emit(sorted(paths))

    def _on_error(self, message: str) -> None:
        self.error.emit(message)

    def watch(self, folders: Iterable[str]) -> None:
        folders = list(folders)
        if self.watcher.folders == [] and not getattr(self, "_started", False):
            self.watcher.start(folders)
            self._started = True
        else:
            self.watcher.set_folders(folders)

    def stop(self) -> None:
        if getattr(self, "_started", False):
            self.watcher.stop()
            self._started = False
