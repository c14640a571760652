"""The scan: watched folders nested in one another each own their photos, and no rescan takes photos,
captions or problems away from the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from photosearch.core.library import Library
from tests.conftest import TINY_MODEL, make_photos


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    root, sub = tmp_path / "photos", tmp_path / "photos" / "trips"
    make_photos(root, 3)
    make_photos(sub, 4, start=10)
    return root, sub


def _library(tmp_path: Path) -> Library:
    return Library(tmp_path / "lib", model=TINY_MODEL, pretrained="random")


def _caption(tmp_path: Path, library: Library, photo: Path, text: str) -> None:
    csv = tmp_path / "captions.csv"
    csv.write_text(f"image,description\n{photo},{text}\n")
    library.import_captions(csv)


@pytest.mark.parametrize("order", ["child first", "parent first"])
def test_nested_watched_folders_keep_their_photos_and_captions_on_every_rescan(tmp_path, tree, order):
    root, sub = tree
    library = _library(tmp_path)
    first, second = (sub, root) if order == "child first" else (root, sub)
    library.add_folder(first)
    library.index()
    _caption(tmp_path, library, sub / "photo_0010.jpg", "zebra crossing")
    library.add_folder(second)
    summary = library.index()
    assert summary.removed == 0
    assert summary.added == (3 if order == "child first" else 0)
    for _ in range(3):  # each later rescan finds nothing to do
        again = library.index()
        assert (again.added, again.removed, again.moved, again.encoded) == (0, 0, 0, 0)
    status = library.status()
    assert status["photos"]["indexed"] == 7 and status["captions"] == 1
    counts = {Path(f.path).name: f.photos for f in library.folders()}
    assert counts == {"photos": 3, "trips": 4}  # the nested folder owns the photos below it
    library.close()


def test_a_problem_in_a_nested_folder_is_reported_once(tmp_path, tree):
    root, sub = tree
    (sub / "broken.jpg").write_bytes(b"not a jpeg at all")
    (sub / "elsewhere").symlink_to("/")
    library = _library(tmp_path)
    library.add_folder(root)
    library.add_folder(sub)
    first = library.index()
    assert [Path(s.path).name for s in first.skipped].count("elsewhere") == 1
    for _ in range(3):
        again = library.index()
        assert [Path(s.path).name for s in again.skipped] == []  # already said: not reported again
    library.close()


def test_unwatching_a_nested_folder_hands_its_photos_to_the_folder_around_it(tmp_path, tree):
    root, sub = tree
    library = _library(tmp_path)
    library.add_folder(root)
    library.add_folder(sub)
    library.index()
    _caption(tmp_path, library, sub / "photo_0010.jpg", "zebra crossing")
    assert library.remove_folder(sub) == 0  # nothing forgotten: the outer folder still watches them
    assert {Path(f.path).name: f.photos for f in library.folders()} == {"photos": 7}
    again = library.index()
    assert (again.added, again.removed, again.encoded) == (0, 0, 0)
    assert library.status()["captions"] == 1
    assert library.remove_folder(root) == 7  # the last folder holding them: forgotten
    assert library.status()["photos"]["indexed"] == 0
    library.close()
