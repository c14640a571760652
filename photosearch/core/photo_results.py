"""The search engine's photo columns in RAM, and turning ranked photo rows into SearchResults.

Shared by the pixels-only search (search.py) and the fused ranking (fused_search.py): both find
(row, score) hits over the same arrays and build their results the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from photosearch.core.fsnames import from_db
from photosearch.core.fusion import clamp_cosines
from photosearch.core.store import Store
from photosearch.core.types import SearchResult
from photosearch.core.vector_index import VectorIndex

_ID_CHUNK = 500  # ids per "WHERE id IN (...)": well below SQLite's variable limit

# row -> (CLIP cosine, why) for each hit
Extras = dict[int, tuple[float | None, tuple[str, ...]]]


@dataclass
class PhotoColumns:
    """Columns of the photos table that search needs, as integer arrays (one row per photo, by id).

    Paths, fingerprints and dates are fetched for the few photos a search returns.
    """

    ids: np.ndarray
    offline: np.ndarray
    vector_ids: np.ndarray  # embeddings.id for the current model, -1 when not encoded yet
    width: np.ndarray
    height: np.ndarray
    dates: np.ndarray  # date taken (EXIF), else the file's time, as whole POSIX seconds
    by_vector: np.ndarray  # row numbers ordered by vector id (rows of one vector stay in order)
    sorted_vector_ids: np.ndarray  # vector_ids[by_vector]
    vector_count: int  # distinct vector ids >= 0
    # Offline rows whose vector an online row also has (None: none): a folder renamed or moved to another
    # watched folder leaves its old rows offline, and each photo would show twice.
    offline_twins: np.ndarray | None = None


def offline_twins(offline: np.ndarray, vector_ids: np.ndarray) -> np.ndarray | None:
    """Rows that are offline while a row online has the same vector (the same content), or None."""
    if not offline.any():
        return None
    online = np.unique(vector_ids[~offline & (vector_ids >= 0)])
    twins = offline & np.isin(vector_ids, online)
    return twins if twins.any() else None


def hide_offline_twins(photos: PhotoColumns, rows_ok: np.ndarray) -> bool:
    """Leave out of rows_ok (in place) the offline rows whose content an allowed online row shows, so
    the online photo stands for both. Returns whether any was left out. Their vector stays allowed."""
    if photos.offline_twins is None:
        return False
    candidates = np.flatnonzero(photos.offline_twins & rows_ok)
    if len(candidates) == 0:
        return False
    if not rows_ok.all():  # a filter may leave out the online twin: then the offline one is what there is
        shown = np.unique(photos.vector_ids[rows_ok & ~photos.offline & (photos.vector_ids >= 0)])
        candidates = candidates[np.isin(photos.vector_ids[candidates], shown)]
    rows_ok[candidates] = False
    return len(candidates) > 0


def pixel_hits(
    photos: PhotoColumns,
    index: VectorIndex,
    query: np.ndarray,
    k: int,
    allowed: np.ndarray | None,
    row_ok: np.ndarray | None,
    min_score: float | None = None,
) -> list[tuple[int, float]]:
    """(row, cosine) of the k best photos; copies share one vector, so each may give several rows."""
    rows, scores = pixel_rows(photos, index, query, k, allowed, row_ok, min_score)
    return list(zip(rows.tolist(), scores.tolist(), strict=True))


def pixel_rows(
    photos: PhotoColumns,
    index: VectorIndex,
    query: np.ndarray,
    k: int,
    allowed: np.ndarray | None,
    row_ok: np.ndarray | None,
    min_score: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """pixel_hits as arrays: photo rows (int64) and their cosines (float64), best first."""
    if allowed is not None and len(allowed) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    ids, scores = index.search(np.asarray(query, dtype=np.float32), k, allowed=allowed, min_score=min_score)
    scores = clamp_cosines(scores.astype(np.float64))
    lo = np.searchsorted(photos.sorted_vector_ids, ids, side="left")
    hi = np.searchsorted(photos.sorted_vector_ids, ids, side="right")
    if np.all(hi - lo == 1):  # one photo per vector (no copies): no per-photo Python loop
        rows = photos.by_vector[lo]
        if row_ok is not None:
            keep = row_ok[rows]
            rows, scores = rows[keep], scores[keep]
        return rows[:k].astype(np.int64), scores[:k]
    hits: list[int] = []
    sims: list[float] = []
    for first, last, score in zip(lo.tolist(), hi.tolist(), scores.tolist(), strict=True):
        for row in photos.by_vector[first:last].tolist():
            if row_ok is None or row_ok[row]:
                hits.append(row)
                sims.append(score)
        if len(hits) >= k:
            break
    return np.array(hits[:k], dtype=np.int64), np.array(sims[:k], dtype=np.float64)


def build_results(
    store: Store,
    photos: PhotoColumns,
    hits: list[tuple[int, float | None]],
    extras: Extras | None = None,
    captions: Callable[[list[str]], dict[str, str]] | None = None,
) -> list[SearchResult]:
    """SearchResults for (row, score) hits, in their order; paths come from the database.

    captions: paths -> the caption to show for each (the engine's best_captions), looked up once.
    """
    photo_ids = [int(photos.ids[row]) for row, _ in hits]
    details: dict[int, tuple] = {}
    for start in range(0, len(photo_ids), _ID_CHUNK):
        chunk = photo_ids[start : start + _ID_CHUNK]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT id, path, fingerprint, taken, mtime_ns FROM photos WHERE id IN ({marks})"
        for row in store.query(sql, chunk):
            details[row[0]] = row
    paths = {photo_id: from_db(found[1]) for photo_id, found in details.items()}
    shown = captions(list(paths.values())) if captions is not None and paths else {}
    results: list[SearchResult] = []
    extras = extras or {}
    for (row, score), photo_id in zip(hits, photo_ids, strict=True):
        found = details.get(photo_id)
        if found is None:  # deleted since the last refresh
            continue
        similarity, why = extras.get(row, (None, ()))
        results.append(
            SearchResult(
                path=paths[photo_id],
                score=None if score is None else float(score),
                caption=shown.get(paths[photo_id]),
                photo_id=photo_id,
                fingerprint=found[2] or "",
                width=int(photos.width[row]),
                height=int(photos.height[row]),
                taken=found[3],
                offline=bool(photos.offline[row]),
                date=found[3] if found[3] is not None else found[4] / 1e9,
                why=why,
                similarity=None if similarity is None else float(similarity),
            )
        )
    return results
