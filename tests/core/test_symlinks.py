"""Symlinks: followed inside the watched folders (loops end), never out of them; what is left out is said."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from photosearch.core.caption_files import read_sidecar
from photosearch.core.scanner import LEFT_OUT
from tests.conftest import make_photo

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symlinks need POSIX here")


def test_a_link_to_the_root_of_the_system_is_left_out_and_said(library, tmp_path):
    folder = tmp_path / "photos"
    make_photo(folder / "a.jpg", seed=1)
    outside = tmp_path / "elsewhere"
    make_photo(outside / "private.jpg", seed=2)
    (folder / "everything").symlink_to("/")
    (folder / "other").symlink_to(outside)
    (folder / "private.jpg").symlink_to(outside / "private.jpg")
    library.add_folder(folder)
    summary = library.index()
    assert summary.added == 1 and summary.encoded == 1
    left_out = {Path(s.path).name: s.reason for s in summary.skipped}
    assert left_out == {"everything": LEFT_OUT, "other": LEFT_OUT, "private.jpg": LEFT_OUT}
    assert {Path(r.path).name for r in library.search_text("x", k=10)} == {"a.jpg"}
    assert len(library.skipped()) == 3  # listed with the skipped files, reported once
    assert library.index().skipped == []


def test_links_inside_the_watched_folders_are_followed_and_loops_end(library, tmp_path):
    folder = tmp_path / "photos"
    make_photo(folder / "real" / "a.jpg", seed=1)
    (folder / "real" / "loop").symlink_to(folder)  # back to the top: a loop
    (folder / "alias").symlink_to(folder / "real")  # the same folder again
    library.add_folder(folder)
    summary = library.index()
    assert not summary.skipped
    assert summary.added == 1  # each folder once: a loop or a second link adds nothing


def test_a_sidecar_linking_out_of_the_watched_folders_is_never_read(library, tmp_path):
    folder = tmp_path / "photos"
    make_photo(folder / "x.jpg", seed=1)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:$6$hash:19000:0:99999:7:::")
    (folder / "x.txt").symlink_to(secret)
    make_photo(folder / "y.jpg", seed=2)
    (folder / "notes.txt").write_text("Lake at dawn")
    (folder / "y.txt").symlink_to(folder / "notes.txt")  # inside: fine
    assert read_sidecar(folder / "x.jpg") is None
    assert read_sidecar(folder / "y.jpg") == "Lake at dawn"
    library.add_folder(folder)
    library.index()
    assert library.photo_details(str(folder / "x.jpg"))["captions"] == []
    assert library.photo_details(str(folder / "y.jpg"))["captions"] == [{"source": "sidecar", "text": "Lake at dawn"}]
    assert all("root:" not in (r.caption or "") for r in library.search_text("x", k=5))


def test_a_watcher_reported_link_leading_out_is_left_out(library, tmp_path):
    folder = tmp_path / "photos"
    make_photo(folder / "a.jpg", seed=1)
    library.add_folder(folder)
    library.index()
    make_photo(tmp_path / "out.jpg", seed=3)
    (folder / "b.jpg").symlink_to(tmp_path / "out.jpg")
    summary = library.apply_changes([str(folder / "b.jpg")])
    assert summary.added == 0 and [s.reason for s in summary.skipped] == [LEFT_OUT]
