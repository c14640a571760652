"""The scan: watched folders nested in one another each own their photos, and no rescan takes photos,
captions or problems away from the other."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from photosearch.core import indexer, scanner
from photosearch.core.library import Library
from photosearch.core.store import DB_NAME
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


def _scan_tree(tmp_path: Path) -> tuple[Path, list[Path]]:
    root = tmp_path / "many"
    dirs = [root / f"d{i}" for i in range(5)]
    for i, directory in enumerate(dirs):
        make_photos(directory, 1, start=200 + i)
    return root, dirs


def _noting_listings(monkeypatch, root: Path, event: threading.Event) -> list[str]:
    """Every folder under root the scan lists, in order (the root twice: the offline check looks in it
    first); `event` is set as the scan lists its first subfolder, four others still to go."""
    listed: list[str] = []
    real = os.scandir

    def noting(path=".", *args):
        if str(path).startswith(str(root)):
            listed.append(str(path))
            if str(path) != str(root) and len(set(listed)) == 2:  # the first subfolder, once
                event.set()
        return real(path, *args)

    monkeypatch.setattr(scanner.os, "scandir", noting)
    return listed


def test_pause_holds_the_scan_between_folders_with_no_transaction_open(tmp_path, monkeypatch):
    """A long scan obeys Pause: no further folder is listed until Resume (the app's Pause took effect
    only after the scan); while it waits, another process can write to the library."""
    root, dirs = _scan_tree(tmp_path)
    library = _library(tmp_path)
    library.add_folder(root)
    pause, held = threading.Event(), threading.Event()
    listed = _noting_listings(monkeypatch, root, pause)
    listed_when_held: list[list[str]] = []
    wait = indexer._wait_if_paused

    def noted(pause_event, cancel):  # where a paused run waits: the test sees it get there
        if pause_event is not None and pause_event.is_set() and not held.is_set():
            listed_when_held.append(list(listed))
            held.set()
        wait(pause_event, cancel)

    monkeypatch.setattr(indexer, "_wait_if_paused", noted)
    run = threading.Thread(target=lambda: (library.index(pause=pause, read_text=False), held.set()))
    run.start()
    try:
        assert held.wait(60)
        assert run.is_alive()  # paused, not over
        assert set(listed_when_held[0]) == {str(root), listed[-1]}  # held right after the folder that paused it
        assert listed == listed_when_held[0]  # and nothing more listed while held
        other = sqlite3.connect(library.root / DB_NAME, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # no write transaction is held while paused
            other.execute("ROLLBACK")
        finally:
            other.close()
    finally:
        pause.clear()
        run.join(60)
    assert not run.is_alive()
    assert set(listed) == {str(root), *map(str, dirs)}
    assert library.status()["photos"]["indexed"] == len(dirs)
    library.close()


def test_cancel_during_the_scan_stops_it_and_loses_nothing(tmp_path, monkeypatch):
    root, dirs = _scan_tree(tmp_path)
    library = _library(tmp_path)
    library.add_folder(root)
    library.index(read_text=False)
    cancel = threading.Event()
    listed = _noting_listings(monkeypatch, root, cancel)
    summary = library.index(cancel=cancel, read_text=False)
    assert summary.cancelled
    assert len(set(listed)) == 2  # stopped in the scan, right after the folder that cancelled it
    assert library.status()["photos"]["indexed"] == len(dirs)  # the half-scanned tree's photos are not taken as gone
    library.close()
