from __future__ import annotations

import math

import numpy as np
import pytest

from photosearch.core import index_snapshot, vector_index, vector_stores
from photosearch.core.vector_index import VectorIndex

DIM = 32


def unit_rows(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return fp16_rounded(x / np.linalg.norm(x, axis=1, keepdims=True))


def fp16_rounded(x: np.ndarray) -> np.ndarray:
    """What the index stores, so float32 brute force on it is the exact truth."""
    return x.astype(np.float16).astype(np.float32)


def clustered(n: int, dim: int, seed: int = 0, clusters: int = 50) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((clusters, dim)).astype(np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    labels = rng.integers(0, clusters, n)
    spread = rng.uniform(0.5, 1.5, clusters)[labels, None] / math.sqrt(dim)
    x = centers[labels] + spread * rng.standard_normal((n, dim))
    return fp16_rounded(x / np.linalg.norm(x, axis=1, keepdims=True))


def brute_force(ids: np.ndarray, vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return ids[order], scores[order]


def make_index(n: int = 500, seed: int = 0, **kw: int) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    vecs = unit_rows(n, seed=seed)
    ids = np.arange(1000, 1000 + 3 * n, 3, dtype=np.int64)  # sparse ids, not row numbers
    index = VectorIndex(DIM, **kw)
    index.add(ids, vecs)
    return index, ids, vecs


@pytest.fixture(params=["faiss", "numpy"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "numpy":
        monkeypatch.setattr(vector_index, "faiss", None)
    return request.param


def test_exact_matches_brute_force(backend: str) -> None:
    index, ids, vecs = make_index()
    assert index.exact and len(index) == 500
    for query in unit_rows(5, seed=9):
        got_ids, got_scores = index.search(query, 10)
        want_ids, want_scores = brute_force(ids, vecs, query, 10)
        np.testing.assert_array_equal(got_ids, want_ids)
        np.testing.assert_allclose(got_scores, want_scores, atol=1e-5)
        assert got_scores.dtype == np.float32
        assert np.all(np.diff(got_scores) <= 0)


def test_numpy_fallback_agrees_with_faiss(monkeypatch: pytest.MonkeyPatch) -> None:
    queries = unit_rows(8, seed=5)
    with_faiss, _, _ = make_index(300)
    monkeypatch.setattr(vector_index, "faiss", None)
    without, _, _ = make_index(300)
    assert isinstance(without._store, vector_stores.NumpyStore)
    a_ids, a_scores = with_faiss.search_many(queries, 7)
    b_ids, b_scores = without.search_many(queries, 7)
    np.testing.assert_array_equal(a_ids, b_ids)
    np.testing.assert_allclose(a_scores, b_scores, atol=1e-5)


def test_k_larger_than_size(backend: str) -> None:
    index, ids, vecs = make_index(20)
    got_ids, got_scores = index.search(vecs[3], 100)
    assert len(got_ids) == 20
    assert sorted(got_ids.tolist()) == sorted(ids.tolist())
    assert got_ids[0] == ids[3]
    assert got_scores[0] == pytest.approx(1.0, abs=1e-3)


def test_empty_index_returns_nothing(backend: str) -> None:
    index = VectorIndex(DIM)
    got_ids, got_scores = index.search(unit_rows(1)[0], 5)
    assert got_ids.size == 0 and got_scores.size == 0


def test_min_score_drops_weak_hits(backend: str) -> None:
    index, ids, vecs = make_index()
    query = vecs[0]
    want_ids, want_scores = brute_force(ids, vecs, query, 500)
    got_ids, got_scores = index.search(query, 500, min_score=0.2)
    assert np.all(got_scores >= 0.2)
    np.testing.assert_array_equal(got_ids, want_ids[want_scores >= 0.2])


def test_allowed_gives_true_top_k_among_allowed(backend: str) -> None:
    index, ids, vecs = make_index()
    rng = np.random.default_rng(3)
    chosen = rng.choice(len(ids), 60, replace=False)
    allowed = np.concatenate([ids[chosen], [-5, 10**12]])  # unknown ids are ignored
    query = unit_rows(1, seed=11)[0]
    got_ids, _ = index.search(query, 10, allowed=allowed)
    want_ids, _ = brute_force(ids[chosen], vecs[chosen], query, 10)
    np.testing.assert_array_equal(got_ids, want_ids)
    few_ids, _ = index.search(query, 10, allowed=ids[chosen[:3]])
    assert set(few_ids.tolist()) == set(ids[chosen[:3]].tolist())


def test_remove_hides_rows_and_compacts(backend: str) -> None:
    index, ids, vecs = make_index(100)
    assert index.remove(ids[:5]) == 5
    assert index.remove(ids[:5]) == 0  # already gone
    assert len(index) == 95
    got_ids, _ = index.search(vecs[0], 100)
    assert len(got_ids) == 95 and not set(ids[:5].tolist()) & set(got_ids.tolist())
    index.remove(ids[5:40])  # past a fifth dead: compacted, results unchanged
    assert index._n_dead == 0 and len(index) == 60
    got_ids, _ = index.search(vecs[50], 3)
    want_ids, _ = brute_force(ids[40:], vecs[40:], vecs[50], 3)
    np.testing.assert_array_equal(got_ids, want_ids)


def test_readding_replaces_vector(backend: str) -> None:
    index, ids, _ = make_index(50)
    index.remove([ids[7]])
    fresh = unit_rows(2, seed=42)
    index.add([ids[7], ids[8]], fresh)  # a removed id comes back, a live one changes
    assert len(index) == 50
    got_ids, got_scores = index.search(fresh[1], 1)
    assert got_ids[0] == ids[8] and got_scores[0] == pytest.approx(1.0, abs=1e-3)
    got_ids, _ = index.search(fresh[0], 1)
    assert got_ids[0] == ids[7]


def test_incremental_adds_then_search(backend: str) -> None:
    vecs = unit_rows(400, seed=2)
    ids = np.arange(400, dtype=np.int64)[::-1].copy()  # descending ids: unsorted path
    index = VectorIndex(DIM)
    for start in range(0, 400, 32):
        index.add(ids[start : start + 32], vecs[start : start + 32])
        got_ids, _ = index.search(vecs[start], 1)
        assert got_ids[0] == ids[start]
    query = unit_rows(1, seed=8)[0]
    got_ids, _ = index.search(query, 15, allowed=ids[::2])
    want_ids, _ = brute_force(ids[::2], vecs[::2], query, 15)
    np.testing.assert_array_equal(got_ids, want_ids)


def test_rejects_bad_input() -> None:
    index = VectorIndex(DIM)
    with pytest.raises(ValueError):
        index.add([1, 2], unit_rows(3))
    with pytest.raises(ValueError):
        index.add([1, 1], unit_rows(2))
    with pytest.raises(ValueError):
        index.add([1], unit_rows(1, dim=DIM + 1))
    with pytest.raises(ValueError):
        index.search(np.zeros(DIM + 1, np.float32), 3)


def test_memory_is_fp16_sized() -> None:
    dim = 512
    index = VectorIndex(dim)
    index.add(np.arange(2000), unit_rows(2000, dim=dim))
    assert dim * 2 <= index.memory_bytes() / len(index) <= 1100


def recall_at_10(
    index: VectorIndex, ids: np.ndarray, vecs: np.ndarray, queries: np.ndarray, allowed: np.ndarray | None = None
) -> float:
    keep = np.ones(len(ids), bool) if allowed is None else np.isin(ids, allowed)
    hits = 0
    for q in queries:
        got, _ = index.search(q, 10, allowed=allowed)
        want, _ = brute_force(ids[keep], vecs[keep], q, 10)
        hits += len(set(got.tolist()) & set(want.tolist()))
    return hits / (10 * len(queries))


@pytest.fixture(scope="module")
def ann_case() -> tuple[VectorIndex, np.ndarray, np.ndarray, np.ndarray]:
    dim = 64
    vecs = clustered(20_000, dim)
    ids = np.arange(20_000, dtype=np.int64) * 2 + 7
    index = VectorIndex(dim, ann_threshold=2000)
    index.add(ids[:1500], vecs[:1500])
    assert index.exact
    for start in range(1500, 20_000, 2500):  # crosses the threshold, then regrows
        index.add(ids[start : start + 2500], vecs[start : start + 2500])
    rng = np.random.default_rng(4)
    queries = vecs[rng.choice(20_000, 100, replace=False)] + rng.normal(0, 0.1, (100, dim))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    return index, ids, vecs, queries


def test_ann_switches_on_and_keeps_recall(ann_case) -> None:
    index, ids, vecs, queries = ann_case
    assert not index.exact and len(index) == 20_000
    assert index.nlist is not None and 1 <= index.nprobe <= index.nlist
    assert index._trained_at > 2000  # retrained after growing past 2x the first training
    assert recall_at_10(index, ids, vecs, queries) >= 0.95


def test_ann_filtered_search_stays_correct(ann_case) -> None:
    index, ids, vecs, queries = ann_case
    rng = np.random.default_rng(6)
    small = rng.choice(ids, 150, replace=False)  # tiny share: must be exact
    assert recall_at_10(index, ids, vecs, queries[:30], allowed=small) == 1.0
    half = ids[ids % 4 == 3]
    assert recall_at_10(index, ids, vecs, queries[:50], allowed=half) >= 0.95
    got, _ = index.search(queries[0], 10, allowed=half)
    assert np.isin(got, half).all()


def test_ann_remove_add_and_memory(ann_case) -> None:
    index, ids, vecs, queries = ann_case
    gone = ids[:4500]
    index.remove(gone[:1000])
    got, _ = index.search(vecs[5], 20)
    assert not np.isin(got, gone[:1000]).any()
    index.remove(gone[1000:])  # crosses the compaction share
    assert index._n_dead == 0 and len(index) == 15_500
    assert recall_at_10(index, ids[4500:], vecs[4500:], queries[:40]) >= 0.95
    index.add(gone[:500], vecs[:500])
    got, _ = index.search(vecs[10], 1)
    assert got[0] == ids[10]
    index.add(ids[[10, 6000]], vecs[[6000, 10]])  # live ids swap vectors (may change lists)
    assert len(index) == 16_000
    assert index.search(vecs[10], 1)[0][0] == ids[6000]
    assert index.search(vecs[6000], 1)[0][0] == ids[10]
    per_row = index.memory_bytes() / len(index)
    assert per_row <= 64 * 2 + 8 + 8 + 64  # fp16 code + list label + id + centroids


def test_ann_disabled_without_faiss(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_index, "faiss", None)
    index = VectorIndex(DIM, ann_threshold=100)
    index.add(np.arange(300), unit_rows(300))
    assert index.exact and index.nprobe is None


# -- snapshots ---------------------------------------------------------------------------


def _same_results(a: VectorIndex, b: VectorIndex, queries: np.ndarray, k: int = 10, allowed=None) -> None:
    ia, sa = a.search_many(queries, k, allowed=allowed)
    ib, sb = b.search_many(queries, k, allowed=allowed)
    np.testing.assert_array_equal(ia, ib)
    np.testing.assert_array_equal(sa, sb)


def test_save_load_round_trip_exact(backend: str, tmp_path) -> None:
    index, ids, _vecs = make_index(300)
    index.remove(ids[:5])  # tombstones are compacted into the snapshot
    index.save(tmp_path / "snap", {"note": "hi"})
    loaded = VectorIndex.load(tmp_path / "snap")
    assert loaded.exact and len(loaded) == len(index) == 295
    assert VectorIndex.snapshot_info(tmp_path / "snap")["extra"] == {"note": "hi"}
    queries = unit_rows(20, seed=9)
    _same_results(index, loaded, queries)
    _same_results(index, loaded, queries, allowed=ids[::7])
    # The loaded index keeps working: adds, replacements, removals.
    more = unit_rows(3, seed=5)
    loaded.add([ids[10], 5, 999_999], more)
    assert loaded.search(more[0], 1)[0][0] == ids[10] and loaded.search(more[2], 1)[0][0] == 999_999
    assert loaded.remove([5]) == 1 and len(loaded) == 296


def test_save_load_round_trip_ivf(tmp_path) -> None:
    vecs = clustered(3000, DIM, seed=2)
    ids = np.arange(3000, dtype=np.int64) * 5 + 1
    index = VectorIndex(DIM, ann_threshold=1000)
    index.add(ids, vecs)
    assert not index.exact
    index.save(tmp_path / "snap")
    loaded = VectorIndex.load(tmp_path / "snap")
    assert not loaded.exact and loaded.nprobe == index.nprobe and loaded.nlist == index.nlist
    assert loaded.memory_bytes() == index.memory_bytes()
    queries = fp16_rounded(vecs[:30] + 0.05 * unit_rows(30, seed=3))
    _same_results(index, loaded, queries)
    _same_results(index, loaded, queries, allowed=ids[::3])
    extra = clustered(200, DIM, seed=7)
    loaded.add(np.arange(200, dtype=np.int64) + 100_000, extra)
    assert loaded.search(extra[4], 1)[0][0] == 100_004
    loaded.remove(ids[:10])
    assert not set(loaded.search_many(vecs[:10], 5)[0].ravel().tolist()) & set(ids[:10].tolist())


def test_saved_faiss_index_loads_without_faiss_as_an_error(tmp_path, monkeypatch) -> None:
    index, _, _ = make_index(50)
    index.save(tmp_path / "snap")
    monkeypatch.setattr(vector_index, "faiss", None)
    with pytest.raises(index_snapshot.SnapshotError):
        VectorIndex.load(tmp_path / "snap")


def test_numpy_snapshot_loads_into_faiss(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(vector_index, "faiss", None)
    index, ids, vecs = make_index(100)
    index.save(tmp_path / "snap")
    monkeypatch.undo()
    loaded = VectorIndex.load(tmp_path / "snap")
    found, _ = loaded.search(vecs[7], 1)
    assert found[0] == ids[7]


def test_resave_replaces_files_and_damage_is_a_snapshot_error(tmp_path) -> None:
    index, _, _ = make_index(100)
    folder = tmp_path / "snap"
    index.save(folder)
    index.add([1], unit_rows(1, seed=11))
    index.save(folder)
    assert len(list(folder.iterdir())) == 3
    assert len(VectorIndex.load(folder)) == 101
    meta = VectorIndex.snapshot_info(folder)
    (folder / meta["data"]).write_bytes(b"nonsense")
    with pytest.raises(index_snapshot.SnapshotError):
        VectorIndex.load(folder)
    with pytest.raises(index_snapshot.SnapshotError):
        VectorIndex.load(tmp_path / "missing")


def test_bulk_load_trains_the_ivf_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Loading a big table in chunks used to train the IVF at the threshold and again at every doubling
    # (four trainings for 2.5 M captions); inside bulk() it is trained once, on everything.
    trained: list[int] = []
    real = vector_stores.FaissIVFStore.train.__func__
    monkeypatch.setattr(
        vector_stores.FaissIVFStore, "train", classmethod(lambda cls, v: trained.append(len(v)) or real(cls, v))
    )
    vecs = clustered(12_000, DIM)
    ids = np.arange(12_000, dtype=np.int64)
    index = VectorIndex(DIM, ann_threshold=1000)
    with index.bulk():
        for start in range(0, 12_000, 1500):
            index.add(ids[start : start + 1500], vecs[start : start + 1500])
        assert index.exact and not trained  # nothing trained mid-load
    assert trained == [12_000] and not index.exact
    found, _ = index.search(vecs[5000], 1)
    assert found.tolist() == [5000]
