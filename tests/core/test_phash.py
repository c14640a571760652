"""The perceptual hash: stored at index time from the indexer's decode, filled in for older libraries."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from photosearch.core import phash
from photosearch.core.images import decode
from tests.conftest import make_photos
from tests.fixtures.copies import save_copy, save_original, skimage_photo


def test_db_round_trip_keeps_all_64_bits():
    for value in (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1):
        assert phash.from_db(phash.to_db(value)) == value
        assert -(1 << 63) <= phash.to_db(value) < 1 << 63


def test_popcount_matches_python():
    values = np.random.default_rng(1).integers(0, 2**63, 50, dtype=np.uint64) * np.uint64(3)
    assert phash.popcount64(values).tolist() == [bin(int(v)).count("1") for v in values]


def test_copies_hash_alike_and_different_photos_do_not(tmp_path):
    image = skimage_photo("astronaut")
    original = phash.phash(decode(save_original(image, tmp_path / "a.jpg")).image)
    for kind in ("half", "exif_rotated", "png"):
        assert phash.hamming(original, phash.phash(decode(save_copy(image, kind, tmp_path, kind)).image)) <= 4
    other = phash.phash(decode(save_original(skimage_photo("coffee"), tmp_path / "c.jpg")).image)
    assert phash.hamming(original, other) > 16
    assert phash.phash(Image.new("RGB", (50, 40))) == phash.phash(Image.new("RGB", (500, 400)))


def test_indexing_stores_hashes_and_backfill_fills_an_older_library(library, tmp_path):
    folder = tmp_path / "photos"
    make_photos(folder, 3)
    library.add_folder(folder)
    library.index(read_text=False)
    stored = phash.load_hashes(library.store)
    assert len(stored) == 3
    with library.store.write() as conn:
        conn.execute("DELETE FROM phashes")  # as a library indexed before hashes existed
    assert len(phash.missing(library.store)) == 3
    library.index(read_text=False)
    assert phash.load_hashes(library.store) == stored  # same decode size as the indexer: same bits


def test_hashes_of_content_no_photo_has_go_with_the_folder(library, tmp_path):
    folder = tmp_path / "photos"
    make_photos(folder, 2)
    library.add_folder(folder)
    library.index(read_text=False)
    library.remove_folder(folder)
    library.index(read_text=False)
    assert phash.load_hashes(library.store) == {}


@pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")
def test_backfill_hashes_photos_whose_names_are_not_utf8(library, tmp_path):
    folder = tmp_path / os.fsdecode(b"\xe9t\xe9")
    make_photos(folder, 2)
    library.add_folder(folder)
    library.index(read_text=False)
    stored = phash.load_hashes(library.store)
    with library.store.write() as conn:
        conn.execute("DELETE FROM phashes")
    assert phash.backfill(library.store) == 2
    assert phash.load_hashes(library.store) == stored
