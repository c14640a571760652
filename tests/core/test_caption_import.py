"""Caption import at size: streamed in batches, progress reported, pending embeddings recorded and resumed."""

from __future__ import annotations

import threading

import pytest

from photosearch.core import caption_encoding, caption_import, indexer
from tests.conftest import make_photos


def _csv(path, rows):
    path.write_text("image,description\n" + "".join(f"{p},{t}\n" for p, t in rows), encoding="utf-8")
    return path


def test_an_interrupted_caption_embedding_is_pending_in_status_and_resumed(library, tmp_path, monkeypatch):
    photos = make_photos(tmp_path / "photos", 2)
    library.add_folder(tmp_path / "photos")
    library.index()
    csv_path = _csv(tmp_path / "photos" / "c.csv", [(photos[i % 2].name, f"caption number {i}") for i in range(700)])
    encoder = library.encoder()
    real = encoder.encode_texts
    calls = {"n": 0}

    def flaky(texts):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C, or the process was killed
        return real(texts)

    monkeypatch.setattr(encoder, "encode_texts", flaky)
    with pytest.raises(KeyboardInterrupt):
        library.import_captions(csv_path)
    status = library.status()
    assert status["captions"] == 700
    assert 0 < status["captions_pending"] < 700
    monkeypatch.setattr(encoder, "encode_texts", real)
    library.index()
    assert library.status()["captions_pending"] == 0


def test_import_streams_in_batches_and_reports_progress(library, tmp_path, monkeypatch):
    photos = make_photos(tmp_path / "photos", 1)
    library.add_folder(tmp_path / "photos")
    library.index()
    monkeypatch.setattr(caption_import, "BATCH", 100)
    csv_path = _csv(tmp_path / "photos" / "c.csv", [(photos[0].name, f"caption {i}") for i in range(450)])
    seen = []
    report = library.import_captions(csv_path, progress=seen.append)
    assert report["imported"] == 450
    importing = [p.done for p in seen if p.phase == "importing"]
    assert importing == [100, 200, 300, 400, 450]
    embedded = [p for p in seen if p.phase == "captions"]
    assert embedded[-1].done == embedded[-1].total == 450


def test_caption_vectors_are_appended_incrementally_and_reloaded_after_a_delete(library, tmp_path):
    from photosearch.core.search import SearchEngine

    photos = make_photos(tmp_path / "photos", 2)
    library.add_folder(tmp_path / "photos")
    library.index()
    first = _csv(tmp_path / "photos" / "a.csv", [(photos[0].name, f"first caption {i}") for i in range(30)])
    library.import_captions(first)
    engine = library.engine()
    query = library.text_vector("first caption 7")
    assert engine.search_captions(query, k=3)
    captions = engine._captions_index
    built = captions.index
    assert captions.count == 30
    second = _csv(tmp_path / "photos" / "b.csv", [(photos[1].name, f"second caption {i}") for i in range(20)])
    library.import_captions(second)
    engine.search_captions(query, k=3)
    assert captions.index is built and len(built) == captions.count == 50  # appended to, not rebuilt
    with library.store.write() as conn:
        conn.execute("DELETE FROM captions WHERE text = 'first caption 3'")
    results = engine.search_captions(query, k=50)
    fresh = SearchEngine(library.store, library.model_id).search_captions(query, k=50)
    assert [(r.caption, round(r.score, 4)) for r in results] == [(r.caption, round(r.score, 4)) for r in fresh]
    assert "first caption 3" not in {r.caption for r in results} and engine._captions_index.count == 49


def test_status_counts_captions_and_pending_from_one_snapshot(library, tmp_path, monkeypatch):
    # During an import `status` once said 510,000 pending of 505,000 captions: the two counts were two
    # queries, and the importer committed between them. A commit between reads must not show in status.
    import sqlite3

    make_photos(tmp_path / "photos", 1)
    library.add_folder(tmp_path / "photos")
    library.index()
    store = library.store
    real_query = store.query
    db = store.root / "library.sqlite3"
    committed = []

    def query_then_commit(sql, params=()):
        rows = real_query(sql, params)
        if "FROM captions" in sql and not committed:  # the importer commits right after this read
            with sqlite3.connect(db) as other:
                other.executemany(
                    "INSERT INTO captions (path, source, text) VALUES (?, 'csv', ?)",
                    [(str(tmp_path / "photos" / "x.jpg"), f"caption {i}") for i in range(5)],
                )
            committed.append(True)
        return rows

    monkeypatch.setattr(store, "query", query_then_commit)
    status = library.status()
    assert committed
    assert status["captions_pending"] <= status["captions"]


def test_pause_holds_caption_embedding_after_the_chunk_in_hand_and_resume_finishes_it(library, tmp_path, monkeypatch):
    photos = make_photos(tmp_path / "photos", 1)
    library.add_folder(tmp_path / "photos")
    library.index()
    csv_path = _csv(tmp_path / "photos" / "c.csv", [(photos[0].name, f"caption {i}") for i in range(300)])
    pause = threading.Event()
    pause.set()
    held = threading.Event()
    embedded_when_held: list[int] = []
    wait = indexer._wait_if_paused

    def noted(pause_event, cancel):  # where a paused run waits: the test sees it get there
        if pause_event is not None and pause_event.is_set() and not held.is_set():
            embedded_when_held.append(300 - library.status()["captions_pending"])
            held.set()
        wait(pause_event, cancel)

    monkeypatch.setattr(indexer, "_wait_if_paused", noted)
    def importing() -> None:
        try:
            library.import_captions(csv_path, pause=pause)
        finally:
            held.set()  # also when it ran to the end without pausing

    run = threading.Thread(target=importing)
    run.start()
    try:
        assert held.wait(60)
        assert run.is_alive()  # paused, not over
        assert embedded_when_held == [caption_encoding.CAPTION_BATCH]  # the chunk in hand was committed, no more
    finally:
        pause.clear()
        run.join(60)
    assert not run.is_alive()
    assert library.status()["captions_pending"] == 0
