"""In-memory nearest-neighbour index over L2-normalised embeddings, keyed by int64 photo ids.

Vectors are held as float16 (1024 bytes at 512-d). Below ``ann_threshold`` live vectors the
search is exact; above it an inverted-file index (faiss IVF, fp16 codes, no residuals) is
trained on the data and searched approximately, with ``nprobe`` calibrated for recall.

Backend choice (measured on 2 cores, 100k x 512):
  faiss IndexScalarQuantizer(QT_fp16) 4.2 ms/query (SIMD fp16 decode, exact up to fp16
  rounding), torch fp16 matmul 3.8 ms (only with AVX-512 fp16 kernels, and torch is not
  shipped with the app), numpy chunked fp16->fp32 107 ms. So faiss it is, with the numpy
  path kept as a correct fallback when faiss cannot be imported (it never goes approximate).

Threading: every public method takes an internal lock, so a search that races an ``add``
from another thread is safe (it sees the index before or after the add). Callers that need
a consistent view across several calls must hold their own lock.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from photosearch.core.snapshot_files import checksum, mismatched, save_lock

try:
    import faiss
except ImportError:  # the core must still work (slowly) without faiss
    faiss = None  # type: ignore[assignment]

_ROW_CHUNK = 16_384  # rows per numpy block: bounds the fp32 temporaries to ~32 MB at 512-d
_ASSIGN_CHUNK = 65_536
_RETRAIN_GROWTH = 2.0  # retrain the IVF once the live count has doubled since training
_COMPACT_DEAD_SHARE = 0.2  # drop tombstoned rows once they are a fifth of all rows
_CALIBRATION_QUERIES = 64
_RECALL_TARGET = 0.98  # calibrate above the 0.95 goal: real queries are further from the data

IdsLike = np.ndarray | Sequence[int]

SNAPSHOT_VERSION = 2  # 2: files carry checksums
_SNAPSHOT_META = "index.json"


class SnapshotError(Exception):
    """A saved index that is missing, unreadable, from another version or inconsistent."""


class _Store(Protocol):
    """Vector storage addressed by dense row positions 0..rows-1 (ids live in VectorIndex)."""

    def add(self, vectors: np.ndarray, first: int) -> None: ...
    def update(self, positions: np.ndarray, vectors: np.ndarray) -> None: ...
    def search(
        self, queries: np.ndarray, k: int, mask: np.ndarray | None, share: float
    ) -> tuple[np.ndarray, np.ndarray]: ...
    def vectors(self, rows: int) -> np.ndarray: ...
    def compact(self, keep: np.ndarray) -> None: ...
    def memory_bytes(self) -> int: ...


# ---------------------------------------------------------------------------------------
# numpy fallback


def _numpy_topk(
    vectors: np.ndarray, queries: np.ndarray, k: int, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by inner product over fp16 rows, in row chunks; pads with -inf / -1."""
    nq = queries.shape[0]
    best_s = np.full((nq, k), -np.inf, dtype=np.float32)
    best_p = np.full((nq, k), -1, dtype=np.int64)
    for start in range(0, vectors.shape[0], _ROW_CHUNK):
        block = vectors[start : start + _ROW_CHUNK].astype(np.float32)
        scores = queries @ block.T
        if mask is not None:
            scores[:, ~mask[start : start + block.shape[0]]] = -np.inf
        take = min(k, scores.shape[1])
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        cand_s = np.concatenate([best_s, np.take_along_axis(scores, part, 1)], axis=1)
        cand_p = np.concatenate([best_p, part + start], axis=1)
        order = np.argsort(-cand_s, axis=1, kind="stable")[:, :k]
        best_s = np.take_along_axis(cand_s, order, 1)
        best_p = np.take_along_axis(cand_p, order, 1)
    best_p[np.isneginf(best_s)] = -1
    return best_s, best_p


class _NumpyStore:
    """Growable fp16 matrix; capacity doubles so batch appends are amortised O(batch)."""

    def __init__(self, dim: int) -> None:
        self._buf = np.empty((0, dim), dtype=np.float16)
        self._rows = 0

    def add(self, vectors: np.ndarray, first: int) -> None:
        need = self._rows + vectors.shape[0]
        if need > self._buf.shape[0]:
            grown = np.empty((max(need, 2 * self._buf.shape[0], 64), self._buf.shape[1]), np.float16)
            grown[: self._rows] = self._buf[: self._rows]
            self._buf = grown
        self._buf[self._rows : need] = vectors
        self._rows = need

    def update(self, positions: np.ndarray, vectors: np.ndarray) -> None:
        self._buf[positions] = vectors

    def search(
        self, queries: np.ndarray, k: int, mask: np.ndarray | None, share: float
    ) -> tuple[np.ndarray, np.ndarray]:
        return _numpy_topk(self._buf[: self._rows], queries, k, mask)

    def vectors(self, rows: int) -> np.ndarray:
        return self._buf[:rows]

    def compact(self, keep: np.ndarray) -> None:
        self._buf = np.ascontiguousarray(self._buf[: self._rows][keep])
        self._rows = self._buf.shape[0]

    def memory_bytes(self) -> int:
        return int(self._buf.nbytes)


# ---------------------------------------------------------------------------------------
# faiss stores


def _bitmap_params(mask: np.ndarray | None, **kwargs: Any) -> tuple[Any, np.ndarray | None]:
    """SearchParameters with a bitmap selector; the bitmap is returned to keep it alive."""
    if mask is None:
        return (faiss.SearchParametersIVF(**kwargs) if kwargs else None), None
    bits = np.packbits(mask, bitorder="little")  # faiss tests bit (i & 7) of byte i >> 3
    sel = faiss.IDSelectorBitmap(mask.shape[0], faiss.swig_ptr(bits))
    cls = faiss.SearchParametersIVF if kwargs else faiss.SearchParameters
    return cls(sel=sel, **kwargs), bits


class _FaissFlatStore:
    """Exact search: faiss fp16 scalar-quantizer codes are the raw IEEE halves of the rows."""

    def __init__(self, dim: int) -> None:
        self.index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)

    def add(self, vectors: np.ndarray, first: int) -> None:
        # Codes go in as bytes: no fp32 round trip; std::vector growth keeps appends amortised.
        self.index.add_sa_codes(np.ascontiguousarray(vectors).view(np.uint8))

    def _codes_view(self) -> np.ndarray:
        n, code = self.index.ntotal, self.index.code_size
        raw = faiss.rev_swig_ptr(self.index.codes.data(), n * code)
        return raw.view(np.float16).reshape(n, -1)

    def update(self, positions: np.ndarray, vectors: np.ndarray) -> None:
        self._codes_view()[positions] = vectors  # writes through to faiss' own buffer

    def search(
        self, queries: np.ndarray, k: int, mask: np.ndarray | None, share: float
    ) -> tuple[np.ndarray, np.ndarray]:
        params, _bits = _bitmap_params(mask)
        return self.index.search(queries, k, params=params)

    def vectors(self, rows: int) -> np.ndarray:
        return self._codes_view()[:rows]  # a view: valid while this store lives unchanged

    def compact(self, keep: np.ndarray) -> None:
        # IndexFlatCodes.remove_ids shifts survivors down in order: same renumbering as ours.
        drop = np.packbits(~keep, bitorder="little")
        self.index.remove_ids(faiss.IDSelectorBitmap(keep.shape[0], faiss.swig_ptr(drop)))

    def memory_bytes(self) -> int:
        return int(self.index.ntotal * self.index.code_size)


class _FaissIVFStore:
    """IVF over fp16 codes without residuals, so stored codes are the rows themselves.

    Labels stored in the inverted lists are row positions, which keeps the bitmap selector
    usable for filters and tombstones.
    """

    def __init__(self, dim: int, centroids: np.ndarray) -> None:
        self.nlist = centroids.shape[0]
        self.quantizer = faiss.IndexFlatIP(dim)
        self.quantizer.add(centroids)
        self.index = faiss.IndexIVFScalarQuantizer(
            self.quantizer,
            dim,
            self.nlist,
            faiss.ScalarQuantizer.QT_fp16,
            faiss.METRIC_INNER_PRODUCT,
            False,
        )
        self.index.is_trained = True  # centroids are given; fp16 codes need no training
        self.invlists = faiss.downcast_InvertedLists(self.index.invlists)
        self.nprobe = min(8, self.nlist)

    @classmethod
    def from_index(cls, index: Any, nprobe: int) -> _FaissIVFStore:
        """Wrap an IVF read back by faiss.read_index (it owns its quantizer and lists)."""
        store = cls.__new__(cls)
        store.index = index  # read_index already hands back the concrete (owning) class
        store.quantizer = store.index.quantizer
        store.nlist = int(store.index.nlist)
        store.invlists = faiss.downcast_InvertedLists(store.index.invlists)
        store.nprobe = int(np.clip(nprobe, 1, store.nlist))
        return store

    @classmethod
    def train(cls, vectors: np.ndarray, seed: int = 0) -> _FaissIVFStore:
        """Spherical k-means on a sample: ~64 points per list is plenty for IVF routing."""
        n, dim = vectors.shape
        nlist = int(np.clip(2 ** round(math.log2(math.sqrt(n))), 16, 4096))
        rng = np.random.default_rng(seed)
        sample_n = min(n, 64 * nlist)
        sample = vectors[np.sort(rng.choice(n, sample_n, replace=False))].astype(np.float32)
        km = faiss.Kmeans(dim, nlist, niter=10, spherical=True, seed=seed, max_points_per_centroid=64, verbose=False)
        km.train(sample)
        return cls(dim, km.centroids)

    def _assign(self, vectors: np.ndarray) -> np.ndarray:
        out = np.empty(vectors.shape[0], dtype=np.int64)
        for start in range(0, vectors.shape[0], _ASSIGN_CHUNK):
            block = vectors[start : start + _ASSIGN_CHUNK].astype(np.float32)
            out[start : start + block.shape[0]] = self.quantizer.search(block, 1)[1][:, 0]
        return out

    def fill(self, vectors: np.ndarray) -> None:
        """Bulk load rows 0..n-1 into empty lists sized exactly (no std::vector slack)."""
        lists = self._assign(vectors)
        order = np.argsort(lists, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(lists, minlength=self.nlist))])
        for lst in np.flatnonzero(np.diff(bounds)):
            pos = np.ascontiguousarray(order[bounds[lst] : bounds[lst + 1]])
            self._write_list(int(lst), pos, vectors[pos])
        self.index.ntotal = vectors.shape[0]

    def _write_list(self, lst: int, labels: np.ndarray, codes: np.ndarray) -> None:
        codes = np.ascontiguousarray(codes).view(np.uint8)
        self.invlists.resize(lst, labels.shape[0])
        if labels.shape[0]:
            self.invlists.update_entries(lst, 0, labels.shape[0], faiss.swig_ptr(labels), faiss.swig_ptr(codes))

    def _read_list(self, lst: int) -> tuple[np.ndarray, np.ndarray]:
        size = self.invlists.list_size(lst)
        if size == 0:
            return np.empty(0, np.int64), np.empty((0, self.index.d), np.float16)
        labels = faiss.rev_swig_ptr(self.invlists.get_ids(lst), size)
        raw = faiss.rev_swig_ptr(self.invlists.get_codes(lst), size * self.index.code_size)
        return labels, raw.view(np.float16).reshape(size, -1)

    def add(self, vectors: np.ndarray, first: int) -> None:
        labels = np.arange(first, first + vectors.shape[0], dtype=np.int64)
        self.index.add_with_ids(vectors.astype(np.float32), labels)

    def update(self, positions: np.ndarray, vectors: np.ndarray) -> None:
        # The new vector may belong to another list: remove the old entry, re-add same label.
        self.index.remove_ids(positions.astype(np.int64))
        self.index.add_with_ids(vectors.astype(np.float32), positions.astype(np.int64))

    def search(
        self, queries: np.ndarray, k: int, mask: np.ndarray | None, share: float
    ) -> tuple[np.ndarray, np.ndarray]:
        # With a filter, probe proportionally more lists so about as many *allowed* rows are
        # scored as unfiltered; rejected rows cost only a bit test. Tiny shares end up
        # probing every list, which is an exact search over the allowed rows.
        nprobe = min(self.nlist, math.ceil(self.nprobe / max(share, 1e-9)))
        params, _bits = _bitmap_params(mask, nprobe=nprobe)
        return self.index.search(queries, k, params=params)

    def vectors(self, rows: int) -> np.ndarray:
        out = np.zeros((rows, self.index.d), dtype=np.float16)
        for lst in range(self.nlist):
            labels, codes = self._read_list(lst)
            out[labels] = codes
        return out

    def compact(self, keep: np.ndarray) -> None:
        # List membership does not change, so filter each list in place and relabel.
        remap = np.cumsum(keep, dtype=np.int64) - 1
        total = 0
        for lst in range(self.nlist):
            labels, codes = self._read_list(lst)
            alive = keep[labels]
            if alive.all():
                self._write_list(lst, remap[labels], codes.copy())
            else:
                self._write_list(lst, remap[labels[alive]], codes[alive])
            total += int(alive.sum())
        self.index.ntotal = total

    def memory_bytes(self) -> int:
        per_row = self.index.code_size + 8  # code + stored label
        return int(self.index.ntotal * per_row + self.quantizer.ntotal * self.index.d * 4)


# ---------------------------------------------------------------------------------------


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
        self._store: _Store = _FaissFlatStore(dim) if faiss is not None else _NumpyStore(dim)
        self._ids = np.empty(0, dtype=np.int64)  # row position -> id, capacity-doubled
        self._rows = 0
        self._dead: np.ndarray | None = None  # row tombstones; allocated on first remove
        self._n_dead = 0
        self._ids_sorted = True  # app ids are SQLite rowids, so appends are usually ascending
        self._sorted_cache: tuple[np.ndarray, np.ndarray] | None = None
        self._trained_at = 0

    # -- introspection ---------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return self._rows - self._n_dead

    @property
    def exact(self) -> bool:
        """True while searches are exact (below the threshold, or without faiss)."""
        return not isinstance(self._store, _FaissIVFStore)

    @property
    def nprobe(self) -> int | None:
        """Inverted lists probed per query on the approximate path (None while exact)."""
        store = self._store
        return store.nprobe if isinstance(store, _FaissIVFStore) else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        with self._lock:
            if not isinstance(self._store, _FaissIVFStore):
                raise ValueError("nprobe only applies to the approximate index")
            self._store.nprobe = int(np.clip(value, 1, self._store.nlist))

    @property
    def nlist(self) -> int | None:
        store = self._store
        return store.nlist if isinstance(store, _FaissIVFStore) else None

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
        token = uuid.uuid4().hex[:12]
        with save_lock(folder), self._lock:
            self._compact()
            store = self._store
            if isinstance(store, _NumpyStore):
                kind, data_name = "numpy", f"vectors-{token}.npy"
            else:
                kind, data_name = ("ivf" if isinstance(store, _FaissIVFStore) else "flat"), f"index-{token}.faiss"
            ids_name = f"ids-{token}.npy"
            written: list[Path] = []
            try:
                written.append(folder / ids_name)
                _atomic_write(folder / ids_name, lambda f: np.save(f, self._ids[: self._rows]))
                written.append(folder / data_name)
                if kind == "numpy":
                    _atomic_write(folder / data_name, lambda f: np.save(f, store.vectors(self._rows)))
                else:
                    tmp = folder / f".{data_name}.tmp"
                    faiss.write_index(store.index, str(tmp))
                    os.replace(tmp, folder / data_name)
                meta = {
                    "version": SNAPSHOT_VERSION,
                    "kind": kind,
                    "dim": self.dim,
                    "rows": self._rows,
                    "ann_threshold": self.ann_threshold,
                    "trained_at": self._trained_at,
                    "nprobe": self.nprobe,
                    "ids_sorted": self._ids_sorted,
                    "ids": ids_name,
                    "data": data_name,
                    "checksums": {ids_name: checksum(folder / ids_name), data_name: checksum(folder / data_name)},
                    "extra": dict(extra or {}),
                }
                _atomic_write(folder / _SNAPSHOT_META, lambda f: f.write(json.dumps(meta).encode()))
            except BaseException:
                for leftover in written:
                    with contextlib.suppress(OSError):
                        leftover.unlink()
                raise
            # Earlier saves' data files (and temporaries of interrupted ones) are garbage now.
            for entry in folder.iterdir():
                if entry.name not in (_SNAPSHOT_META, ids_name, data_name):
                    with contextlib.suppress(OSError):
                        entry.unlink()

    @staticmethod
    def snapshot_info(path: str | os.PathLike) -> dict[str, Any]:
        """The JSON description of a saved index (cheap: no vectors are read)."""
        try:
            meta = json.loads((Path(path) / _SNAPSHOT_META).read_text())
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"no readable index snapshot: {exc}") from None
        if not isinstance(meta, dict) or meta.get("version") != SNAPSHOT_VERSION:
            raise SnapshotError("index snapshot from another version")
        return meta

    @classmethod
    def load(cls, path: str | os.PathLike) -> VectorIndex:
        """Read an index written by ``save``; SnapshotError when it is missing or damaged."""
        folder = Path(path)
        meta = cls.snapshot_info(folder)
        bad = mismatched(folder, meta.get("checksums") or {})
        if bad:
            raise SnapshotError(f"index snapshot file {bad} is damaged (checksum)")
        try:
            kind, dim, rows = meta["kind"], int(meta["dim"]), int(meta["rows"])
            ids = np.load(folder / meta["ids"], allow_pickle=False)
            if ids.dtype != np.int64 or ids.shape != (rows,):
                raise SnapshotError("index snapshot ids do not match its description")
            out = cls(dim, ann_threshold=int(meta["ann_threshold"]))
            if kind == "numpy":
                vectors = np.load(folder / meta["data"], allow_pickle=False)
                if vectors.dtype != np.float16 or vectors.shape != (rows, dim):
                    raise SnapshotError("index snapshot vectors do not match its description")
                store: _Store = _FaissFlatStore(dim) if faiss is not None else _NumpyStore(dim)
                store.add(vectors, 0)
            elif faiss is None:
                raise SnapshotError("index snapshot needs faiss")
            else:
                index = faiss.read_index(str(folder / meta["data"]))
                if index.d != dim or index.ntotal != rows:
                    raise SnapshotError("index snapshot vectors do not match its description")
                if kind == "ivf":
                    if not isinstance(index, faiss.IndexIVFScalarQuantizer):
                        raise SnapshotError("index snapshot holds an unexpected faiss index")
                    store = _FaissIVFStore.from_index(index, int(meta["nprobe"]))
                elif kind == "flat":
                    flat = _FaissFlatStore.__new__(_FaissFlatStore)
                    flat.index = index
                    if not isinstance(index, faiss.IndexScalarQuantizer):
                        raise SnapshotError("index snapshot holds an unexpected faiss index")
                    store = flat
                else:
                    raise SnapshotError(f"unknown index snapshot kind {kind!r}")
        except SnapshotError:
            raise
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, EOFError) as exc:
            raise SnapshotError(f"unreadable index snapshot: {exc}") from None
        out._store = store
        out._ids = np.ascontiguousarray(ids)
        out._rows = rows
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
        if faiss is None:
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
        store = _FaissIVFStore.train(vectors)
        store.fill(vectors)
        store.nprobe = _calibrate_nprobe(store, vectors)
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


def _atomic_write(target: Path, write: Any) -> None:
    """Write via a temporary file in the same folder, then rename it over ``target``."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _grow(arr: np.ndarray, capacity: int, used: int) -> np.ndarray:
    out = np.empty(capacity, dtype=arr.dtype)
    out[:used] = arr[:used]
    return out


def _calibrate_nprobe(store: _FaissIVFStore, vectors: np.ndarray, k: int = 10) -> int:
    """Smallest power-of-two nprobe whose recall@k on held-in probe queries meets the target.

    Probe queries are data rows pushed away by noise of the same norm (cosine ~0.7 to the
    row), harder than near-duplicates; the truth is the same IVF probing every list.
    """
    rng = np.random.default_rng(1)
    n, dim = vectors.shape
    rows = vectors[rng.choice(n, min(n, _CALIBRATION_QUERIES), replace=False)].astype(np.float32)
    noise = rng.standard_normal(rows.shape, dtype=np.float32) / math.sqrt(dim)
    queries = rows + noise
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    k = min(k, n)
    store.nprobe = store.nlist
    truth = store.search(queries, k, None, 1.0)[1]
    nprobe = 4
    while nprobe < store.nlist:
        store.nprobe = nprobe
        found = store.search(queries, k, None, 1.0)[1]
        hits = sum(np.intersect1d(a, b).size for a, b in zip(found, truth, strict=True))
        if hits / truth.size >= _RECALL_TARGET:
            break
        nprobe *= 2
    return min(nprobe, store.nlist)
