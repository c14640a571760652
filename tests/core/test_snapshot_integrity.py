"""Saved search index snapshots and cached thumbnails are checked before use and rebuilt when wrong."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from photosearch.core import search as search_mod
from photosearch.core.index_snapshot import SnapshotError
from photosearch.core.library import Library
from photosearch.core.search import snapshot_folder
from photosearch.core.vector_index import VectorIndex
from tests.conftest import TINY_MODEL, make_photos


def _open(path: Path) -> Library:
    return Library(path, model=TINY_MODEL, pretrained="random")


@pytest.fixture
def saved(tmp_path, monkeypatch):
    """A library of 40 photos whose search index snapshot is on disk; returns (path, truth)."""
    monkeypatch.setattr(search_mod, "SNAPSHOT_MIN_ADDED", 1)
    make_photos(tmp_path / "photos", 40)
    lib = _open(tmp_path / "lib")
    lib.add_folder(tmp_path / "photos")
    lib.index()
    query = lib.text_vector("a photo")
    truth = [(r.path, round(r.score, 3)) for r in lib.engine().search(query, k=40)]
    folder = snapshot_folder(lib.root, lib.model_id)
    assert VectorIndex.snapshot_info(folder)["extra"]["vector_count"] == 40
    lib.close()
    return tmp_path / "lib", folder, query, truth


def _search(path: Path, query) -> list[tuple[str, float]]:
    lib = _open(path)
    try:
        return [(r.path, round(r.score, 3)) for r in lib.engine().search(query, k=40)]
    finally:
        lib.close()


def test_overwritten_bytes_in_the_index_file_are_caught_and_rebuilt(saved):
    path, folder, query, truth = saved
    data = folder / VectorIndex.snapshot_info(folder)["data"]
    raw = bytearray(data.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 4096] = b"\x7f" * min(4096, len(raw) - middle)
    data.write_bytes(bytes(raw))
    with pytest.raises(SnapshotError, match="damaged"):
        VectorIndex.load(folder)
    assert _search(path, query) == truth


def test_a_reordered_ids_array_is_caught(saved):
    path, folder, query, truth = saved
    ids_file = folder / VectorIndex.snapshot_info(folder)["ids"]
    ids = np.load(ids_file)
    np.save(ids_file, ids[::-1].copy())
    assert _search(path, query) == truth


def test_a_snapshot_whose_checksums_were_rewritten_still_fails_the_spot_check(saved):
    """Damage that keeps the files and their description consistent: stored vectors must find themselves."""
    path, folder, query, truth = saved
    meta_file = folder / "index.json"
    meta = json.loads(meta_file.read_text())
    ids_file = folder / meta["ids"]
    np.save(ids_file, np.load(ids_file)[::-1].copy())
    from photosearch.core.snapshot_files import checksum

    meta["checksums"][meta["ids"]] = checksum(ids_file)
    meta_file.write_text(json.dumps(meta))
    assert _search(path, query) == truth


def test_index_discards_a_damaged_snapshot(saved):
    path, folder, _, _ = saved
    data = folder / VectorIndex.snapshot_info(folder)["data"]
    data.write_bytes(data.read_bytes()[:-100])
    lib = _open(path)
    try:
        lib.index()
    finally:
        lib.close()
    assert not folder.exists()


def test_parallel_saves_never_mix_or_fail(tmp_path):
    """Many writers of one snapshot folder: each save is whole, and a busy folder is skipped, not broken."""
    folder = tmp_path / "snap"
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def save(seed: int) -> None:
        index = VectorIndex(8)
        rows = np.random.default_rng(seed).normal(size=(50, 8)).astype(np.float32)
        index.add(np.arange(1, 51) + seed * 100, rows / np.linalg.norm(rows, axis=1, keepdims=True))
        start.wait()
        for _ in range(5):
            try:
                index.save(folder, {"seed": seed})
            except BaseException as exc:
                if type(exc).__name__ != "SnapshotBusy":
                    errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    loaded = VectorIndex.load(folder)
    seed = VectorIndex.snapshot_info(folder)["extra"]["seed"]
    assert len(loaded) == 50
    ids, _ = loaded.search(np.ones(8, dtype=np.float32) / np.sqrt(8), 50)
    assert sorted(ids.tolist()) == list(np.arange(1, 51) + seed * 100)


def test_a_truncated_thumbnail_is_made_again(library, tmp_path):
    make_photos(tmp_path / "photos", 2)
    library.add_folder(tmp_path / "photos")
    library.index()
    photo = str(tmp_path / "photos" / "photo_0000.jpg")
    thumb = library.thumbnail(photo)
    whole = thumb.read_bytes()
    thumb.write_bytes(whole[: len(whole) // 2])  # what a full disk can leave behind
    again = library.thumbnail(photo)
    assert again is not None and again.read_bytes()[-2:] == b"\xff\xd9" and len(again.read_bytes()) > len(whole) // 2
