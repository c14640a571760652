"""Background work: the indexing thread, which owns the model and all writes.

All library writes happen on one worker QThread, so the GUI never waits on the model, the disk or
the writer lock. Searches run on their own pool (search_runner). Signals carry plain data only.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from photosearch.core.devices import DEVICE_WORDS, available_devices
from photosearch.core.errors import LibraryBusyError, PhotoSearchError
from photosearch.core.library import Library
from photosearch.core.models import set_offline
from photosearch.core.types import IndexSummary, Progress
from photosearch.core.weights import refusal_before_import
from photosearch.ui.search_runner import ImageQuery, LibraryRef, SearchRunner
from photosearch.ui.text_pass import TextPass, connect_job

# Re-exported: the window and the drop/search-bar widgets import them from here.
__all__ = ["BUSY_RETRY_MS", "ImageQuery", "IndexWorker", "LibraryRef", "SearchRunner", "connect_job"]

BUSY_RETRY_MS = 5000


class IndexWorker(TextPass, QObject):
    """Lives on a QThread; slots are invoked through queued signals from the GUI."""

    modelLoading = Signal(str)  # message
    modelReady = Signal(str, str)  # device, model description
    modelFailed = Signal(str)  # one-line reason (weights missing offline, bad checkpoint...)
    progress = Signal(object)  # Progress
    finished = Signal(str, object)  # job ("index" | "changes" | "switch" | "text" | ...), IndexSummary
    busy = Signal(str)  # the library is locked by another process; retried automatically
    failed = Signal(str)
    statusChanged = Signal(dict)  # Library.status()
    foldersChanged = Signal(list)  # [Folder]
    libraryReplaced = Signal(str)  # model id now serving searches
    switchFailed = Signal(str, str)  # what was asked for, one-line reason: the previous model keeps serving
    switched = Signal(str, str, str)  # model, pretrained, device now serving (only then are settings saved)
    devicesFound = Signal(list)  # the devices this machine really has
    waitingForModel = Signal(int)  # no model loaded: indexing waits (photos known to need it)
    captionsImported = Signal(str, dict)  # csv path, Library.import_captions() report
    trashed = Signal(list, list)  # paths asked for, [(path, problem)] for those that stayed
    _textNext = Signal()  # to itself, queued: the text pass's next part runs after the jobs queued before it

    def __init__(self, ref: LibraryRef, make_library: Callable[..., Library]) -> None:
        super().__init__()
        self._ref = ref
        self._make_library = make_library
        self.cancel_event = threading.Event()  # set from the GUI thread: read by the indexer directly
        self.pause_event = threading.Event()
        self._pending_changes: set[str] = set()
        self._retry: QTimer | None = None
        self.model_error = ""  # why the model did not load; indexing waits for a model until it is cleared
        self.read_text = True  # set from the GUI thread (Settings); asked before each photo's OCR
        self.init_text_pass()
        self._textNext.connect(self._read_text_part, Qt.ConnectionType.QueuedConnection)

    # -- model ---------------------------------------------------------------------------------
    @Slot()
    def load_model(self) -> bool:
        library = self._ref.get()
        self.modelLoading.emit(f"Loading {library.spec.describe()}…")
        try:
            library.encoder()
        except Exception as exc:  # a broken checkpoint can raise anything; report, stay alive
            self.model_error = str(exc) if isinstance(exc, PhotoSearchError) else f"{type(exc).__name__}: {exc}"
            self.modelFailed.emit(self.model_error)
            self._emit_status()
            return False
        self.model_error = ""
        self._emit_status()
        status = self._last_status or {}
        self.modelReady.emit(str(status.get("device", "")), library.spec.describe())
        self._warm_up(library)
        return True

    @staticmethod
    def _warm_up(library: Library) -> None:
        # A backend's first inference (OpenVINO's especially) costs several later ones: pay it here, on
        # the worker thread, so the person's first query does not.
        with contextlib.suppress(Exception):  # only a head start: a real query reports what this hit
            library.text_vector("a photo")

    @Slot()
    def start_up(self) -> None:
        """Load the model, then bring the index up to date (catches changes made while closed)."""
        if self.start_quiet():
            self.index_all()

    @Slot()
    def start_quiet(self) -> bool:
        """Report folders and counts, load the model; no rescan (screenshots show the library as it is)."""
        self._emit_folders()
        self._emit_status()
        if self._refused_early():
            return False
        self._check_device()
        return self.load_model()

    def _refused_early(self) -> bool:
        """A first run whose weights can't be had says so in seconds: before torch is imported (to look
        for GPUs, then to load the model). Devices are looked for once a model file is chosen."""
        library = self._ref.get()
        if library.offline:
            set_offline()
        try:
            refusal = refusal_before_import(library.spec)
        except PhotoSearchError as exc:  # e.g. a missing model config file: the load reports it
            refusal = str(exc)
        if not refusal:
            return False
        self.model_error = refusal
        self.modelFailed.emit(refusal)
        self._emit_status()
        return True

    def _check_device(self) -> None:
        """A saved device this machine does not have (settings from elsewhere) falls back to auto."""
        found = available_devices()
        self.devicesFound.emit(found)
        library = self._ref.get()
        if library.device not in found:
            self.modelLoading.emit(f"{DEVICE_WORDS.get(library.device, library.device)} is not available here")
            library.device = "auto"

    @Slot(str, str, str)
    def reload_with(self, model: str, pretrained: str, device: str) -> None:
        """Replace the library object (e.g. a local checkpoint after weights were missing) and retry."""
        current = self._ref.get()
        try:
            library = self._make_library(model=model or None, pretrained=pretrained or None, device=device)
        except PhotoSearchError as exc:
            self.modelFailed.emit(str(exc))
            return
        self._ref.set(library)
        if current is not library:
            current.close()
        self.libraryReplaced.emit(library.model_id)
        self._check_device()  # not done yet when the first load was refused early
        if self.load_model():
            self.switched.emit(library.spec.model, library.spec.pretrained, device)
            self.index_all()

    # -- indexing --------------------------------------------------------------------------------
    def _report(self, progress: Progress) -> None:
        self.progress.emit(progress)

    def _run(self, job: str, call: Callable[[], IndexSummary], text_after: bool = False) -> IndexSummary | None:
        """Run one job; with text_after, a text pass follows it (planned before `finished` is sent, so the
        window knows the work goes on)."""
        self.cancel_event.clear()
        summary = None
        try:
            summary = call()
        except LibraryBusyError as exc:
            self.busy.emit(str(exc))
            self._schedule_retry()
        except PhotoSearchError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # keep the worker alive whatever a file or the disk does
            self.failed.emit(f"{job} failed: {type(exc).__name__}: {exc}")
        if summary is not None and text_after and not summary.cancelled:
            self._plan_text()
        # After planning: a Pause that came as the job ended holds the pass that follows (the status says
        # "Paused"); with no pass to follow, nothing is left to pause.
        if not self.text_pass_active:  # a paused pass that stepped aside stays paused
            self.pause_event.clear()
        if summary is None:
            return None
        self.finished.emit(job, summary)
        self._emit_folders()
        self._emit_status()
        return summary

    def _waiting(self) -> bool:
        """True (and says so) when there is no model to index with: nothing pretends to progress."""
        if not self.model_error or self._ref.get().model_loaded:
            return False
        self._emit_status()
        pending = int(((self._last_status or {}).get("photos") or {}).get("pending", 0))
        self.waitingForModel.emit(pending)
        return True

    @Slot()
    def index_all(self) -> None:
        if self._waiting():
            return
        library = self._ref.get()
        self._pending_changes.clear()  # a full rescan covers them
        self._run(
            "index",
            lambda: library.index(self._report, self.cancel_event, self.pause_event, read_text=False),
            text_after=True,
        )

    @Slot(list)
    def apply_changes(self, paths: list[str]) -> None:
        self._pending_changes.update(paths)
        if self._waiting():
            return
        library = self._ref.get()
        todo, self._pending_changes = self._pending_changes, set()
        done = self._run(
            "changes",
            lambda: library.apply_changes(
                sorted(todo), self._report, self.cancel_event, self.pause_event, read_text=False
            ),
            text_after=True,
        )
        if done is None:
            self._pending_changes |= todo  # busy: retried with the next attempt

    def _schedule_retry(self) -> None:
        if self._retry is None:
            self._retry = QTimer(self)
            self._retry.setSingleShot(True)
            self._retry.timeout.connect(self._retry_now)
        self._retry.start(BUSY_RETRY_MS)

    @Slot()
    def _retry_now(self) -> None:
        if self._pending_changes:
            self.apply_changes([])
        else:
            self.index_all()

    # -- folders (writes: they take the writer lock, so they run here) ----------------------------
    @Slot(str)
    def add_folder(self, path: str) -> None:
        try:
            self._ref.get().add_folder(path)
        except PhotoSearchError as exc:
            self.failed.emit(str(exc))
            return
        self._emit_folders()
        self.index_all()

    @Slot(str)
    def remove_folder(self, path: str) -> None:
        try:
            self._ref.get().remove_folder(path)
        except PhotoSearchError as exc:
            self.failed.emit(str(exc))
            return
        self._emit_folders()
        self._emit_status()
        self.finished.emit("remove", IndexSummary())

    @Slot(str)
    def import_captions(self, csv_path: str) -> None:
        try:
            # Pause holds it between chunks like any job; no Cancel: it does not clear a stale one (see _run).
            report = self._ref.get().import_captions(csv_path, pause=self.pause_event)
        except Exception as exc:  # a bad file or a missing model: one line, the worker stays alive
            self.failed.emit(str(exc) if isinstance(exc, PhotoSearchError) else f"{type(exc).__name__}: {exc}")
            return
        self.captionsImported.emit(csv_path, report)
        self._emit_status()
    @Slot(list)
    def move_to_trash(self, paths: list[str]) -> None:
        """Duplicates the user chose: to the system trash, then out of the index (a write: it runs here)."""
        try:
            problems = self._ref.get().move_to_trash(paths)
        except PhotoSearchError as exc:
            problems = [(p, str(exc)) for p in paths]
        self.trashed.emit(paths, problems)
        self._emit_status()
        self.finished.emit("trash", IndexSummary(removed=len(paths) - len(problems)))

    def _reading(self) -> bool:
        return self.read_text

    @Slot()
    def _read_text_part(self) -> None:
        self.read_text_part()

    # -- model change -----------------------------------------------------------------------------
    @Slot(str, str, str)
    def switch_model(self, model: str, pretrained: str, device: str) -> None:
        """Re-encode with a new model while the old library keeps answering searches; swap when done.

        Nothing changes until the new model has loaded and indexed: a failure leaves the previous
        model serving (and the caller's settings untouched, since they are saved only on `switched`).
        """
        asked = f"{model} ({pretrained})" if pretrained else model
        try:
            new = self._make_library(model=model, pretrained=pretrained or None, device=device)
            self.modelLoading.emit(f"Loading {new.spec.describe()}…")
            new.encoder()
        except Exception as exc:
            reason = str(exc) if isinstance(exc, PhotoSearchError) else f"{type(exc).__name__}: {exc}"
            self.switchFailed.emit(asked, reason)
            return
        summary = self._run(
            "switch", lambda: new.index(self._report, self.cancel_event, self.pause_event, read_text=False)
        )
        if summary is None or summary.cancelled:
            new.close()
            # Indexing recorded the new model as the library's; the one still serving takes it back.
            with contextlib.suppress(PhotoSearchError):
                self._ref.get().claim_model()
            if summary is None:
                self.switchFailed.emit(asked, "indexing with it did not finish")
            return
        old = self._ref.get()
        self._ref.set(new)
        self.model_error = ""
        self.libraryReplaced.emit(new.model_id)
        self._emit_status()
        self.modelReady.emit(str((self._last_status or {}).get("device", "")), new.spec.describe())
        self.switched.emit(new.spec.model, new.spec.pretrained, device)
        del old  # searches still running on it hold their own reference
        self._plan_text()

    # -- reporting ---------------------------------------------------------------------------------
    _last_status: dict | None = None

    def _emit_status(self) -> None:
        try:
            self._last_status = self._ref.get().status()
        except Exception:
            return
        self.statusChanged.emit(self._last_status)

    def _emit_folders(self) -> None:
        try:
            self.foldersChanged.emit(self._ref.get().folders())
        except Exception as exc:
            self.failed.emit(f"cannot read folders: {exc}")

