"""The caption vector index: built from caption_embeddings, saved as a checked snapshot, reloaded on the
next start, and rebuilt when the snapshot is stale or damaged."""

from __future__ import annotations

import numpy as np

from photosearch.core import caption_index
from photosearch.core.caption_index import caption_snapshot_folder
from photosearch.core.library import Library
from photosearch.core.vector_index import VectorIndex
from tests.conftest import TINY_MODEL
from tests.core.test_caption_search import _same_as_exact, make_captioned_library


def _reopen(lib: Library) -> Library:
    root = lib.root
    lib.close()
    return Library(root, model=TINY_MODEL, pretrained="random")


def _loads(monkeypatch) -> list[str]:
    loaded: list[str] = []
    original = VectorIndex.load.__func__

    def spy(cls, path):
        loaded.append(str(path))
        return original(cls, path)

    monkeypatch.setattr(VectorIndex, "load", classmethod(spy))
    return loaded


def test_caption_search_uses_the_index_and_saves_it(tmp_path, monkeypatch) -> None:
    lib = make_captioned_library(tmp_path, 1_200)  # above SNAPSHOT_MIN_ADDED
    searched: list[int] = []
    original = VectorIndex.search
    monkeypatch.setattr(
        VectorIndex, "search", lambda self, q, k, **kw: searched.append(k) or original(self, q, k, **kw)
    )
    assert lib.search_captions(text="red car", k=5)
    assert searched and max(searched) < 1_200  # only the nearest captions, not all of them
    folder = caption_snapshot_folder(lib.root, lib.model_id)
    assert VectorIndex.snapshot_info(folder)["extra"]["count"] == 1_200
    lib.close()


def test_the_next_start_loads_the_snapshot_instead_of_rebuilding(tmp_path, monkeypatch) -> None:
    lib = make_captioned_library(tmp_path, 1_200)
    lib.search_captions(text="beach", k=5)
    lib = _reopen(lib)
    loaded = _loads(monkeypatch)
    _same_as_exact(lib, "snow river", k=5)
    assert loaded == [str(caption_snapshot_folder(lib.root, lib.model_id))]
    captions = lib.engine()._captions_index
    assert captions.count == 1_200 and captions._saved_count == 1_200  # taken whole from the snapshot
    lib.close()


def test_a_stale_snapshot_is_ignored_and_replaced(tmp_path, monkeypatch) -> None:
    lib = make_captioned_library(tmp_path, 1_200)
    lib.search_captions(text="beach", k=5)
    with lib.store.write() as conn:  # captions gone since the snapshot was saved
        conn.execute("DELETE FROM caption_embeddings WHERE caption_id IN (SELECT id FROM captions WHERE id % 3 = 0)")
        conn.execute("DELETE FROM captions WHERE id % 3 = 0")
    lib = _reopen(lib)
    loaded = _loads(monkeypatch)
    _same_as_exact(lib, "beach dog", k=8)
    assert loaded == []  # the count no longer matches: not even read
    remaining = lib.store.query("SELECT COUNT(*) FROM caption_embeddings")[0][0]
    assert lib.engine()._captions_index.count == remaining == 800
    lib.close()


def test_a_damaged_snapshot_is_ignored_and_rebuilt(tmp_path, monkeypatch) -> None:
    lib = make_captioned_library(tmp_path, 1_200)
    lib.search_captions(text="beach", k=5)
    folder = caption_snapshot_folder(lib.root, lib.model_id)
    info = VectorIndex.snapshot_info(folder)
    with open(folder / info["data"], "r+b") as fh:  # well-formed but wrong: bytes inside the vectors
        fh.seek(-256, 2)
        fh.write(b"\x7b" * 256)
    lib = _reopen(lib)
    _same_as_exact(lib, "beach flower", k=8)
    assert lib.engine()._captions_index._saved_count == 1_200  # rebuilt from SQLite and saved again
    fresh = VectorIndex.snapshot_info(folder)
    assert fresh["data"] != info["data"]
    lib.close()


def test_reordered_ids_in_a_snapshot_are_caught(tmp_path, monkeypatch) -> None:
    lib = make_captioned_library(tmp_path, 1_200)
    lib.search_captions(text="beach", k=5)
    folder = caption_snapshot_folder(lib.root, lib.model_id)
    index = VectorIndex.load(folder)
    ids = index._ids[: index._rows].copy()
    index._ids[: index._rows] = ids[::-1]  # a consistent file set whose ids point at the wrong vectors
    index.save(folder, VectorIndex.snapshot_info(folder)["extra"])
    lib = _reopen(lib)
    _same_as_exact(lib, "pasta night", k=8)
    lib.close()


def test_a_large_caption_set_goes_approximate_and_still_finds_exact_text(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(caption_index, "ANN_THRESHOLD", 200)
    lib = make_captioned_library(tmp_path, 1_200)
    target = lib.store.query("SELECT text FROM captions WHERE id = 777")[0][0]
    results = lib.search_captions(text=target, k=3)
    assert not lib.engine()._captions_index.index.exact
    assert results[0].caption == target
    np.testing.assert_allclose(results[0].similarity, 1.0, atol=2e-3)
    lib.close()
