"""In-memory nearest-neighbour index over L2-normalised embeddings, keyed by int64 photo ids.

Vectors are held as float16 (1024 bytes at 512-d). Below ``ann_threshold`` live vectors the
search is exact; above it an inverted-file index (faiss IVF, fp16 codes, no residuals) is
trained on the data and searched approximately, with ``nprobe`` calibrated for recall.

Threading: every public method takes an internal lock, so a search that races an ``add``
from another thread is safe (it sees the index before or after the add). Callers that need
a consistent view across several calls must hold their own lock.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from photosearch.core.index_snapshot import SnapshotError as SnapshotError  # re-exported: search.py imports it here
from photosearch.core.index_snapshot import read_snapshot, snapshot_info, write_snapshot
from photosearch.core.snapshot_files import save_lock
from photosearch.core.vector_stores import (
    FaissFlatStore,
    FaissIVFStore,
    NumpyStore,
    VectorStore,
    calibrate_nprobe,
    faiss,
)

_RETRAIN_GROWTH = 2.0  # retrain the IVF once the live count has doubled since training
_COMPACT_DEAD_SHARE = 0.2  # drop tombstoned rows once they are a fifth of all rows

IdsLike = np.ndarray | Sequence[int]


class VectorIndex:
    """Top-k inner-product search over float16 vectors keyed by int64 ids.

    Adding an id that is already present replaces its vector. ``remove`` tombstones rows;
    they are compacted away once they make up a fifth of the rows (or on ``compact``).
    """

    def __init__(self, dim: int, *, ann_threshold: int = 200_000) -> None:
        if dim <= 0:
            raise ValueError("dim must be positive")
        self.dim = dim
        self.ann_threshold = ann_threshold
        self._lock = threading.RLock()
        self._store: VectorStore = FaissFlatStore(dim) if faiss is not None else NumpyStore(dim)
        self._ids = np.empty(0, dtype=np.int64)  # row position -> id, capacity-doubled
        self._rows = 0
        self._dead: np.ndarray | None = None  # row tombstones; allocated on first remove
        self._n_dead = 0
        self._ids_sorted = True  # app ids are SQLite rowids, so appends are usually ascending
        self._sorted_cache: tuple[np.ndarray, np.ndarray] | None = None
        self._trained_at = 0
        self._bulk = 0  # > 0 inside bulk(): the IVF decision waits for the end of the load

    # -- introspection ---------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return self._rows - self._n_dead

    @property
    def exact(self) -> bool:
        """True while searches are exact (below the threshold, or without faiss)."""
        return not isinstance(self._store, FaissIVFStore)

    @property
    def nprobe(self) -> int | None:
        """Inverted lists probed per query on the approximate path (None while exact)."""
        store = self._store
        return store.nprobe if isinstance(store, FaissIVFStore) else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        with self._lock:
            if not isinstance(self._store, FaissIVFStore):
                raise ValueError("nprobe only applies to the approximate index")
            self._store.nprobe = int(np.clip(value, 1, self._store.nlist))

    @property
    def nlist(self) -> int | None:
        store = self._store
        return store.nlist if isinstance(store, FaissIVFStore) else None

    def memory_bytes(self) -> int:
        """Bytes held for vectors, ids, tombstones and index structures."""
        with self._lock:
            extra = self._dead.nbytes if self._dead is not None else 0
            if self._sorted_cache is not None:
                extra += sum(a.nbytes for a in self._sorted_cache)
            return int(self._store.memory_bytes() + self._ids.nbytes + extra)

    # -- mutation --------------------------------------------------------------------

    def add(self, ids: IdsLike, vectors: np.ndarray) -> None:
        """Add (or replace) rows; vectors must already be L2-normalised."""
        ids_arr, vecs = self._check_batch(ids, vectors)
        if ids_arr.size == 0:
            return
        with self._lock:
            pos = self._lookup(ids_arr)
            known = pos >= 0
            if known.any():
                self._replace(pos[known], vecs[known])
                ids_arr, vecs = ids_arr[~known], vecs[~known]
            if ids_arr.size:
                self._append(ids_arr, vecs)
            self._maybe_rebuild()

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """Adds inside train the IVF (if the size calls for one) once, at the end, not at every doubling."""
        with self._lock:
            self._bulk += 1
        try:
            yield
        finally:
            with self._lock:
                self._bulk -= 1
                if not self._bulk:
                    self._maybe_rebuild()

    def remove(self, ids: IdsLike) -> int:
        """Tombstone the given ids; returns how many were present."""
        ids_arr = np.asarray(ids, dtype=np.int64).ravel()
        with self._lock:
            pos = self._lookup(ids_arr)
            pos = pos[pos >= 0]
            if self._dead is None:
                self._dead = np.zeros(self._ids.shape[0], dtype=bool)
            fresh = np.unique(pos[~self._dead[pos]])
            self._dead[fresh] = True
            self._n_dead += int(fresh.size)
            if self._n_dead > _COMPACT_DEAD_SHARE * self._rows:
                self._compact()
            return int(fresh.size)

    def compact(self) -> None:
        """Drop tombstoned rows now (otherwise done lazily)."""
        with self._lock:
            self._compact()

    # -- snapshots -------------------------------------------------------------------

    def save(self, path: str | os.PathLike, extra: Mapping[str, Any] | None = None) -> None:
        """Write the index into the folder ``path`` (created if needed), replacing any earlier save.

        Data files get fresh names and the small JSON that names them is replaced last, so a
        crash mid-save leaves the previous snapshot (or none) readable, never a mix. ``extra``
        (JSON-able) is stored alongside and comes back from ``snapshot_info``. Tombstoned rows
        are compacted away first. Raises OSError when the folder cannot be written.
        """
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        with save_lock(folder), self._lock:
            self._compact()
            fields = {
                "dim": self.dim,
                "rows": self._rows,
                "ann_threshold": self.ann_threshold,
                "trained_at": self._trained_at,
                "nprobe": self.nprobe,
                "ids_sorted": self._ids_sorted,
                "extra": dict(extra or {}),
            }
            write_snapshot(folder, self._store, self._ids[: self._rows], fields)

    @staticmethod
    def snapshot_info(path: str | os.PathLike) -> dict[str, Any]:
        """The JSON description of a saved index (cheap: no vectors are read)."""
        return snapshot_info(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> VectorIndex:
        """Read an index written by ``save``; SnapshotError when it is missing or damaged."""
        meta, ids, store = read_snapshot(Path(path), faiss is not None)
        out = cls(int(meta["dim"]), ann_threshold=int(meta["ann_threshold"]))
        out._store = store
        out._ids = np.ascontiguousarray(ids)
        out._rows = int(meta["rows"])
        out._trained_at = int(meta.get("trained_at", 0))
        out._ids_sorted = bool(meta.get("ids_sorted", False)) and bool(np.all(np.diff(ids) > 0))
        return out

    # -- search ----------------------------------------------------------------------

    def search(
        self,
        query: np.ndarray,
        k: int,
        *,
        allowed: IdsLike | None = None,
        min_score: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Best-first (ids, scores) of the k rows with the highest inner product.

        ``allowed`` restricts results to those ids (e.g. a folder, online photos);
        ``min_score`` drops results scoring below it. Fewer than k come back when fewer
        rows qualify.
        """
        q = np.asarray(query, dtype=np.float32)
        if q.shape != (self.dim,):
            raise ValueError(f"query must have shape ({self.dim},), got {q.shape}")
        ids, scores = self.search_many(q[None], k, allowed=allowed)
        ids, scores = ids[0], scores[0]
        keep = ids >= 0
        if min_score is not None:
            keep &= scores >= min_score
        return ids[keep], scores[keep]

    def search_many(
        self, queries: np.ndarray, k: int, *, allowed: IdsLike | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Batch search: ids [Q, k'] and scores [Q, k'], k' = min(k, candidates).

        Rows with fewer hits (only on the approximate path) are padded with id -1.
        """
        qs = np.ascontiguousarray(np.atleast_2d(np.asarray(queries, dtype=np.float32)))
        if qs.ndim != 2 or qs.shape[1] != self.dim:
            raise ValueError(f"queries must have shape (q, {self.dim}), got {qs.shape}")
        with self._lock:
            mask, count = self._candidate_mask(allowed)
            k_eff = min(int(k), count)
            if k_eff <= 0:
                return np.empty((qs.shape[0], 0), np.int64), np.empty((qs.shape[0], 0), np.float32)
            share = count / self._rows
            with _single_thread_if(qs.shape[0] == 1):
                scores, pos = self._store.search(qs, k_eff, mask, share)
            ids = np.where(pos >= 0, self._ids[np.maximum(pos, 0)], -1)
            scores = np.where(pos >= 0, scores, -np.inf).astype(np.float32)
            return ids, scores

    # -- internals -------------------------------------------------------------------

    def _check_batch(self, ids: IdsLike, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids_arr = np.asarray(ids, dtype=np.int64).ravel()
        vecs = np.asarray(vectors)
        if vecs.ndim == 1:
            vecs = vecs.reshape(1, -1)
        if vecs.ndim != 2 or vecs.shape[1] != self.dim:
            raise ValueError(f"vectors must have shape (n, {self.dim}), got {vecs.shape}")
        if vecs.shape[0] != ids_arr.shape[0]:
            raise ValueError("ids and vectors differ in length")
        if np.unique(ids_arr).size != ids_arr.size:
            raise ValueError("duplicate ids in one batch")
        return ids_arr, np.ascontiguousarray(vecs, dtype=np.float16)

    def _lookup(self, ids: np.ndarray) -> np.ndarray:
        """Row positions of ids (tombstoned rows included), -1 where absent."""
        out = np.full(ids.shape[0], -1, dtype=np.int64)
        if self._rows == 0 or ids.size == 0:
            return out
        if self._ids_sorted:
            sorted_ids, order = self._ids[: self._rows], None
        else:
            sorted_ids, order = self._sorted_ids()
        at = np.minimum(np.searchsorted(sorted_ids, ids), self._rows - 1)
        hit = sorted_ids[at] == ids
        out[hit] = at[hit] if order is None else order[at[hit]]
        return out

    def _sorted_ids(self) -> tuple[np.ndarray, np.ndarray]:
        # Only for out-of-order ids: cached until the next append or compaction.
        if self._sorted_cache is None:
            order = np.argsort(self._ids[: self._rows], kind="stable")
            self._sorted_cache = (self._ids[: self._rows][order], order)
        return self._sorted_cache

    def _replace(self, pos: np.ndarray, vecs: np.ndarray) -> None:
        self._store.update(pos, vecs)
        if self._dead is not None and self._dead[pos].any():
            self._n_dead -= int(self._dead[pos].sum())  # re-adding resurrects a removed id
            self._dead[pos] = False

    def _append(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        first, need = self._rows, self._rows + ids.shape[0]
        if need > self._ids.shape[0]:
            cap = max(need, 2 * self._ids.shape[0]) if self._rows else need
            self._ids = _grow(self._ids, cap, self._rows)
            if self._dead is not None:
                self._dead = _grow(self._dead, cap, self._rows)
        if (self._rows and ids[0] <= self._ids[self._rows - 1]) or np.any(np.diff(ids) <= 0):
            self._ids_sorted = False
        self._ids[first:need] = ids
        if self._dead is not None:
            self._dead[first:need] = False
        self._rows = need
        self._sorted_cache = None
        self._store.add(vecs, first)

    def _maybe_rebuild(self) -> None:
        """Switch to (or retrain) the IVF when the live size calls for it."""
        if faiss is None or self._bulk:
            return
        live = self._rows - self._n_dead
        if self.exact:
            if live > self.ann_threshold:
                self._build_ivf()
        elif live >= _RETRAIN_GROWTH * self._trained_at:
            self._build_ivf()

    def _build_ivf(self) -> None:
        self._compact()  # train and load only live rows
        old = self._store  # keeps a view from vectors() valid until the swap
        vectors = old.vectors(self._rows)
        store = FaissIVFStore.train(vectors)
        store.fill(vectors)
        store.nprobe = calibrate_nprobe(store, vectors)
        self._store, self._trained_at = store, self._rows
        del old, vectors

    def _compact(self) -> None:
        if self._n_dead == 0 or self._dead is None:
            return
        keep = ~self._dead[: self._rows]
        self._store.compact(keep)
        self._ids = np.ascontiguousarray(self._ids[: self._rows][keep])
        self._rows = self._ids.shape[0]
        self._dead, self._n_dead = None, 0
        self._sorted_cache = None
        if self._rows and not self._ids_sorted:
            self._ids_sorted = bool(np.all(np.diff(self._ids) > 0))

    def _candidate_mask(self, allowed: IdsLike | None) -> tuple[np.ndarray | None, int]:
        """Row mask of searchable rows (None = all) and how many rows it admits."""
        live = None if self._n_dead == 0 else ~self._dead[: self._rows]
        if allowed is None:
            return live, self._rows - self._n_dead
        pos = self._lookup(np.asarray(allowed, dtype=np.int64).ravel())
        mask = np.zeros(self._rows, dtype=bool)
        mask[pos[pos >= 0]] = True
        if live is not None:
            mask &= live
        return mask, int(mask.sum())


@contextlib.contextmanager
def _single_thread_if(single: bool) -> Iterator[None]:
    """Run one-query searches on the calling thread only.

    faiss parallelises over queries, so one query gains nothing from OpenMP, while waking
    its pool costs 3-20 ms on 2 cores when ONNX Runtime's spinning threads (the text encoder
    that just ran) hold them. omp_set_num_threads only changes the calling thread's setting.
    """
    if not single or faiss is None:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _grow(arr: np.ndarray, capacity: int, used: int) -> np.ndarray:
    out = np.empty(capacity, dtype=arr.dtype)
    out[:used] = arr[:used]
    return out
