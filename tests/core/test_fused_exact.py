"""The fused ranking's shortcuts (one filtered search per text level, stopping early) give exactly the
ranking of scoring every photo, on a library where query words match thousands of photos."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.fused_query import MODEL_ID, build_library, query_texts
from photosearch.core.fusion import fused_scores
from photosearch.core.query import parse_query
from photosearch.core.search import SearchEngine
from photosearch.core.store import blob_to_vectors
from photosearch.core.text_evidence import CaptionMap, gather


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    store = build_library(tmp_path_factory.mktemp("fused") / "lib", 3000, 16)
    yield SearchEngine(store, MODEL_ID)
    store.close()


def _brute_force(engine: SearchEngine, q: np.ndarray, text: str, k: int) -> list[tuple[str, float]]:
    store = engine.store
    rows = store.query(
        "SELECT p.id, p.path, e.vector FROM photos p JOIN embeddings e ON e.fingerprint = p.fingerprint ORDER BY p.id"
    )
    ids = np.array([r[0] for r in rows])
    vectors = blob_to_vectors([r[2] for r in rows], 16).astype(np.float32)
    evidence = gather(store, parse_query(text), ids, CaptionMap.build(store, ids))
    scores = fused_scores(vectors @ q, evidence.coverage)
    order = np.lexsort((-evidence.coverage, -scores))[:k]
    return [(rows[i][1], float(scores[i])) for i in order]


@pytest.mark.parametrize("text", query_texts(12))
def test_fused_search_equals_scoring_every_photo(engine, text):
    rng = np.random.default_rng(len(text))
    q = rng.standard_normal(16).astype(np.float32)
    q /= np.linalg.norm(q)
    got = engine.search_fused(q, parse_query(text), 50)
    want = _brute_force(engine, q, text, 50)
    assert [r.score for r in got] == pytest.approx([s for _, s in want], abs=1e-4)
    assert [r.path for r in got][:10] == [p for p, _ in want][:10]


def test_a_word_on_most_photos_needs_no_search_of_its_own(engine, monkeypatch):
    """"dog" is on about half the photos: the pixel ranking, taken deeper, already holds its best."""
    engine.refresh()
    calls = []
    search = engine._index.search
    monkeypatch.setattr(engine._index, "search", lambda *a, **kw: calls.append(kw) or search(*a, **kw))
    q = np.random.default_rng(1).standard_normal(16).astype(np.float32)
    q /= np.linalg.norm(q)
    got = engine.search_fused(q, parse_query("dog"), 50)
    assert len(calls) == 1 and calls[0].get("allowed") is None
    want = _brute_force(engine, q, "dog", 50)
    assert [r.score for r in got] == pytest.approx([s for _, s in want], abs=1e-4)
    assert all("filename" in r.why or "caption" in r.why for r in got)
