"""The public face of the core: one object per library, used by the command line and the desktop app.

Reads (search, status) may run on any thread; writes (index, import, folders) take the library's
writer lock, so one process and one thread write at a time. The model is loaded on first need and kept.
Searching lives in library_search.py, what the library holds (status, details) in library_status.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from photosearch.core import ocr, quant_check
from photosearch.core.backup import WATCHER_INTERVAL_S, backup_quietly
from photosearch.core.caption_import import import_caption_csv
from photosearch.core.encoder import (
    DEFAULT_MODEL,
    DEFAULT_PRETRAINED,
    ModelSpec,
    load_encoder,
    planned_backend,
    resolve_device,
)
from photosearch.core.errors import PhotoSearchError
from photosearch.core.indexer import Indexer
from photosearch.core.keywords import backfill_keywords
from photosearch.core.library_search import LibrarySearchMixin, QueryVectorCache
from photosearch.core.library_status import LibraryStatusMixin
from photosearch.core.lock import writer_lock
from photosearch.core.paths import library_dir
from photosearch.core.scanner import Scope
from photosearch.core.search import SearchEngine
from photosearch.core.store import DB_NAME, Store
from photosearch.core.thumbnails import ThumbnailCache
from photosearch.core.types import IndexSummary, Progress


@dataclass(frozen=True)
class Folder:
    path: str
    online: bool
    photos: int


class Library(LibrarySearchMixin, LibraryStatusMixin):
    def __init__(
        self,
        root: str | os.PathLike | None = None,
        *,
        model: str | None = None,
        pretrained: str | None = None,
        device: str = "auto",
        offline: bool = False,
        backend: str = "auto",
        on_model_progress: Callable[[str], None] | None = None,
        readonly: bool | None = None,
        tag: str | None = None,
    ) -> None:
        """readonly: True opens the library for searching only; None (default) does so when its
        files cannot be written (read-only media or mount), else opens it read-write."""
        self.root = library_dir(root)
        self.readonly = _not_writable(self.root) if readonly is None else readonly
        self.store = Store(self.root, readonly=self.readonly)
        self.thumbs = ThumbnailCache(self.root)
        self.spec = self._choose_model(model, pretrained, tag)
        self.device = device
        self.offline = offline
        self.backend = backend
        self.on_model_progress = on_model_progress
        self._encoder = None
        self._encoder_lock = threading.Lock()
        self._engine: SearchEngine | None = None
        self._query_vectors = QueryVectorCache()  # outside query images, encoded once per query

    def _choose_model(self, model: str | None, pretrained: str | None, tag: str | None = None) -> ModelSpec:
        """The library's own model unless the caller names another (which then becomes the library's)."""
        stored_model = self.store.get_meta("model")
        stored_pretrained = self.store.get_meta("pretrained")
        if model and model != stored_model and not pretrained:
            pretrained = DEFAULT_PRETRAINED if model == DEFAULT_MODEL else None
        if model and os.path.isfile(model):
            model = os.path.abspath(model)  # a config file is remembered wherever the next command runs
        if pretrained and os.path.isfile(pretrained):
            pretrained = os.path.abspath(pretrained)
        chosen_model = model or stored_model or DEFAULT_MODEL
        chosen_pretrained = pretrained or (stored_pretrained if chosen_model == stored_model else None)
        if chosen_pretrained is None:
            chosen_pretrained = DEFAULT_PRETRAINED if chosen_model == DEFAULT_MODEL else "random"
        same_weights = (chosen_model, chosen_pretrained) == (stored_model, stored_pretrained)
        # issue 13: a checkpoint file's training tag is remembered with it.
        chosen_tag = tag or (self.store.get_meta("tag") if same_weights and not pretrained else None) or None
        return ModelSpec(chosen_model, chosen_pretrained, chosen_tag)

    @property
    def model_id(self) -> str:
        return self.spec.model_id

    # -- model -------------------------------------------------------------------------------
    def encoder(self):
        """The loaded encoder (loads it on first use; thread-safe)."""
        with self._encoder_lock:
            if self._encoder is None:
                self._encoder = load_encoder(
                    self.spec,
                    device=self.device,
                    backend=self.backend,
                    offline=self.offline,
                    quant_verdict=self.quant_verdict(),
                    progress=self.on_model_progress,
                )
            return self._encoder

    def quant_verdict(self) -> dict | None:
        """This library's int8 ranking check for its model (None: not decided yet)."""
        raw = self.store.get_meta(f"quant_check:{self.model_id}")
        return json.loads(raw) if raw else None

    def _check_quantization(self) -> None:
        """Decide int8 on this library's own photos once it has enough (issue 13)."""
        encoder = self._encoder
        if encoder is None or not encoder.needs_quant_check or self.readonly:
            return
        verdict = quant_check.run_for_library(self.store, encoder)
        if verdict is None:
            return
        with self.store.write() as conn:
            self.store.set_meta(conn, f"quant_check:{self.model_id}", json.dumps(verdict))
        encoder.quant_check, encoder.needs_quant_check = verdict, False
        encoder.use_int8(quant_check.accepted(verdict))

    @property
    def backend_name(self) -> str:
        """The backend in use (or that would be), e.g. "openvino-bf16", for status and About."""
        if self._encoder is not None:
            return self._encoder.backend
        try:
            return planned_backend(resolve_device(self.device), self.backend, self.quant_verdict())
        except PhotoSearchError as exc:
            return f"unavailable ({exc})"

    @property
    def model_loaded(self) -> bool:
        return self._encoder is not None

    def engine(self) -> SearchEngine:
        if self._engine is None or self._engine.model_id != self.model_id:
            self._engine = SearchEngine(self.store, self.model_id)
        return self._engine

    # -- folders -----------------------------------------------------------------------------
    def folders(self) -> list[Folder]:
        # The photos a folder can show: skipped files (empty, not images) are listed by status --skipped.
        sql = "SELECT folder_id, COUNT(*) FROM photos WHERE state = 'indexed' GROUP BY folder_id"
        counts = dict(self.store.query(sql))
        return [Folder(path, online, counts.get(fid, 0)) for fid, path, online in self.store.folders()]

    def add_folder(self, path: str | os.PathLike) -> str:
        return self.add_folders([path])[0]

    def add_folders(self, paths: Iterable[str | os.PathLike]) -> list[str]:
        """Watch these folders. Every one is checked before any is added: a mistake adds none."""
        resolved = [self._watchable(path) for path in paths]
        if resolved:
            with self._writer_lock("adding a folder"), self._backed_up(WATCHER_INTERVAL_S):
                for folder in resolved:
                    self.store.add_folder(folder)
        return resolved

    def _watchable(self, path: str | os.PathLike) -> str:
        folder = Path(path).expanduser()
        if not folder.exists():
            raise PhotoSearchError(f"no such folder: {folder}")
        if not folder.is_dir():
            raise PhotoSearchError(f"not a folder: {folder}")
        resolved = str(folder.resolve())
        if Path(resolved).is_relative_to(self.root):
            raise PhotoSearchError(f"{resolved} is inside the library's own folder and cannot be watched")
        return resolved

    def remove_folder(self, path: str | os.PathLike) -> int:
        """Stop watching a folder and forget its photos (files on disk are untouched). An offline
        folder is named as it was added: relative, `..` and a trailing slash are resolved all the same."""
        given = Path(path).expanduser()
        target = str(given.resolve()) if given.exists() else os.path.abspath(given)
        if target not in {f.path for f in self.folders()}:
            raise PhotoSearchError(f"not a watched folder: {target} (see `photosearch folders`)")
        with self._writer_lock("removing a folder"), self._backed_up():
            return self.store.remove_folder(target)

    @contextlib.contextmanager
    def _backed_up(self, min_age_s: float = 0.0) -> Iterator[None]:
        """Back the database up after the block if it committed anything (kept even when it failed later)."""
        conn = self.store.conn  # this thread's: the one every write below goes through
        before = conn.total_changes
        try:
            yield
        finally:
            if conn.total_changes != before:
                backup_quietly(conn, self.root, min_age_s)

    def _writer_lock(self, what: str = "indexing"):
        if self.readonly:
            raise PhotoSearchError(f"the library at {self.root} is read-only; it can be searched but not changed")
        return writer_lock(self.root, what)

    # -- indexing ----------------------------------------------------------------------------
    def _indexer(self) -> Indexer:
        return Indexer(self.store, self.thumbs, self.model_id, self.encoder)

    def _remember_model(self) -> None:
        if self.store.get_meta("model_id") != self.model_id:
            with self.store.write() as conn:
                self.store.set_meta(conn, "model", self.spec.model)
                self.store.set_meta(conn, "pretrained", self.spec.pretrained)
                self.store.set_meta(conn, "model_id", self.model_id)
                self.store.set_meta(conn, "tag", self.spec.tag or "")

    def claim_model(self) -> None:
        """Make this library's model the one it opens with again (after another's switch did not finish)."""
        with self._writer_lock("recording the model"):
            self._remember_model()

    def index(
        self,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
        *,
        read_text: bool | Callable[[], bool] = True,
    ) -> IndexSummary:
        """Bring every watched folder up to date (new, changed, moved, deleted, offline); then, unless
        read_text is (or, asked before each photo, turns) False, read the text in photos not read yet."""
        with self._writer_lock(), self._backed_up():
            self._remember_model()
            backfill_keywords(self.store)  # issue 11: once, for photos indexed before keywords were read
            indexer = self._indexer()
            summary = indexer.run(None, progress, cancel, pause)
            self._check_quantization()
            self.engine().discard_bad_snapshot()  # a damaged or stale saved index is rebuilt, not trusted
            ocr.after_index(
                self.store, indexer.encode_captions, ocr=read_text, progress=progress, cancel=cancel, pause=pause
            )
            return summary

    def apply_changes(
        self,
        paths: Iterable[str],
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
        *,
        read_text: bool | Callable[[], bool] = True,
    ) -> IndexSummary:
        """Reconcile just these paths (files or folders a watcher saw change) with the index."""
        scopes = self._scopes_for(paths)
        if not scopes:
            return IndexSummary()
        with self._writer_lock(), self._backed_up(WATCHER_INTERVAL_S):
            self._remember_model()
            indexer = self._indexer()
            summary = indexer.run(scopes, progress, cancel, pause)
            ocr.after_index(
                self.store, indexer.encode_captions, ocr=read_text, progress=progress, cancel=cancel, pause=pause
            )
            return summary

    def text_to_read(self) -> int:
        """Photos whose text has not been read yet."""
        return ocr.counts(self.store)["pending"]

    def read_text(
        self,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
        *,
        enabled: Callable[[], bool] = lambda: True,
        should_yield: Callable[[], bool] = lambda: False,
        done_before: int = 0,
    ) -> int:
        """The text pass of `index` on its own (run after `index(read_text=False)`): an app runs it as
        background work that returns, the photo in hand finished, as soon as should_yield() says other
        work waits; a later call goes on with what is left. Returns how many photos were read."""
        with self._writer_lock("reading text"), self._backed_up(WATCHER_INTERVAL_S):
            read = ocr.read_pending(
                self.store,
                progress=progress,
                cancel=cancel,
                pause=pause,
                enabled=enabled,
                should_yield=should_yield,
                done_before=done_before,
            )
            # The part that ends the pass embeds the text its earlier parts read too; a part that steps aside
            # returns at once (indexing, which it steps aside for, embeds pending captions anyway).
            if not should_yield() and not (cancel and cancel.is_set()):
                self._indexer().encode_captions()
            return read

    def _scopes_for(self, paths: Iterable[str]) -> list[Scope]:
        folders = sorted(self.store.folders(), key=lambda f: -len(f[1]))
        scopes: dict[str, Scope] = {}
        for raw in paths:
            path = os.path.abspath(raw)
            owner = next((f for f in folders if path == f[1] or path.startswith(f[1].rstrip(os.sep) + os.sep)), None)
            if owner is not None:
                scopes.setdefault(path, Scope(path, owner[0]))
        # A scope inside another scope is covered by it.
        keep = [s for s in scopes.values() if not any(o != s.path and s.path.startswith(o + os.sep) for o in scopes)]
        return keep

    # -- captions and evaluation ---------------------------------------------------------------
    def import_captions(
        self,
        csv_path: str | os.PathLike,
        progress: Callable[[Progress], None] | None = None,
        pause: threading.Event | None = None,
    ) -> dict:
        """Add a caption CSV's rows (only for photos inside the watched folders); captions are embedded
        with the text tower for semantic search. Streams the file; progress gets rows read, then embedded.
        While `pause` is set the embedding waits between chunks (what is committed stays)."""
        inside = self._inside()
        with self._writer_lock("importing captions"), self._backed_up():
            self._remember_model()
            report = import_caption_csv(self.store, csv_path, inside, progress)
            self._indexer().encode_captions(progress, pause=pause)
        return report

    def _inside(self) -> tuple[str, ...]:
        return tuple(os.path.realpath(f.path) for f in self.folders())

    def close(self) -> None:
        self.store.close()


def _not_writable(root: Path) -> bool:
    """An existing library whose folder or database this process cannot write (e.g. a read-only mount)."""
    database = root / DB_NAME
    if not database.exists():
        return False
    return not (os.access(root, os.W_OK) and os.access(database, os.W_OK))
