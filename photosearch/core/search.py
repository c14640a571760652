"""Ranked search over the store: photos by vector, captions by vector fused with FTS5 word matches.

The engine keeps the current model's photo vectors in RAM (float16) and reloads only what changed
since its last look at the database, so searches keep working while the indexer commits batches.
It is assembled from mixins: caption search (caption_search.py), one fused ranking of pixels and
words (fused_search.py) and browsing by date (browse.py); filters are in filters.py, the photo
columns and result building shared by both rankings in photo_results.py.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import threading
from pathlib import Path

import numpy as np

from photosearch.core.browse import BrowseMixin
from photosearch.core.caption_search import CaptionSearchMixin
from photosearch.core.filters import Filters
from photosearch.core.fused_search import FusedSearchMixin
from photosearch.core.photo_results import PhotoColumns, build_results, hide_offline_twins, offline_twins, pixel_hits
from photosearch.core.snapshot_files import SnapshotBusy, mismatched
from photosearch.core.store import Store, blob_to_vectors
from photosearch.core.types import SearchResult
from photosearch.core.vector_index import SnapshotError, VectorIndex

EXCLUDE_WEIGHT = 0.5  # how hard a -term pushes the query vector away

# The built vector index is cached in the library folder so a restart skips the SQLite fetch
# and the IVF training; deleting the folder only costs time. After the first full build a new
# snapshot is written once the vectors added since the last one reach both limits below: a
# stale snapshot only costs fetching the missing rows at start-up (~5 us each), while a save
# rewrites the whole index (~1 GB at 1M photos), so saves are spaced geometrically.
SNAPSHOT_DIR = "search-cache"
SNAPSHOT_MIN_ADDED = 1_000
SNAPSHOT_MIN_SHARE = 0.05

log = logging.getLogger(__name__)


def snapshot_folder(root: str | os.PathLike, model_id: str) -> Path:
    """Where a model's index snapshot lives: a readable, collision-free folder name per model id."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._-")[-60:] or "model"
    digest = hashlib.sha1(model_id.encode()).hexdigest()[:10]
    return Path(root) / SNAPSHOT_DIR / f"{safe}-{digest}"


class SearchEngine(CaptionSearchMixin, FusedSearchMixin, BrowseMixin):
    def __init__(self, store: Store, model_id: str, dim: int | None = None) -> None:
        self.store = store
        self.model_id = model_id
        self._lock = threading.RLock()
        self._version: tuple[int, int] | None = None
        self._index: VectorIndex | None = None
        self._dim = dim
        self._last_vector_id = 0
        self._vector_count = 0
        self._photos: PhotoColumns | None = None
        self._allowed_cache: dict[Filters, tuple[np.ndarray | None, np.ndarray | None]] = {}
        self._has_names: bool | None = None
        self._anchors: dict = {}  # browse.py: Filters -> where pages of that order start
        self._browse_lock = threading.Lock()
        self._snapshot_tried = False  # a snapshot is only worth reading on the first load
        self._saved: tuple[int, int] | None = None  # (last id, count) of the snapshot this index extends
        self._save_failed = False

    # -- loading -----------------------------------------------------------------------------
    def refresh(self) -> None:
        with self._lock:
            version = self.store.data_version()
            if version == self._version:
                return
            self._load_vectors()
            self._load_photos()
            self._version = version

    def _load_vectors(self) -> None:
        """Append vectors committed since the last look; rebuild only if some were deleted."""
        if self._index is not None:
            (still_there,) = self.store.query(
                "SELECT COUNT(*) FROM embeddings WHERE model_id = ? AND id <= ?", (self.model_id, self._last_vector_id)
            )[0]
            if still_there != self._vector_count:
                self._index, self._saved = None, None
        if self._index is None:
            self._last_vector_id, self._vector_count = 0, 0
            if not self._snapshot_tried:
                self._snapshot_tried = True
                self._load_snapshot()
        rows = self.store.query(
            "SELECT id, vector FROM embeddings WHERE model_id = ? AND id > ? ORDER BY id",
            (self.model_id, self._last_vector_id),
        )
        if rows:
            dim = len(rows[0][1]) // 2
            if self._index is None or self._dim != dim:
                self._dim = dim
                self._index = VectorIndex(dim)
                self._last_vector_id, self._vector_count, self._saved = 0, 0, None
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            self._index.add(ids, blob_to_vectors([r[1] for r in rows], dim))
            self._last_vector_id = int(ids[-1])
            self._vector_count += len(rows)
            del rows
        self._maybe_save_snapshot()

    # -- index snapshot ----------------------------------------------------------------------
    def _snapshot_folder(self) -> Path:
        return snapshot_folder(self.store.root, self.model_id)

    def _row_check(self, vector_id: int) -> str | None:
        """A digest of one embeddings row, so a snapshot never outlives a rebuilt database."""
        rows = self.store.query(
            "SELECT fingerprint, vector FROM embeddings WHERE id = ? AND model_id = ?", (vector_id, self.model_id)
        )
        if not rows:
            return None
        return hashlib.sha1(rows[0][0].encode() + b"\0" + bytes(rows[0][1])).hexdigest()

    def _snapshot_mismatch(self, folder: Path) -> str | None:
        """Why the saved index cannot stand for the embeddings table (None: it can, as a prefix)."""
        info = VectorIndex.snapshot_info(folder)
        extra = info["extra"]
        last, count, dim = int(extra["last_vector_id"]), int(extra["vector_count"]), int(info["dim"])
        if extra.get("model_id") != self.model_id or count <= 0 or int(info["rows"]) != count:
            return "made for another model or empty"
        if self._dim is not None and dim != self._dim:
            return "another dimension"
        # Any deleted vector at or below the saved id lowers the count: then the snapshot is stale.
        (still_there,) = self.store.query(
            "SELECT COUNT(*) FROM embeddings WHERE model_id = ? AND id <= ?", (self.model_id, last)
        )[0]
        if still_there != count or self._row_check(last) != extra.get("check"):
            return "stale: the database changed since it was saved"
        bad = mismatched(folder, info.get("checksums") or {})
        return f"file {bad} is damaged" if bad else None

    def discard_bad_snapshot(self) -> str | None:
        """Delete the saved index if its files are damaged (the next search rebuilds it from SQLite).
        A merely stale one is left: loading ignores it, and the rebuilt index replaces it."""
        folder = self._snapshot_folder()
        if not folder.is_dir() or self.store.readonly:
            return None
        try:
            bad = mismatched(folder, VectorIndex.snapshot_info(folder).get("checksums") or {})
            reason = f"file {bad} is damaged" if bad else None
        except (SnapshotError, OSError) as exc:
            reason = str(exc)
        if reason:
            log.info("discarding the search index snapshot in %s: %s", folder, reason)
            shutil.rmtree(folder, ignore_errors=True)
        return reason

    def _load_snapshot(self) -> None:
        """Start from the saved index if it still describes a prefix of the embeddings table."""
        folder = self._snapshot_folder()
        if not folder.is_dir():
            return
        try:
            reason = self._snapshot_mismatch(folder)
            if reason:
                log.info("ignoring the search index snapshot in %s: %s", folder, reason)
                return
            info = VectorIndex.snapshot_info(folder)
            index = VectorIndex.load(folder)
            reason = self._spot_check(index, int(info["extra"]["last_vector_id"]))
        except (SnapshotError, OSError, KeyError, TypeError, ValueError) as exc:
            reason = str(exc)
        if reason:
            log.info("ignoring the search index snapshot in %s: %s", folder, reason)
            return
        extra = info["extra"]
        self._index, self._dim = index, int(info["dim"])
        self._last_vector_id, self._vector_count = int(extra["last_vector_id"]), int(extra["vector_count"])
        self._saved = (self._last_vector_id, self._vector_count)

    def _spot_check(self, index: VectorIndex, last: int, samples: int = 8) -> str | None:
        """A few stored vectors must find themselves in the loaded index (ids and vectors still agree)."""
        rows = self.store.query(
            "SELECT e.id, e.vector FROM embeddings e WHERE e.model_id = ? AND e.id <= ? ORDER BY random() LIMIT ?",
            (self.model_id, last, samples),
        )
        for vector_id, blob in rows:
            vector = blob_to_vectors([blob], len(blob) // 2)[0].astype(np.float32)
            ids, scores = index.search(vector, 5)
            if vector_id not in ids.tolist() or not len(scores) or abs(float(scores[0]) - 1.0) > 0.05:
                return f"vector {vector_id} is not where the index says"
        return None

    def _maybe_save_snapshot(self) -> None:
        """Save the index when it differs enough from the saved one; never fails a search."""
        index = self._index
        if index is None or self._vector_count == 0 or self.store.readonly or self._save_failed:
            return
        if self._saved is not None:
            added = self._vector_count - self._saved[1]
            if added <= 0 or added < max(SNAPSHOT_MIN_ADDED, SNAPSHOT_MIN_SHARE * self._saved[1]):
                return
        extra = {
            "model_id": self.model_id,
            "last_vector_id": self._last_vector_id,
            "vector_count": self._vector_count,
            "check": self._row_check(self._last_vector_id),
        }
        folder = self._snapshot_folder()
        try:
            index.save(folder, extra)
        except SnapshotBusy:
            return  # another process is saving it right now: one writer at a time
        except (OSError, RuntimeError) as exc:  # faiss reports write errors as RuntimeError
            log.warning("could not save the search index snapshot to %s: %s", folder, exc)
            self._save_failed = True  # e.g. a full disk: do not retry on every refresh
            return
        self._saved = (self._last_vector_id, self._vector_count)

    def _load_photos(self) -> None:
        rows = self.store.query(
            "SELECT p.id, p.offline, COALESCE(e.id, -1), COALESCE(p.width, 0), COALESCE(p.height, 0), "
            "CAST(COALESCE(p.taken, p.mtime_ns / 1e9) AS INTEGER) "
            "FROM photos p LEFT JOIN embeddings e ON e.fingerprint = p.fingerprint AND e.model_id = ? "
            "WHERE p.state = 'indexed' ORDER BY p.id",
            (self.model_id,),
        )
        cols = np.array(rows, dtype=np.int64).reshape(-1, 6).T
        del rows
        vector_ids = np.ascontiguousarray(cols[2])
        by_vector = np.argsort(vector_ids, kind="stable")
        sorted_vids = vector_ids[by_vector]
        encoded = sorted_vids[np.searchsorted(sorted_vids, 0) :]
        distinct = int(np.count_nonzero(np.diff(encoded))) + 1 if len(encoded) else 0
        offline = cols[1].astype(bool)
        self._photos = PhotoColumns(
            ids=np.ascontiguousarray(cols[0]),
            offline=offline,
            vector_ids=vector_ids,
            width=np.ascontiguousarray(cols[3]),
            height=np.ascontiguousarray(cols[4]),
            dates=np.ascontiguousarray(cols[5]),
            by_vector=by_vector,
            sorted_vector_ids=sorted_vids,
            vector_count=distinct,
            offline_twins=offline_twins(offline, vector_ids),
        )
        self._allowed_cache = {}

    @property
    def size(self) -> int:
        self.refresh()
        return self._photos.vector_count if self._photos is not None else 0

    def vector_for_path(self, path: str) -> np.ndarray | None:
        """The stored vector of a library photo (so 'find similar' needs no model at all)."""
        rows = self.store.query(
            "SELECT e.vector FROM photos p JOIN embeddings e ON e.fingerprint = p.fingerprint "
            "AND e.model_id = ? WHERE p.path = ?",
            (self.model_id, path),
        )
        if not rows:
            return None
        return blob_to_vectors([rows[0][0]], len(rows[0][0]) // 2)[0].astype(np.float32)

    # -- photos ------------------------------------------------------------------------------
    def search(
        self,
        query: np.ndarray,
        k: int = 50,
        *,
        min_score: float | None = None,
        folder: str | None = None,
        include_offline: bool = True,
        filters: Filters | None = None,
    ) -> list[SearchResult]:
        """Photos ranked by cosine to a normalised query vector alone, best first."""
        filters = filters or Filters(folder=folder, include_offline=include_offline)
        self.refresh()
        with self._lock:
            photos, index = self._photos, self._index
            if photos is None or index is None or len(photos.ids) == 0 or k <= 0:
                return []
            allowed, row_ok = self._allowed_vectors(photos, filters)
            hits = pixel_hits(photos, index, query, k, allowed, row_ok, min_score)
            extras = {row: (score, ("image",)) for row, score in hits}
            return build_results(self.store, photos, hits, extras, self.best_captions)

    def _allowed_vectors(self, photos: PhotoColumns, filters: Filters) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Vector ids a query may return and the photo rows it may show (None: all of them).

        Cached until the library changes.
        """
        if filters in self._allowed_cache:
            return self._allowed_cache[filters]
        rows_ok = np.ones(len(photos.ids), dtype=bool)
        filtered = False
        if not filters.include_offline and photos.offline.any():
            rows_ok &= ~photos.offline
            filtered = True
        if filters.folder:
            rows_ok &= np.isin(photos.ids, self._photo_ids_under(filters.folder), assume_unique=True)
            filtered = True
        if filters.after is not None:
            rows_ok &= photos.dates >= filters.after
            filtered = True
        if filters.before is not None:
            rows_ok &= photos.dates < filters.before
            filtered = True
        # Unfiltered and every vector belongs to a live photo (the usual case): no selector at all.
        every_vector_live = self._index is not None and photos.vector_count == len(self._index)
        if not filtered and every_vector_live:
            allowed = None
        else:
            allowed = np.unique(photos.vector_ids[rows_ok & (photos.vector_ids >= 0)])
        # After `allowed`: an offline twin's vector stays allowed for the online row that shows it.
        hidden = hide_offline_twins(photos, rows_ok)
        result = (allowed, rows_ok if filtered or hidden else None)
        if len(self._allowed_cache) > 32:  # filters typed one after another: keep memory bounded
            self._allowed_cache.clear()
        self._allowed_cache[filters] = result
        return result

    def _photo_ids_under(self, folder: str) -> np.ndarray:
        """Ids of the photos at or below a folder, by a range scan of the path index."""
        folder = folder.rstrip(os.sep)
        prefix = folder + os.sep
        upper = folder + chr(ord(os.sep) + 1)  # the first string after every path below the prefix
        rows = self.store.query(
            "SELECT id FROM photos WHERE path = ? OR (path >= ? AND path < ?)", (folder, prefix, upper)
        )
        return np.unique(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))


def combine_query(positive: np.ndarray | None, excluded: np.ndarray | None) -> np.ndarray | None:
    """One query vector: the positive meaning, pushed away from the mean of the excluded terms."""
    if positive is None and excluded is None:
        return None
    vector = np.zeros_like(excluded[0] if positive is None else positive, dtype=np.float32)
    if positive is not None:
        vector += positive
    if excluded is not None and len(excluded):
        vector -= EXCLUDE_WEIGHT * excluded.mean(axis=0)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None
