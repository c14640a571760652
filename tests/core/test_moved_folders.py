"""An offline watched folder whose photos are (nearly) all in another watched folder: probably moved."""

from __future__ import annotations

import shutil

from photosearch.core.moved_folders import MovedFolder, moved_folders
from tests.conftest import make_photos
from tests.core.photo_meta import index_then_rename


def test_a_renamed_folder_is_found_in_its_new_place(library, tmp_path):
    a, b = index_then_rename(library, tmp_path)
    assert moved_folders(library.store) == [MovedFolder(str(a), photos=5, found=5, elsewhere=str(b))]
    assert library.index().moved_folders == [MovedFolder(str(a), photos=5, found=5, elsewhere=str(b))]
    library.remove_folder(a)
    assert moved_folders(library.store) == [] and library.index().moved_folders == []


def test_mostly_there_counts_spread_does_not_name_one_folder_and_too_few_is_not_a_move(library, tmp_path):
    a = tmp_path / "A"
    make_photos(a, 10)
    library.add_folder(a)
    library.index()
    b, c = tmp_path / "B", tmp_path / "C"
    shutil.copytree(a, b)
    for name in ("photo_0000.jpg", "photo_0001.jpg"):
        (b / name).unlink()
    b.mkdir(exist_ok=True)
    shutil.copy(a / "photo_0000.jpg", tmp_path / "spare.jpg")
    a.rename(tmp_path / "away")
    library.add_folder(b)
    library.index()
    assert moved_folders(library.store) == []  # 8 of 10: some other story than a move
    c.mkdir()
    shutil.copy(tmp_path / "spare.jpg", c / "photo_0000.jpg")  # 9 of 10, over two folders
    library.add_folder(c)
    library.index()
    assert moved_folders(library.store) == [MovedFolder(str(a), photos=10, found=9, elsewhere=None)]
    library.remove_folder(c)
    shutil.copy(tmp_path / "spare.jpg", b / "again.jpg")  # 9 of 10, all in B
    library.index()
    assert moved_folders(library.store) == [MovedFolder(str(a), photos=10, found=9, elsewhere=str(b))]


def test_an_online_folder_or_an_offline_one_with_nothing_elsewhere_is_not_reported(library, tmp_path):
    a, b = tmp_path / "A", tmp_path / "B"
    make_photos(a, 3)
    shutil.copytree(a, b)
    library.add_folders([a, b])
    library.index()
    assert moved_folders(library.store) == []  # copies, both online
    (b / "photo_0000.jpg").unlink()
    (b / "photo_0001.jpg").unlink()
    (b / "photo_0002.jpg").unlink()
    make_photos(b, 1, start=50)
    a.rename(tmp_path / "away")
    library.index()
    assert moved_folders(library.store) == []
