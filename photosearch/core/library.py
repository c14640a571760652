"""The public face of the core: one object per library, used by the command line and the desktop app.

Reads (search, status) may run on any thread; writes (index, import, folders) take the library's
writer lock, so one process and one thread write at a time. The model is loaded on first need and kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from photosearch.core import duplicates, ocr, quant_check
from photosearch.core.backup import WATCHER_INTERVAL_S, backup_quietly
from photosearch.core.browse import Month
from photosearch.core.caption_files import read_caption_csv
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
from photosearch.core.filters import Filters
from photosearch.core.fsnames import from_db
from photosearch.core.fusion import mix_vectors
from photosearch.core.images import ImageError, open_query_image
from photosearch.core.indexer import Indexer
from photosearch.core.keywords import backfill_keywords
from photosearch.core.lock import writer_lock
from photosearch.core.paths import library_dir
from photosearch.core.query import parse_query
from photosearch.core.scanner import Scope
from photosearch.core.search import SearchEngine, combine_query
from photosearch.core.store import DB_NAME, Store
from photosearch.core.thumbnails import ThumbnailCache
from photosearch.core.types import CaptionResult, IndexSummary, Progress, SearchResult

ImageSource = str | os.PathLike | bytes | Image.Image
EVAL_BATCH = 256  # captions per text-tower batch in evaluate(): bounded memory (issue 13)


@dataclass(frozen=True)
class Folder:
    path: str
    online: bool
    photos: int


class Library:
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
        counts = dict(self.store.query("SELECT folder_id, COUNT(*) FROM photos GROUP BY folder_id"))
        return [Folder(path, online, counts.get(fid, 0)) for fid, path, online in self.store.folders()]

    def add_folder(self, path: str | os.PathLike) -> str:
        folder = Path(path).expanduser()
        if not folder.exists():
            raise PhotoSearchError(f"no such folder: {folder}")
        if not folder.is_dir():
            raise PhotoSearchError(f"not a folder: {folder}")
        resolved = str(folder.resolve())
        if Path(resolved).is_relative_to(self.root):
            raise PhotoSearchError(f"{resolved} is inside the library's own folder and cannot be watched")
        with self._writer_lock("adding a folder"), self._backed_up(WATCHER_INTERVAL_S):
            self.store.add_folder(resolved)
        return resolved

    def remove_folder(self, path: str | os.PathLike) -> int:
        """Stop watching a folder and forget its photos (files on disk are untouched)."""
        target = str(Path(path).expanduser().resolve()) if os.path.exists(path) else str(path)
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
            summary = indexer.run(scopes, progress, cancel)
            ocr.after_index(self.store, indexer.encode_captions, ocr=read_text, progress=progress, cancel=cancel)
            return summary

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

    # -- search ------------------------------------------------------------------------------
    def text_vector(self, text: str) -> np.ndarray | None:
        parsed = parse_query(text)
        if parsed.empty:
            return None
        enc = self.encoder()
        texts = ([parsed.text] if parsed.text else []) + list(parsed.excluded)
        vectors = enc.encode_texts(texts)
        positive = vectors[0] if parsed.text else None
        excluded = vectors[1:] if parsed.text else vectors
        return combine_query(positive, excluded if len(excluded) else None)

    def image_vector(self, source: ImageSource) -> np.ndarray:
        """A query image: a library photo's stored vector when it has one, else encoded now."""
        if isinstance(source, str | os.PathLike):
            path = os.path.abspath(source)
            if not os.path.exists(path):
                raise PhotoSearchError(f"no such image: {source}")
            stored = self.engine().vector_for_path(path)
            if stored is not None:
                return stored / max(float(np.linalg.norm(stored)), 1e-12)
        try:
            image = source if isinstance(source, Image.Image) else open_query_image(source)
        except ImageError as exc:
            raise PhotoSearchError(f"cannot use that image as a query: {exc}") from None
        enc = self.encoder()
        return enc.encode_images(enc.preprocess(image.convert("RGB"))[None])[0]

    def search_text(
        self,
        text: str,
        k: int = 50,
        *,
        min_score: float | None = None,
        folder: str | None = None,
        include_offline: bool = True,
        filters: Filters | None = None,
        best: bool = False,
        sort: str = "relevance",
    ) -> list[SearchResult]:
        """Photos for a text: CLIP similarity fused with the words of captions, keywords and names."""
        vector = self.text_vector(text)
        if vector is None:
            return []
        filters = filters or Filters(folder=folder, include_offline=include_offline)
        return self.engine().search_fused(
            vector, parse_query(text), k, filters=filters, min_score=min_score, best=best, sort=sort
        )

    def search_image(
        self,
        source: ImageSource | list[ImageSource],
        k: int = 50,
        *,
        min_score: float | None = None,
        folder: str | None = None,
        include_offline: bool = True,
        filters: Filters | None = None,
        best: bool = False,
        sort: str = "relevance",
        plus: str | None = None,
        minus: Iterable[str] = (),
        minus_images: Iterable[ImageSource] = (),
        weight: float = 0.5,
    ) -> list[SearchResult]:
        """Photos like one or several images, optionally plus words and minus words or images.

        weight (0..1): how much the words count against the images (see fusion.mix_vectors).
        """
        sources = list(source) if isinstance(source, list | tuple) else [source]
        images = [self.image_vector(s) for s in sources]
        plus_vector = self.text_vector(plus) if plus and plus.strip() else None
        minus_texts = [m for m in minus if m and m.strip()]
        negatives = list(self.encoder().encode_texts(minus_texts)) if minus_texts else []
        negatives += [self.image_vector(s) for s in minus_images]
        vector = mix_vectors(images, plus_vector, negatives, weight)
        if vector is None:
            return []
        filters = filters or Filters(folder=folder, include_offline=include_offline)
        return self.engine().search_fused(vector, None, k, filters=filters, min_score=min_score, best=best, sort=sort)

    def browse(self, k: int = 100, offset: int = 0, *, filters: Filters | None = None) -> list[SearchResult]:
        """Every photo the filters allow, newest first by date taken (else file time); score None."""
        return self.engine().browse(k, offset, filters=filters)

    def months(self, filters: Filters | None = None) -> list[Month]:
        return self.engine().months(filters)

    def search_captions(
        self, text: str | None = None, image: ImageSource | None = None, k: int = 20, folder: str | None = None
    ) -> list[CaptionResult]:
        """Captions matching a text (CLIP text-text + verbatim words) or an image (CLIP image-text)."""
        if image is not None:
            return self.engine().search_captions(self.image_vector(image), k, None, folder)
        parsed = parse_query(text or "")
        vector = self.text_vector(text or "")
        if vector is None:
            return []
        return self.engine().search_captions(vector, k, parsed, folder)

    # -- captions and evaluation ---------------------------------------------------------------
    def import_captions(self, csv_path: str | os.PathLike, progress: Callable[[Progress], None] | None = None) -> dict:
        """Add a caption CSV's rows (only for photos inside the watched folders); captions are embedded
        with the text tower for semantic search. Streams the file; progress gets rows read, then embedded."""
        inside = self._inside()
        with self._writer_lock("importing captions"), self._backed_up():
            self._remember_model()
            report = import_caption_csv(self.store, csv_path, inside, progress)
            self._indexer().encode_captions(progress)
        return report

    def _inside(self) -> tuple[str, ...]:
        return tuple(os.path.realpath(f.path) for f in self.folders())

    def evaluate(
        self,
        csv_path: str | os.PathLike,
        ks: Iterable[int] = (1, 5, 10),
        progress: Callable[[int, int], None] | None = None,
    ) -> dict:
        """Text -> image Recall@K of a caption CSV's rows against this library (the seeds' evaluation).

        Captions are encoded and ranked EVAL_BATCH at a time, so memory stays bounded however long
        the CSV; progress(done, total) is called after each batch."""
        ks = sorted({int(k) for k in ks if int(k) > 0}) or [1, 5, 10]
        parsed = read_caption_csv(csv_path, self._inside())
        engine = self.engine()
        indexed = {from_db(p) for (p,) in self.store.query("SELECT path FROM photos WHERE state = 'indexed'")}
        pairs = [(p, t) for p, t in parsed.rows if p in indexed]
        hits = dict.fromkeys(ks, 0)
        for start in range(0, len(pairs), EVAL_BATCH):
            chunk = pairs[start : start + EVAL_BATCH]
            vectors = self.encoder().encode_texts([t for _, t in chunk])
            for (path, _), vector in zip(chunk, vectors, strict=True):
                ranked = [r.path for r in engine.search(vector, max(ks))]
                for k in ks:
                    hits[k] += path in ranked[:k]
            if progress is not None:
                progress(start + len(chunk), len(pairs))
        out: dict = {"queries": len(pairs), "skipped_rows": len(parsed.rows) - len(pairs)}
        for k in ks:
            out[f"recall@{k}"] = hits[k] / len(pairs) if pairs else 0.0
        return out

    # -- information -------------------------------------------------------------------------
    def status(self) -> dict:
        counts = dict(self.store.query("SELECT state, COUNT(*) FROM photos WHERE offline = 0 GROUP BY state"))
        (offline,) = self.store.query("SELECT COUNT(*) FROM photos WHERE offline = 1")[0]
        (missing,) = self.store.query(
            "SELECT COUNT(*) FROM photos p WHERE p.offline = 0 AND p.state = 'indexed' AND NOT EXISTS "
            "(SELECT 1 FROM embeddings e WHERE e.fingerprint = p.fingerprint AND e.model_id = ?)",
            (self.model_id,),
        )[0]
        (captions,) = self.store.query("SELECT COUNT(*) FROM captions")[0]
        (captions_pending,) = self.store.query(
            "SELECT COUNT(*) FROM captions c WHERE NOT EXISTS (SELECT 1 FROM caption_embeddings e "
            "WHERE e.caption_id = c.id AND e.model_id = ?)",
            (self.model_id,),
        )[0]
        problems = self.store.query("SELECT COUNT(*) FROM scan_problems")[0][0] if self._has_scan_problems() else 0
        try:
            device = resolve_device(self.device)
        except PhotoSearchError as exc:
            device = f"unavailable ({exc})"
        encoder = self._encoder
        return {
            "library": str(self.root),
            "model": self.spec.describe(),
            "model_id": self.model_id,
            "device": device,
            "backend": self.backend_name,
            "quantization": getattr(encoder, "quant_check", None) or self.quant_verdict(),
            "folders": [{"path": f.path, "online": f.online, "photos": f.photos} for f in self.folders()],
            "photos": {
                "indexed": counts.get("indexed", 0) - missing,
                "skipped": counts.get("skipped", 0) + problems,
                "offline": offline,
                "pending": counts.get("pending", 0) + missing,
            },
            "captions": captions,
            "captions_pending": captions_pending,  # not embedded yet: the next index or import resumes them
            "ocr": ocr.counts(self.store),
        }

    def duplicates(self, similarity: float | None = None) -> list[duplicates.DuplicateGroup]:
        """Groups of exact copies, near-identical photos and (given a CLIP cosine) similar shots."""
        return duplicates.find_groups(self.store, self.model_id, similarity=similarity)

    def move_to_trash(self, paths: list[str]) -> list[tuple[str, str]]:
        """Send photos to the system trash (never deleted outright) and drop them from the index.
        Returns (path, problem) for each one that stayed."""
        if self.readonly:
            raise PhotoSearchError(f"the library at {self.root} is read-only; it can be searched but not changed")
        problems = duplicates.trash(list(paths), [f.path for f in self.folders()])
        self.apply_changes(paths, read_text=False)
        return problems

    def _has_scan_problems(self) -> bool:
        # A read-only library made by an older version may predate the table (it can't be migrated).
        return bool(self.store.query("SELECT 1 FROM sqlite_master WHERE name = 'scan_problems'"))

    def skipped(self) -> list[dict]:
        sql = "SELECT path, reason FROM photos WHERE state = 'skipped'"
        if self._has_scan_problems():
            sql += " UNION ALL SELECT path, reason FROM scan_problems"
        rows = self.store.query(sql + " ORDER BY path")
        return [{"path": from_db(p), "reason": r} for p, r in rows]

    def photo_details(self, path: str) -> dict | None:
        rows = self.store.query(
            "SELECT id, path, size, mtime_ns, fingerprint, width, height, taken, state, reason, offline "
            "FROM photos WHERE path = ?",
            (path,),
        )
        if not rows:
            return None
        keys = (
            "id",
            "path",
            "size",
            "mtime_ns",
            "fingerprint",
            "width",
            "height",
            "taken",
            "state",
            "reason",
            "offline",
        )
        details = dict(zip(keys, rows[0], strict=True))
        details["path"] = from_db(details["path"])
        details["captions"] = [
            {"source": s, "text": t}
            for s, t in self.store.query("SELECT source, text FROM captions WHERE path = ?", (path,))
        ]
        return details

    def thumbnail(self, path: str, fingerprint: str | None = None) -> Path | None:
        """The cached thumbnail of a library photo, made on demand if the cache lost it."""
        if not fingerprint:
            rows = self.store.query("SELECT fingerprint FROM photos WHERE path = ?", (path,))
            fingerprint = rows[0][0] if rows else None
        if not fingerprint:
            return None
        return self.thumbs.ensure(path, fingerprint)

    def close(self) -> None:
        self.store.close()


def _not_writable(root: Path) -> bool:
    """An existing library whose folder or database this process cannot write (e.g. a read-only mount)."""
    database = root / DB_NAME
    if not database.exists():
        return False
    return not (os.access(root, os.W_OK) and os.access(database, os.W_OK))
