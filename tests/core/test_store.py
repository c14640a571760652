from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from photosearch.core.errors import PhotoSearchError
from photosearch.core.store import SCHEMA_VERSION, Store, blob_to_vectors, vector_to_blob


def test_new_store_is_wal_and_at_latest_schema(tmp_path):
    store = Store(tmp_path / "lib")
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    assert store.query("PRAGMA user_version")[0][0] == SCHEMA_VERSION
    assert store.integrity_ok()
    store.close()


def test_reopen_keeps_data_and_does_not_migrate_again(tmp_path):
    store = Store(tmp_path / "lib")
    store.add_folder("/photos")
    store.close()
    again = Store(tmp_path / "lib")
    assert [p for _, p, _ in again.folders()] == ["/photos"]
    again.close()


def test_newer_schema_is_refused_with_one_line(tmp_path):
    store = Store(tmp_path / "lib")
    store.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    store.close()
    with pytest.raises(PhotoSearchError, match="newer PhotoSearch"):
        Store(tmp_path / "lib")


def test_write_rolls_back_on_error(tmp_path):
    store = Store(tmp_path / "lib")
    with pytest.raises(RuntimeError), store.write() as conn:
        conn.execute("INSERT INTO folders(path, added) VALUES ('/x', 0)")
        raise RuntimeError("boom")
    assert store.folders() == []
    store.close()


def test_vectors_round_trip_as_float16():
    vectors = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    blobs = [vector_to_blob(v) for v in vectors]
    assert all(len(b) == 16 for b in blobs)
    back = blob_to_vectors(blobs, 8).astype(np.float32)
    assert np.allclose(back, vectors, atol=1e-2)


def test_caption_fts_follows_inserts_and_deletes(tmp_path):
    store = Store(tmp_path / "lib")
    with store.write() as conn:
        conn.execute("INSERT INTO captions(path, source, text) VALUES ('/a.jpg', 'csv', 'Dogs running on the beach')")
    hits = store.query("SELECT rowid FROM captions_fts WHERE captions_fts MATCH 'dog'")
    assert len(hits) == 1  # porter stemming: dog matches Dogs
    with store.write() as conn:
        conn.execute("DELETE FROM captions")
    assert store.query("SELECT rowid FROM captions_fts WHERE captions_fts MATCH 'dog'") == []
    store.close()


def test_readonly_database_error_is_explained(tmp_path):
    store = Store(tmp_path / "lib")
    store.close()
    ro = Store(tmp_path / "lib", readonly=True)
    with pytest.raises(PhotoSearchError, match="read-only"):
        ro.add_folder("/x")
    ro.close()
    assert issubclass(sqlite3.Error, Exception)
