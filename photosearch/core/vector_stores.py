"""Where VectorIndex keeps its vectors: rows addressed by dense positions 0..rows-1 (the ids live
in VectorIndex). An fp16 matrix in numpy, faiss' exact fp16 codes, or a faiss IVF over fp16 codes.

Backend choice (measured on 2 cores, 100k x 512):
  faiss IndexScalarQuantizer(QT_fp16) 4.2 ms/query (SIMD fp16 decode, exact up to fp16
  rounding), torch fp16 matmul 3.8 ms (only with AVX-512 fp16 kernels, and torch is not
  shipped with the app), numpy chunked fp16->fp32 107 ms. So faiss it is, with the numpy
  path kept as a correct fallback when faiss cannot be imported (it never goes approximate).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

try:
    import faiss
except ImportError:  # the core must still work (slowly) without faiss
    faiss = None  # type: ignore[assignment]

_ROW_CHUNK = 16_384  # rows per numpy block: bounds the fp32 temporaries to ~32 MB at 512-d
_ASSIGN_CHUNK = 65_536
_CALIBRATION_QUERIES = 64
_RECALL_TARGET = 0.98  # calibrate above the 0.95 goal: real queries are further from the data


class VectorStore(Protocol):
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


class NumpyStore:
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


class FaissFlatStore:
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


class FaissIVFStore:
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
    def from_index(cls, index: Any, nprobe: int) -> FaissIVFStore:
        """Wrap an IVF read back by faiss.read_index (it owns its quantizer and lists)."""
        store = cls.__new__(cls)
        store.index = index  # read_index already hands back the concrete (owning) class
        store.quantizer = store.index.quantizer
        store.nlist = int(store.index.nlist)
        store.invlists = faiss.downcast_InvertedLists(store.index.invlists)
        store.nprobe = int(np.clip(nprobe, 1, store.nlist))
        return store

    @classmethod
    def train(cls, vectors: np.ndarray, seed: int = 0) -> FaissIVFStore:
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


def calibrate_nprobe(store: FaissIVFStore, vectors: np.ndarray, k: int = 10) -> int:
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
