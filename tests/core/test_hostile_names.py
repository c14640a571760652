"""File names the file system allows but UTF-8 does not, and names that would mislead a terminal."""

from __future__ import annotations

import os

import pytest

from photosearch.core.fsnames import from_db, to_db
from tests.conftest import make_photo

BAD_BYTES = os.fsdecode(b"caf\xe9.jpg")  # Latin-1 written by an old camera or a Windows share

needs_bytes_names = pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")


@pytest.mark.parametrize(
    "name",
    [
        "plain.jpg",
        BAD_BYTES,
        "\uf8ff apple.jpg",
        "\uf8ff\U000f0069.jpg",  # what an escaped byte looks like in the database
        os.fsdecode(b"\xff\xfe\x80.jpg"),
        "\udcff\uf8ff\udc80",
        "",
    ],
)
def test_database_form_round_trips_and_is_valid_utf8(name):
    stored = to_db(name)
    stored.encode("utf-8")  # SQLite can bind it
    assert from_db(stored) == name


def test_database_form_keeps_prefixes():
    folder, photo = os.fsdecode(b"/p/\xe9t\xe9"), os.fsdecode(b"/p/\xe9t\xe9/caf\xe9.jpg")
    assert to_db(photo).startswith(to_db(folder) + "/")


@needs_bytes_names
def test_a_name_that_is_not_utf8_is_indexed_and_blocks_nothing(library, tmp_path):
    folder = tmp_path / "d"
    make_photo(folder / "a.jpg", seed=1)
    odd = folder / BAD_BYTES
    make_photo(odd, seed=2)
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("A caption beside an odd name")
    library.add_folder(folder)
    summary = library.index()
    assert summary.added == 2 and summary.encoded == 2 and not summary.skipped
    paths = {r.path for r in library.search_text("photo", k=10)}
    assert paths == {str(folder / "a.jpg"), str(odd)}
    assert os.path.exists(str(odd))
    assert library.photo_details(str(odd))["captions"] == [
        {"source": "sidecar", "text": "A caption beside an odd name"}
    ]
    # Nothing changed: a rescan finds it where it was, and a rename is a move (vector and caption kept).
    again = library.index()
    assert (again.added, again.removed, again.encoded) == (0, 0, 0)
    moved = folder / os.fsdecode(b"\xe9t\xe9.jpg")
    odd.rename(moved)
    (folder / os.fsdecode(b"caf\xe9.txt")).rename(folder / os.fsdecode(b"\xe9t\xe9.txt"))
    after = library.index()
    assert (after.moved, after.encoded, after.removed) == (1, 0, 0)
    assert library.thumbnail(str(moved)) is not None
    assert [f.path for f in library.folders()] == [str(folder)]


@needs_bytes_names
def test_a_watched_folder_with_an_odd_name(library, tmp_path):
    folder = tmp_path / os.fsdecode(b"\xe9t\xe9")
    make_photo(folder / "a.jpg", seed=1)
    library.add_folder(folder)
    assert library.index().encoded == 1
    assert [f.path for f in library.folders()] == [str(folder)]
    assert [r.path for r in library.search_text("a", k=5, folder=str(folder))] == [str(folder / "a.jpg")]
