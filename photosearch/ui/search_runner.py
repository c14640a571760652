"""Searches off the GUI thread: one at a time on their own pool (reads are thread-safe in the core, and a
search must not queue behind an hour of indexing); only the newest request's answer is delivered.
Also the library reference both the searches and the indexing worker use, and the image-query type.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from photosearch.core.errors import PhotoSearchError
from photosearch.core.library import Library

CAPTIONS_SHOWN = 20  # caption matches per query in the panel


class LibraryRef:
    """The library searches use right now; swapped atomically when a new model's index is ready."""

    def __init__(self, library: Library) -> None:
        self._library = library
        self._lock = threading.Lock()

    def get(self) -> Library:
        with self._lock:
            return self._library

    def set(self, library: Library) -> None:
        with self._lock:
            self._library = library


@dataclass(frozen=True)
class ImageQuery:
    """A query image: a file on disk, or raw bytes (pasted or dropped image data)."""

    path: str | None = None
    data: bytes | None = None
    label: str = ""

    @property
    def source(self) -> str | bytes:
        return self.path if self.path is not None else (self.data or b"")


# -- searching -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchRequest:
    generation: int
    text: str = ""
    image: ImageQuery | None = None
    k: int = 200
    options: object = None  # issue 11: a search_options.SearchOptions (filters, sort, plus words, weight)


class _SearchSignals(QObject):
    done = Signal(int, list, list, str, float)  # generation, results, captions, error, seconds


class _SearchJob(QRunnable):
    def __init__(self, runner: SearchRunner, request: SearchRequest) -> None:
        super().__init__()
        self._runner = runner
        self._request = request

    def run(self) -> None:
        request = self._request
        if request.generation != self._runner.latest:
            return  # superseded while queued: latest query wins
        library = self._runner.ref.get()
        started = time.perf_counter()
        results, captions, error = [], [], ""
        try:
            caption_kwargs = request.options.caption_kwargs() if request.options is not None else {}
            if request.image is not None:
                extra = request.options.image_kwargs() if request.options is not None else {}
                # issue 11: several images query together, for the photos and the caption panel alike
                sources = [request.image.source, *extra.pop("more_images", ())]
                combined = request.options.combined_kwargs() if request.options is not None else {}
                results = library.search_image(sources, k=request.k, **extra)
                captions = library.search_captions(image=sources, k=CAPTIONS_SHOWN, **caption_kwargs, **combined)
            elif request.text.strip():
                extra = request.options.text_kwargs() if request.options is not None else {}
                results = library.search_text(request.text, k=request.k, **extra)
                captions = library.search_captions(text=request.text, k=CAPTIONS_SHOWN, **caption_kwargs)
        except PhotoSearchError as exc:
            error = str(exc)
        except Exception as exc:
            error = f"search failed: {type(exc).__name__}: {exc}"
        self._runner.signals.done.emit(request.generation, results, captions, error, time.perf_counter() - started)


class SearchRunner(QObject):
    """Runs searches one at a time off the GUI thread; only the newest request's answer is delivered."""

    resultsReady = Signal(list, list, float)  # [SearchResult], [CaptionResult], seconds
    searchFailed = Signal(str)

    def __init__(self, ref: LibraryRef, parent=None) -> None:
        super().__init__(parent)
        self.ref = ref
        self.latest = 0
        self.delivered = 0
        self.failed = False  # the newest answer was an error (its message must not be replaced by "0 photos")
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.signals = _SearchSignals()
        self.signals.done.connect(self._on_done)

    def submit(self, text: str = "", image: ImageQuery | None = None, k: int = 200, options=None) -> int:
        self.latest += 1
        self._pool.start(_SearchJob(self, SearchRequest(self.latest, text, image, k, options)))
        return self.latest

    @property
    def idle(self) -> bool:
        return self.delivered == self.latest

    @Slot(int, list, list, str, float)
    def _on_done(self, generation: int, results: list, captions: list, error: str, seconds: float) -> None:
        if generation != self.latest:
            return
        self.delivered = generation
        self.failed = bool(error)
        if error:
            self.searchFailed.emit(error)
        self.resultsReady.emit(results, captions, seconds)

    def wait(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)
