"""Ranked search over the store: photos by vector, captions by vector fused with FTS5 word matches.

The engine keeps the current model's photo vectors in RAM (float16) and reloads only what changed
since its last look at the database, so searches keep working while the indexer commits batches.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from photosearch.core.fsnames import from_db
from photosearch.core.query import Query, fts_literal
from photosearch.core.snapshot_files import SnapshotBusy, mismatched
from photosearch.core.store import Store, blob_to_vectors
from photosearch.core.types import CaptionResult, SearchResult
from photosearch.core.vector_index import SnapshotError, VectorIndex

CAPTION_SOURCE_ORDER = ("csv", "sidecar", "xmp", "iptc", "exif", "png", "comment")
EXCLUDE_WEIGHT = 0.5  # how hard a -term pushes the query vector away
_CAPTION_CHUNK = 65536
_ID_CHUNK = 500  # ids per "WHERE id IN (...)": well below SQLite's variable limit

# The built vector index is cached in the library folder so a restart skips the SQLite fetch
# and the IVF training; deleting the folder only costs time. After the first full build a new
# snapshot is written once the vectors added since the last one reach both limits below: a
# stale snapshot only costs fetching the missing rows at start-up (~5 us each), while a save
# rewrites the whole index (~1 GB at 1M photos), so saves are spaced geometrically.
SNAPSHOT_DIR = "search-cache"
SNAPSHOT_MIN_ADDED = 1_000
SNAPSHOT_MIN_SHARE = 0.05

log = logging.getLogger(__name__)


@dataclass
class _Photos:
    """Columns of the photos table that search needs, as integer arrays (one row per photo, by id).

    Paths, fingerprints and dates are fetched for the few photos a search returns.
    """

    ids: np.ndarray
    offline: np.ndarray
    vector_ids: np.ndarray  # embeddings.id for the current model, -1 when not encoded yet
    width: np.ndarray
    height: np.ndarray
    by_vector: np.ndarray  # row numbers ordered by vector id (rows of one vector stay in order)
    sorted_vector_ids: np.ndarray  # vector_ids[by_vector]
    vector_count: int  # distinct vector ids >= 0


def snapshot_folder(root: str | os.PathLike, model_id: str) -> Path:
    """Where a model's index snapshot lives: a readable, collision-free folder name per model id."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._-")[-60:] or "model"
    digest = hashlib.sha1(model_id.encode()).hexdigest()[:10]
    return Path(root) / SNAPSHOT_DIR / f"{safe}-{digest}"


class SearchEngine:
    def __init__(self, store: Store, model_id: str, dim: int | None = None) -> None:
        self.store = store
        self.model_id = model_id
        self._lock = threading.RLock()
        self._version: tuple[int, int] | None = None
        self._index: VectorIndex | None = None
        self._dim = dim
        self._last_vector_id = 0
        self._vector_count = 0
        self._photos: _Photos | None = None
        self._allowed_cache: dict[tuple[str | None, bool], tuple[np.ndarray | None, np.ndarray | None]] = {}
        self._captions_version: tuple[int, int] | None = None
        self._caption_ids = np.zeros(0, dtype=np.int64)
        self._caption_vectors = np.zeros((0, 0), dtype=np.float16)
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
            "SELECT p.id, p.offline, COALESCE(e.id, -1), COALESCE(p.width, 0), COALESCE(p.height, 0) "
            "FROM photos p LEFT JOIN embeddings e ON e.fingerprint = p.fingerprint AND e.model_id = ? "
            "WHERE p.state = 'indexed' ORDER BY p.id",
            (self.model_id,),
        )
        cols = np.array(rows, dtype=np.int64).reshape(-1, 5).T
        del rows
        vector_ids = np.ascontiguousarray(cols[2])
        by_vector = np.argsort(vector_ids, kind="stable")
        sorted_vids = vector_ids[by_vector]
        encoded = sorted_vids[np.searchsorted(sorted_vids, 0) :]
        distinct = int(np.count_nonzero(np.diff(encoded))) + 1 if len(encoded) else 0
        self._photos = _Photos(
            ids=np.ascontiguousarray(cols[0]),
            offline=cols[1].astype(bool),
            vector_ids=vector_ids,
            width=np.ascontiguousarray(cols[3]),
            height=np.ascontiguousarray(cols[4]),
            by_vector=by_vector,
            sorted_vector_ids=sorted_vids,
            vector_count=distinct,
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
    ) -> list[SearchResult]:
        """Photos ranked by cosine to a normalised query vector, best first."""
        self.refresh()
        with self._lock:
            photos, index = self._photos, self._index
            if photos is None or index is None or len(photos.ids) == 0 or k <= 0:
                return []
            allowed, row_ok = self._allowed_vectors(photos, folder, include_offline)
            if allowed is not None and len(allowed) == 0:
                return []
            # Copies share one vector, so ask for a few extra vectors to fill k photos.
            ids, scores = index.search(np.asarray(query, dtype=np.float32), k, allowed=allowed, min_score=min_score)
            lo = np.searchsorted(photos.sorted_vector_ids, ids, side="left").tolist()
            hi = np.searchsorted(photos.sorted_vector_ids, ids, side="right").tolist()
            hits: list[tuple[int, float]] = []
            for first, last, score in zip(lo, hi, scores.tolist(), strict=True):
                for row in photos.by_vector[first:last].tolist():
                    if row_ok is None or row_ok[row]:
                        hits.append((row, score))
                if len(hits) >= k:
                    break
            results = self._results(photos, hits[:k])
        return self._with_captions(results)

    def _results(self, photos: _Photos, hits: list[tuple[int, float]]) -> list[SearchResult]:
        """SearchResults for (row, score) hits; path, fingerprint and date come from the database."""
        photo_ids = [int(photos.ids[row]) for row, _ in hits]
        details: dict[int, tuple] = {}
        for start in range(0, len(photo_ids), _ID_CHUNK):
            chunk = photo_ids[start : start + _ID_CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self.store.query(
                f"SELECT id, path, fingerprint, taken FROM photos WHERE id IN ({marks})", chunk
            ):
                details[row[0]] = row
        results: list[SearchResult] = []
        for (row, score), photo_id in zip(hits, photo_ids, strict=True):
            found = details.get(photo_id)
            if found is None:  # deleted since the last refresh
                continue
            results.append(
                SearchResult(
                    path=from_db(found[1]),
                    score=float(score),
                    photo_id=photo_id,
                    fingerprint=found[2] or "",
                    width=int(photos.width[row]),
                    height=int(photos.height[row]),
                    taken=found[3],
                    offline=bool(photos.offline[row]),
                )
            )
        return results

    def _allowed_vectors(
        self, photos: _Photos, folder: str | None, include_offline: bool
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Vector ids a query may return and the photo rows it may show (None: all of them).

        Cached until the library changes.
        """
        key = (folder, include_offline)
        if key in self._allowed_cache:
            return self._allowed_cache[key]
        rows_ok = np.ones(len(photos.ids), dtype=bool)
        filtered = False
        if not include_offline and photos.offline.any():
            rows_ok &= ~photos.offline
            filtered = True
        if folder:
            rows_ok &= np.isin(photos.ids, self._photo_ids_under(folder), assume_unique=True)
            filtered = True
        # Unfiltered and every vector belongs to a live photo (the usual case): no selector at all.
        every_vector_live = self._index is not None and photos.vector_count == len(self._index)
        if not filtered and every_vector_live:
            allowed = None
        else:
            allowed = np.unique(photos.vector_ids[rows_ok & (photos.vector_ids >= 0)])
        result = (allowed, rows_ok if filtered else None)
        self._allowed_cache[key] = result
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

    def _with_captions(self, results: list[SearchResult]) -> list[SearchResult]:
        if not results:
            return results
        best = self.best_captions([r.path for r in results])
        return [SearchResult(**{**r.__dict__, "caption": best.get(r.path)}) if r.path in best else r for r in results]

    def best_captions(self, paths: list[str]) -> dict[str, str]:
        marks = ",".join("?" * len(paths))
        rows = self.store.query(f"SELECT path, source, text FROM captions WHERE path IN ({marks})", paths)
        rank = {s: i for i, s in enumerate(CAPTION_SOURCE_ORDER)}
        chosen: dict[str, tuple[int, str]] = {}
        for stored, source, text in rows:
            path = from_db(stored)
            key = rank.get(source, len(rank))
            if path not in chosen or key < chosen[path][0]:
                chosen[path] = (key, text)
        return {p: t for p, (_, t) in chosen.items()}

    # -- captions ----------------------------------------------------------------------------
    def _refresh_captions(self) -> None:
        """Append caption vectors committed since the last look (fetched in chunks, so the peak stays
        near the array itself); reload them all only when some at or below the last id went away."""
        version = self.store.data_version()
        if version == self._captions_version:
            return
        ids, vectors = self._caption_ids, self._caption_vectors
        last = int(ids[-1]) if len(ids) else 0
        if len(ids):
            (still_there,) = self.store.query(
                "SELECT COUNT(*) FROM caption_embeddings WHERE model_id = ? AND caption_id <= ?", (self.model_id, last)
            )[0]
            if still_there != len(ids):
                ids, vectors, last = np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float16), 0
        new_ids, new_vectors = [ids], [vectors] if len(ids) else []
        cursor = self.store.conn.execute(
            "SELECT caption_id, vector FROM caption_embeddings WHERE model_id = ? AND caption_id > ? "
            "ORDER BY caption_id",
            (self.model_id, last),
        )
        while rows := cursor.fetchmany(_CAPTION_CHUNK):
            dim = len(rows[0][1]) // 2
            new_ids.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
            new_vectors.append(blob_to_vectors([r[1] for r in rows], dim))
        if len(new_ids) > 1 or not len(ids):
            self._caption_ids = np.concatenate(new_ids) if len(new_ids) > 1 else new_ids[0]
            self._caption_vectors = np.concatenate(new_vectors) if new_vectors else np.zeros((0, 0), np.float16)
        else:
            self._caption_ids, self._caption_vectors = ids, vectors
        self._captions_version = version

    def caption_similarities(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            self._refresh_captions()
            ids, vectors = self._caption_ids, self._caption_vectors
        q = np.asarray(query, dtype=np.float32)
        sims = np.empty(len(ids), dtype=np.float32)
        for start in range(0, len(ids), _CAPTION_CHUNK):
            sims[start : start + _CAPTION_CHUNK] = vectors[start : start + _CAPTION_CHUNK].astype(np.float32) @ q
        return ids, sims

    def search_captions(
        self, query_vector: np.ndarray, k: int = 20, parsed: Query | None = None, folder: str | None = None
    ) -> list[CaptionResult]:
        """Captions by CLIP similarity, plus up to +1.0 for the query's words found verbatim (IDF-weighted)."""
        ids, sims = self.caption_similarities(query_vector)
        lexical, matched = self._lexical(parsed) if parsed else ({}, {})
        banned = self._excluded(parsed) if parsed else set()
        wide = min(max(k * 5, 50), len(ids))
        top = ids[np.argpartition(-sims, wide - 1)[:wide]].tolist() if wide else []
        candidates = (set(top) | set(lexical)) - banned
        similarity = _lookup(ids, sims, candidates)  # only the candidates', not a dict of every caption
        scored = sorted(((similarity.get(c, 0.0) + lexical.get(c, 0.0), c) for c in candidates), key=lambda t: -t[0])
        results = self._caption_results(scored, similarity, lexical, matched, folder, k)
        return results

    def _caption_results(self, scored, similarity, lexical, matched, folder, k) -> list[CaptionResult]:
        out: list[CaptionResult] = []
        for start in range(0, len(scored), 500):
            chunk = scored[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.store.query(
                f"SELECT c.id, c.path, c.source, c.text, p.id, p.fingerprint FROM captions c "
                f"LEFT JOIN photos p ON p.path = c.path WHERE c.id IN ({marks})",
                [c for _, c in chunk],
            )
            info = {r[0]: r for r in rows}
            for score, cid in chunk:
                row = info.get(cid)
                if row is None or (folder and not _under(from_db(row[1]), folder)):
                    continue
                out.append(
                    CaptionResult(
                        path=from_db(row[1]),
                        caption=row[3],
                        score=score,
                        source=row[2],
                        similarity=similarity.get(cid, 0.0),
                        lexical=lexical.get(cid, 0.0),
                        matched_terms=tuple(matched.get(cid, ())),
                        photo_id=row[4] or 0,
                        fingerprint=row[5] or "",
                    )
                )
                if len(out) >= k:
                    return out
        return out

    def _term_hits(self, term: str) -> set[int]:
        rows = self.store.query("SELECT rowid FROM captions_fts WHERE captions_fts MATCH ?", (fts_literal(term),))
        return {r[0] for r in rows}

    def _lexical(self, parsed: Query) -> tuple[dict[int, float], dict[int, list[str]]]:
        if not parsed.keywords:
            return {}, {}
        (total,) = self.store.query("SELECT COUNT(*) FROM captions")[0]
        hits = {t: self._term_hits(t) for t in parsed.keywords}
        idf = {t: math.log(1 + (total - len(h) + 0.5) / (len(h) + 0.5)) for t, h in hits.items()}
        weight = sum(idf.values()) or 1.0
        coverage: dict[int, float] = {}
        matched: dict[int, list[str]] = {}
        for term, rows in hits.items():
            for cid in rows:
                coverage[cid] = coverage.get(cid, 0.0) + idf[term] / weight
                matched.setdefault(cid, []).append(term)
        return coverage, matched

    def _excluded(self, parsed: Query) -> set[int]:
        banned: set[int] = set()
        for term in parsed.excluded:
            banned |= self._term_hits(term)
        return banned


def _lookup(ids: np.ndarray, values: np.ndarray, wanted: set[int]) -> dict[int, float]:
    """{id: value} for the wanted ids found in the sorted array ids."""
    if not wanted or not len(ids):
        return {}
    keys = np.fromiter(wanted, dtype=np.int64, count=len(wanted))
    pos = np.minimum(np.searchsorted(ids, keys), len(ids) - 1)
    found = ids[pos] == keys
    return dict(zip(keys[found].tolist(), values[pos[found]].tolist(), strict=True))


def _under(path: str, folder: str) -> bool:
    folder = folder.rstrip(os.sep)
    return path == folder or path.startswith(folder + os.sep)


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
