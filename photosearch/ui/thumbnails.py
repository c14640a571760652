"""Thumbnails for the grid: decoded off the GUI thread, cached as QPixmaps on it.

Runnables produce QImage (safe off the GUI thread); QPixmap is made only on the GUI thread when the
image arrives. Requests come from the model's data() calls, i.e. only for tiles the view paints, and
are served newest-first: after a fast scroll the tiles now on screen load before the ones scrolled past.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage, QImageReader, QPixmap

# Resolves (path, fingerprint) to a cached thumbnail file; the core makes it on demand.
ThumbSource = Callable[[str, str], "Path | None"]
MAX_QUEUED = 256  # older requests are dropped; the view asks again if the tile is still visible


def read_image(path: str | os.PathLike, max_side: int) -> QImage:
    """Decode at most max_side pixels on the long edge (JPEG decodes scaled, so big photos stay fast)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)  # honour EXIF orientation
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > max_side:
        reader.setScaledSize(size.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    return image if not image.isNull() else QImage()


class _Signals(QObject):
    loaded = Signal(str, QImage)


class _LoadJob(QRunnable):
    """Takes the newest queued request each time it runs (LIFO), so visible tiles win."""

    def __init__(self, loader: ThumbnailLoader) -> None:
        super().__init__()
        self._loader = loader

    def run(self) -> None:
        request = self._loader._take()
        if request is None:
            return
        key, fingerprint = request
        image = QImage()
        try:
            source = self._loader._source(key, fingerprint)
            if source is not None:
                image = read_image(source, self._loader.max_side)
        except Exception:  # a broken file shows the placeholder, never takes the app down
            image = QImage()
        self._loader._signals.loaded.emit(key, image)


class ThumbnailLoader(QObject):
    """`pixmap(path)` answers from the cache or queues a load; `ready(path)` fires when it arrives."""

    ready = Signal(str)

    def __init__(self, source: ThumbSource, capacity: int = 800, max_side: int = 320, parent=None) -> None:
        super().__init__(parent)
        self._source = source
        self.capacity = capacity
        self.max_side = max_side
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._failed: set[str] = set()
        self._in_flight: set[str] = set()
        self._queue: OrderedDict[str, str] = OrderedDict()  # path -> fingerprint, newest last
        self._made_from: dict[str, str] = {}  # path -> fingerprint its cached pixmap was made from
        self._lock = threading.Lock()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, min(4, (os.cpu_count() or 2) - 1)))
        self._signals = _Signals()
        self._signals.loaded.connect(self._on_loaded)

    def pixmap(self, path: str, fingerprint: str = "") -> QPixmap | None:
        """The cached pixmap, or None after queueing a load (only once per path and content)."""
        if fingerprint and self._made_from.get(path, fingerprint) != fingerprint:
            self.forget(path)  # the photo was edited: its old picture must not stay on screen
        cached = self._cache.get(path)
        if cached is not None:
            self._cache.move_to_end(path)
            return cached
        if path in self._failed or path in self._in_flight:
            return None
        with self._lock:
            if path in self._queue:
                self._queue.move_to_end(path)  # asked again: it's on screen, load it sooner
                return None
            self._queue[path] = fingerprint
            if fingerprint:
                self._made_from[path] = fingerprint
            while len(self._queue) > MAX_QUEUED:
                self._queue.popitem(last=False)
        self._pool.start(_LoadJob(self))
        return None

    def failed(self, path: str) -> bool:
        return path in self._failed

    def settled(self, path: str) -> bool:
        """Loaded or given up on: nothing more will change for this tile."""
        return path in self._cache or path in self._failed

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._queue or self._in_flight)

    def clear(self) -> None:
        self._cache.clear()
        self._failed.clear()
        self._made_from.clear()

    def forget(self, path: str) -> None:
        """Drop one entry (the file changed on disk)."""
        self._cache.pop(path, None)
        self._failed.discard(path)
        self._made_from.pop(path, None)

    def _take(self) -> tuple[str, str] | None:
        with self._lock:
            if not self._queue:
                return None
            path, fingerprint = self._queue.popitem(last=True)
            self._in_flight.add(path)
            return path, fingerprint

    @Slot(str, QImage)
    def _on_loaded(self, path: str, image: QImage) -> None:
        with self._lock:
            self._in_flight.discard(path)
        if image.isNull():
            self._failed.add(path)
        else:
            self._cache[path] = QPixmap.fromImage(image)  # GUI thread: the only place pixmaps are made
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        self.ready.emit(path)

    def wait_idle(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)
