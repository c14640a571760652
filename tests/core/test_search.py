"""SearchEngine: the on-disk index snapshot (restart without rebuilding) and the slim photo columns."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from photosearch.core import search as search_mod
from photosearch.core.library import Library
from photosearch.core.search import SearchEngine, snapshot_folder
from photosearch.core.store import Store, vector_to_blob
from photosearch.core.vector_index import VectorIndex
from tests.conftest import TINY_MODEL, make_photos


def _reopen(library_path: Path) -> Library:
    return Library(library_path, model=TINY_MODEL, pretrained="random")


def _vector_rows_fetched(engine: SearchEngine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records how many embeddings rows each bulk vector fetch returned."""
    fetched: list[int] = []
    original = engine.store.query

    def spy(sql, params=()):
        rows = original(sql, params)
        if sql.startswith("SELECT id, vector FROM embeddings"):
            fetched.append(len(rows))
        return rows

    monkeypatch.setattr(engine.store, "query", spy)
    return fetched


def _paths(results) -> list[str]:
    return [r.path for r in results]


def _query(lib: Library) -> np.ndarray:
    return lib.text_vector("a photo")


def test_second_start_loads_the_snapshot_and_fetches_only_new_vectors(library_path, photos_dir, monkeypatch):
    lib = _reopen(library_path)
    lib.add_folder(photos_dir)
    lib.index()
    query = _query(lib)
    before = lib.engine().search(query, k=20)
    assert len(before) == 9
    folder = snapshot_folder(lib.root, lib.model_id)
    assert folder.parent == lib.root / "search-cache"
    assert VectorIndex.snapshot_info(folder)["extra"]["vector_count"] == 9
    lib.close()

    again = _reopen(library_path)
    engine = again.engine()
    fetched = _vector_rows_fetched(engine, monkeypatch)
    built = []
    monkeypatch.setattr(VectorIndex, "add", lambda *a, **kw: built.append(a))
    after = engine.search(query, k=20)
    assert fetched == [0] and built == []  # nothing rebuilt: every vector came from the snapshot
    assert [(r.path, r.photo_id, r.fingerprint, r.width, r.height, r.taken, r.offline) for r in after] == [
        (r.path, r.photo_id, r.fingerprint, r.width, r.height, r.taken, r.offline) for r in before
    ]
    assert [r.score for r in after] == pytest.approx([r.score for r in before], abs=1e-6)
    assert engine.size == 9
    again.close()


def test_photos_indexed_after_the_snapshot_appear(library_path, photos_dir, monkeypatch):
    lib = _reopen(library_path)
    lib.add_folder(photos_dir)
    lib.index()
    lib.engine().refresh()
    # Later additions stay below the re-save threshold, so the next start sees an older snapshot.
    monkeypatch.setattr(search_mod, "SNAPSHOT_MIN_ADDED", 1000)
    new = make_photos(photos_dir / "later", 2, start=300)
    lib.index()
    lib.engine().refresh()
    assert VectorIndex.snapshot_info(snapshot_folder(lib.root, lib.model_id))["extra"]["vector_count"] == 9
    lib.close()

    again = _reopen(library_path)
    engine = again.engine()
    fetched = _vector_rows_fetched(engine, monkeypatch)
    for photo in new:
        hits = again.search_image(str(photo), k=1)
        assert hits[0].path == str(photo) and hits[0].score > 0.99
    assert fetched == [2]
    assert len(engine.search(_query(again), k=50)) == 11
    again.close()


def test_snapshot_is_saved_again_after_enough_additions(library_path, photos_dir, monkeypatch):
    monkeypatch.setattr(search_mod, "SNAPSHOT_MIN_ADDED", 1)
    lib = _reopen(library_path)
    lib.add_folder(photos_dir)
    lib.index()
    lib.engine().refresh()
    make_photos(photos_dir / "more", 1, start=400)  # 1 of 9 is over 5%
    lib.index()
    lib.engine().refresh()
    info = VectorIndex.snapshot_info(snapshot_folder(lib.root, lib.model_id))
    assert info["extra"]["vector_count"] == 10
    files = sorted(p.name for p in snapshot_folder(lib.root, lib.model_id).iterdir())
    assert len(files) == 3  # the description and one generation of data files
    lib.close()


def test_deleted_photos_never_come_back_from_a_stale_snapshot(library_path, photos_dir, monkeypatch):
    lib = _reopen(library_path)
    lib.add_folder(photos_dir)
    lib.index()
    query = _query(lib)
    assert len(lib.engine().search(query, k=20)) == 9
    gone = photos_dir / "photo_0002.jpg"
    gone.unlink()
    monkeypatch.setattr(search_mod, "SNAPSHOT_MIN_ADDED", 1000)  # keep the stale snapshot on disk
    lib.index()
    assert lib.store.query("SELECT COUNT(*) FROM embeddings")[0][0] == 8  # its vector was collected
    lib.close()
    stale = VectorIndex.snapshot_info(snapshot_folder(library_path, lib.model_id))
    assert stale["extra"]["vector_count"] == 9

    again = _reopen(library_path)
    engine = again.engine()
    fetched = _vector_rows_fetched(engine, monkeypatch)
    results = engine.search(query, k=20)
    assert len(results) == 8 and str(gone) not in _paths(results)
    assert fetched == [8]  # the stale snapshot was ignored: a full rebuild
    assert engine.size == 8
    again.close()


def test_a_deleted_copy_keeps_its_shared_vector_but_never_shows(library_path, photos_dir, monkeypatch):
    lib = _reopen(library_path)
    lib.add_folder(photos_dir)
    copy = photos_dir / "copy_of_0001.jpg"
    copy.write_bytes((photos_dir / "photo_0001.jpg").read_bytes())
    lib.index()
    query = lib.image_vector(str(photos_dir / "photo_0001.jpg"))
    assert {str(copy), str(photos_dir / "photo_0001.jpg")} <= set(_paths(lib.engine().search(query, k=3)))
    copy.unlink()
    lib.index()
    lib.close()

    again = _reopen(library_path)
    results = again.engine().search(query, k=20)
    assert str(copy) not in _paths(results) and len(results) == 9
    assert _paths(results)[0] == str(photos_dir / "photo_0001.jpg")
    again.close()


@pytest.mark.parametrize("damage", ["garbage_index", "truncated_index", "bad_json", "missing_ids", "old_version"])
def test_a_damaged_snapshot_is_ignored_and_rebuilt(library_path, photos_dir, monkeypatch, damage):
    lib = _reopen(library_path)
    lib.add_folder(photos_dir)
    lib.index()
    query = _query(lib)
    before = _paths(lib.engine().search(query, k=20))
    lib.close()
    folder = snapshot_folder(library_path, lib.model_id)
    meta_path = folder / "index.json"
    meta = json.loads(meta_path.read_text())
    data = folder / meta["data"]
    if damage == "garbage_index":
        data.write_bytes(b"\x00garbage" * 100)
    elif damage == "truncated_index":
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    elif damage == "bad_json":
        meta_path.write_text("{not json")
    elif damage == "missing_ids":
        (folder / meta["ids"]).unlink()
    else:
        meta_path.write_text(json.dumps({**meta, "version": 999}))

    again = _reopen(library_path)
    engine = again.engine()
    fetched = _vector_rows_fetched(engine, monkeypatch)
    assert _paths(engine.search(query, k=20)) == before
    assert fetched == [9]
    # The rebuilt index replaced the damaged snapshot.
    assert VectorIndex.load(folder).search(query, 1)[0].size == 1
    again.close()


def test_a_snapshot_from_another_database_is_ignored(tmp_path):
    rng = np.random.default_rng(0)

    def make(root: Path, seed: int) -> Store:
        store = Store(root)
        fid = store.add_folder("/p")
        vectors = np.random.default_rng(seed).normal(size=(5, 8)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with store.write() as c:
            for i, v in enumerate(vectors):
                c.execute(
                    "INSERT INTO photos(path, folder_id, size, mtime_ns, fingerprint, state) "
                    "VALUES (?, ?, 1, 1, ?, 'indexed')",
                    (f"/p/{i}.jpg", fid, f"fp{seed}-{i}"),
                )
                c.execute(
                    "INSERT INTO embeddings(fingerprint, model_id, vector) VALUES (?, 'm', ?)",
                    (f"fp{seed}-{i}", vector_to_blob(v)),
                )
        return store

    root = tmp_path / "lib"
    store = make(root, 1)
    SearchEngine(store, "m").refresh()
    store.close()
    os.remove(root / "library.sqlite3")
    for extra in ("-wal", "-shm"):
        if (root / f"library.sqlite3{extra}").exists():
            os.remove(root / f"library.sqlite3{extra}")
    # Same ids and count, other vectors: another library's database put in its place (a new one is
    # never created over an old library's remains).
    make(tmp_path / "other", 2).close()
    shutil.copy(tmp_path / "other" / "library.sqlite3", root / "library.sqlite3")
    store = Store(root)
    engine = SearchEngine(store, "m")
    q = rng.normal(size=8).astype(np.float32)
    q /= np.linalg.norm(q)
    blob = store.query("SELECT vector FROM embeddings WHERE id = 3")[0][0]
    target = np.frombuffer(blob, dtype="<f2").astype(np.float32)
    assert engine.search(target, k=1)[0].path == "/p/2.jpg"
    assert engine.search(target, k=1)[0].score > 0.99
    store.close()


def test_folder_filter_and_offline_filter_after_a_snapshot_load(library_path, photos_dir):
    lib = _reopen(library_path)
    lib.add_folder(photos_dir)
    # A sibling whose name shares the prefix must not count as inside "sub".
    make_photos(photos_dir / "sub2", 2, start=200)
    lib.index()
    lib.engine().refresh()
    lib.close()

    again = _reopen(library_path)
    query = _query(again)
    engine = again.engine()
    sub = engine.search(query, k=50, folder=str(photos_dir / "sub"))
    assert sorted(_paths(sub)) == sorted(str(p) for p in (photos_dir / "sub").iterdir())
    with_slash = engine.search(query, k=50, folder=str(photos_dir / "sub") + os.sep)
    assert _paths(with_slash) == _paths(sub)
    assert len(engine.search(query, k=50, folder=str(photos_dir))) == 11
    assert engine.search(query, k=50, folder=str(photos_dir / "nowhere")) == []
    # One photo's folder is exactly the filter path too (a file named like the folder is "at" it).
    single = engine.search(query, k=50, folder=str(photos_dir / "photo_0003.jpg"))
    assert _paths(single) == [str(photos_dir / "photo_0003.jpg")]

    with again.store.write() as conn:
        conn.execute("UPDATE photos SET offline = 1 WHERE path LIKE ?", (str(photos_dir / "sub") + "/%",))
    online = engine.search(query, k=50, include_offline=False)
    assert len(online) == 8 and not any(r.offline for r in online)
    everything = engine.search(query, k=50)
    assert len(everything) == 11 and sum(r.offline for r in everything) == 3
    assert engine.search(query, k=50, folder=str(photos_dir / "sub"), include_offline=False) == []
    again.close()


def test_a_read_only_library_searches_without_writing_a_snapshot(library_path, photos_dir):
    lib = _reopen(library_path)
    lib.add_folder(photos_dir)
    lib.index()
    lib.close()  # the index was never searched: no snapshot yet
    assert not (library_path / "search-cache").exists()
    ro = Library(library_path, model=TINY_MODEL, pretrained="random", readonly=True)
    assert len(ro.search_text("a photo", k=20)) == 9
    assert not (library_path / "search-cache").exists()
    ro.close()


def test_a_failing_save_never_breaks_search(library_path, photos_dir, monkeypatch):
    lib = _reopen(library_path)
    lib.add_folder(photos_dir)
    lib.index()
    calls = []

    def broken(self, path, extra=None):
        calls.append(path)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(VectorIndex, "save", broken)
    assert len(lib.search_text("a photo", k=20)) == 9
    make_photos(photos_dir / "more", 1, start=500)
    lib.index()
    assert len(lib.search_text("a photo", k=20)) == 10
    assert len(calls) == 1  # not retried on every refresh
    lib.close()


def test_an_offline_photo_is_not_shown_beside_an_online_photo_of_the_same_content(library, tmp_path):
    """A renamed watched folder left every photo twice in the results: the old, offline row and the new one."""
    from photosearch.core.filters import Filters
    from tests.core.photo_meta import index_then_rename

    a, b = index_then_rename(library, tmp_path)
    in_b = sorted(str(b / f"p{i}.jpg") for i in range(5))
    found = library.search_text("grandma", k=20)
    assert sorted(_paths(found)) == in_b
    assert found[0].path == str(b / "p0.jpg") and found[0].caption == "grandma birthday party"
    assert sorted(_paths(library.search_image(str(b / "p1.jpg"), k=20))) == in_b
    assert sorted(_paths(library.search_text("grandma", k=20, include_offline=False))) == in_b
    assert {c.path for c in library.search_captions("grandma")} == {str(b / "p0.jpg")}
    # Asked for the old folder itself, its photos are what there is to show.
    old = sorted(_paths(library.search_text("grandma", k=20, filters=Filters(folder=str(a)))))
    assert old == sorted(str(a / f"p{i}.jpg") for i in range(5))
    (b / "p4.jpg").unlink()  # now only the offline row holds that photo: it is shown again
    library.index()
    assert sorted(_paths(library.search_text("grandma", k=20))) == sorted([*in_b[:4], str(a / "p4.jpg")])
