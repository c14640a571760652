"""The id -> value lookup behind text evidence: the dense table and the binary-search fallback
(ids left sparse by deletions) give the same answers, including for ids they do not hold."""

from __future__ import annotations

import numpy as np

from photosearch.core.text_evidence import IdLookup


def _check(ids: np.ndarray) -> IdLookup:
    values = np.arange(len(ids), dtype=np.int32) * 3
    lookup = IdLookup(ids, values, -1)
    absent = np.array([0, int(ids.max()) + 1, int(ids.max()) + 10**9, -5], dtype=np.int64)
    wanted = np.concatenate([ids[::-1], absent, ids[:3]])
    want = {int(i): int(v) for i, v in zip(ids, values, strict=True)}
    assert lookup(wanted).tolist() == [want.get(int(i), -1) for i in wanted]
    assert lookup(np.zeros(0, dtype=np.int64)).tolist() == []
    return lookup


def test_compact_ids_use_a_dense_table():
    lookup = _check(np.array([5, 1, 9, 2, 7], dtype=np.int64))
    assert lookup._dense is not None


def test_sparse_ids_fall_back_to_binary_search():
    lookup = _check(np.array([3, 40_000_000, 12, 7_000_000_000], dtype=np.int64))
    assert lookup._dense is None


def test_no_ids_at_all():
    lookup = IdLookup(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8), 0)
    assert lookup(np.array([1, 2], dtype=np.int64)).tolist() == [0, 0]
