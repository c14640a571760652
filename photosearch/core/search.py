"""Ranked search over the store: photos by vector, captions by vector fused with FTS5 word matches.

The engine keeps the current model's photo vectors in RAM (float16) and reloads only what changed
since its last look at the database, so searches keep working while the indexer commits batches.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass

import numpy as np

from photosearch.core.query import Query, fts_literal
from photosearch.core.store import Store, blob_to_vectors
from photosearch.core.types import CaptionResult, SearchResult
from photosearch.core.vector_index import VectorIndex

CAPTION_SOURCE_ORDER = ("csv", "sidecar", "xmp", "iptc", "exif", "png", "comment")
EXCLUDE_WEIGHT = 0.5  # how hard a -term pushes the query vector away
_CAPTION_CHUNK = 65536


@dataclass
class _Photos:
    """Columns of the photos table that search needs, as arrays (one row per photo)."""

    ids: np.ndarray
    paths: list[str]
    fingerprints: list[str | None]
    folder_ids: np.ndarray
    offline: np.ndarray
    vector_ids: np.ndarray  # embeddings.id for the current model, -1 when not encoded yet
    width: np.ndarray
    height: np.ndarray
    taken: list[float | None]


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
        self._by_vector: dict[int, list[int]] = {}
        self._allowed_cache: dict[tuple[str | None, bool], np.ndarray | None] = {}
        self._captions_version: tuple[int, int] | None = None
        self._caption_ids = np.zeros(0, dtype=np.int64)
        self._caption_vectors = np.zeros((0, 0), dtype=np.float16)

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
                self._index = None
        if self._index is None:
            self._last_vector_id, self._vector_count = 0, 0
        rows = self.store.query(
            "SELECT id, vector FROM embeddings WHERE model_id = ? AND id > ? ORDER BY id",
            (self.model_id, self._last_vector_id),
        )
        if not rows:
            return
        dim = len(rows[0][1]) // 2
        if self._index is None or self._dim != dim:
            self._dim = dim
            self._index = VectorIndex(dim)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        self._index.add(ids, blob_to_vectors([r[1] for r in rows], dim))
        self._last_vector_id = int(ids[-1])
        self._vector_count += len(rows)

    def _load_photos(self) -> None:
        rows = self.store.query(
            "SELECT p.id, p.path, p.fingerprint, p.folder_id, p.offline, COALESCE(e.id, -1), "
            "COALESCE(p.width, 0), COALESCE(p.height, 0), p.taken FROM photos p "
            "LEFT JOIN embeddings e ON e.fingerprint = p.fingerprint AND e.model_id = ? "
            "WHERE p.state = 'indexed' ORDER BY p.id",
            (self.model_id,),
        )
        cols = list(zip(*rows, strict=True)) if rows else [()] * 9
        photos = _Photos(
            ids=np.asarray(cols[0], dtype=np.int64),
            paths=list(cols[1]),
            fingerprints=list(cols[2]),
            folder_ids=np.asarray(cols[3], dtype=np.int64),
            offline=np.asarray(cols[4], dtype=bool),
            vector_ids=np.asarray(cols[5], dtype=np.int64),
            width=np.asarray(cols[6], dtype=np.int64),
            height=np.asarray(cols[7], dtype=np.int64),
            taken=list(cols[8]),
        )
        by_vector: dict[int, list[int]] = {}
        for row, vid in enumerate(photos.vector_ids.tolist()):
            if vid >= 0:
                by_vector.setdefault(vid, []).append(row)
        self._photos, self._by_vector = photos, by_vector
        self._allowed_cache = {}

    @property
    def size(self) -> int:
        self.refresh()
        return len(self._by_vector)

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
            allowed = self._allowed_vectors(photos, folder, include_offline)
            if allowed is not None and len(allowed) == 0:
                return []
            # Copies share one vector, so ask for a few extra vectors to fill k photos.
            ids, scores = index.search(np.asarray(query, dtype=np.float32), k, allowed=allowed, min_score=min_score)
            results: list[SearchResult] = []
            for vid, score in zip(ids.tolist(), scores.tolist(), strict=True):
                for row in self._by_vector.get(vid, ()):
                    if allowed_row(photos, row, folder, include_offline):
                        results.append(_result(photos, row, score))
                if len(results) >= k:
                    break
        return self._with_captions(results[:k])

    def _allowed_vectors(self, photos: _Photos, folder: str | None, include_offline: bool) -> np.ndarray | None:
        """Vector ids a query may return (None: all of them); cached until the library changes."""
        key = (folder, include_offline)
        if key in self._allowed_cache:
            return self._allowed_cache[key]
        mask = photos.vector_ids >= 0
        filtered = False
        if not include_offline and photos.offline.any():
            mask &= ~photos.offline
            filtered = True
        if folder:
            mask &= np.fromiter((_under(p, folder) for p in photos.paths), dtype=bool, count=len(photos.paths))
            filtered = True
        # Unfiltered and every vector belongs to a live photo (the usual case): no selector at all.
        every_vector_live = self._index is not None and len(self._by_vector) == len(self._index)
        allowed = None if not filtered and every_vector_live else np.sort(np.unique(photos.vector_ids[mask]))
        self._allowed_cache[key] = allowed
        return allowed

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
        for path, source, text in rows:
            key = rank.get(source, len(rank))
            if path not in chosen or key < chosen[path][0]:
                chosen[path] = (key, text)
        return {p: t for p, (_, t) in chosen.items()}

    # -- captions ----------------------------------------------------------------------------
    def _refresh_captions(self) -> None:
        version = self.store.data_version()
        if version == self._captions_version:
            return
        rows = self.store.query(
            "SELECT caption_id, vector FROM caption_embeddings WHERE model_id = ? ORDER BY caption_id",
            (self.model_id,),
        )
        dim = len(rows[0][1]) // 2 if rows else 0
        self._caption_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        self._caption_vectors = blob_to_vectors([r[1] for r in rows], dim)
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
        similarity = dict(zip(ids.tolist(), sims.tolist(), strict=True))
        lexical, matched = self._lexical(parsed) if parsed else ({}, {})
        banned = self._excluded(parsed) if parsed else set()
        wide = max(k * 5, 50)
        top = ids[np.argsort(-sims)[:wide]].tolist() if len(ids) else []
        candidates = (set(top) | set(lexical)) - banned
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
                if row is None or (folder and not _under(row[1], folder)):
                    continue
                out.append(
                    CaptionResult(
                        path=row[1],
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


def allowed_row(photos: _Photos, row: int, folder: str | None, include_offline: bool) -> bool:
    if not include_offline and photos.offline[row]:
        return False
    return not folder or _under(photos.paths[row], folder)


def _under(path: str, folder: str) -> bool:
    folder = folder.rstrip(os.sep)
    return path == folder or path.startswith(folder + os.sep)


def _result(photos: _Photos, row: int, score: float) -> SearchResult:
    return SearchResult(
        path=photos.paths[row],
        score=float(score),
        photo_id=int(photos.ids[row]),
        fingerprint=photos.fingerprints[row] or "",
        width=int(photos.width[row]),
        height=int(photos.height[row]),
        taken=photos.taken[row],
        offline=bool(photos.offline[row]),
    )


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
