"""Caption search under the grid's filters (folder, dates, best matches): filtered before the top k is
cut, so the k captions are the best of those the filters allow, the same as filtering every caption."""

from __future__ import annotations

import csv
import os
from datetime import datetime

import numpy as np
import pytest

from photosearch.core import caption_search
from photosearch.core.filters import Filters
from photosearch.core.fusion import best_matches_cut
from photosearch.core.library import Library
from tests.conftest import TINY_MODEL, make_photos

WORDS = ("cat", "dog", "red", "car", "snow", "river", "city", "night")


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    """Two folders: "old" (3 photos, 2018) with few cat captions, "new" (3 photos, 2022) with many."""
    root = tmp_path_factory.mktemp("dated")
    rows = []
    for name, year, count, offset in (("old", 2018, 3, 0), ("new", 2022, 3, 50)):
        folder = root / "photos" / name
        stamp = datetime(year, 6, 1).timestamp()
        for photo in make_photos(folder, count, start=offset):
            os.utime(photo, (stamp, stamp))
            for i in range(40):
                words = " ".join(WORDS[(i * 3 + j) % len(WORDS)] for j in range(1 + i % 3))
                cat = "cat " if name == "new" or i % 10 == 0 else ""
                rows.append((str(photo), f"{cat}{words} {name} number {i}"))
    with open(root / "captions.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("image", "caption"))
        writer.writerows(rows)
    lib = Library(root / "library", model=TINY_MODEL, pretrained="random")
    lib.add_folder(root / "photos")
    lib.index()
    lib.import_captions(root / "captions.csv")
    yield lib, root / "photos"
    lib.close()


def _paths_allowed(lib: Library, filters: Filters) -> set[str]:
    return {r.path for r in lib.browse(1000, filters=filters)}


@pytest.mark.parametrize("cap", [2_000, 10])
@pytest.mark.parametrize("which", ["old", "new", "2019-", "-2019", "old+2019-"])
def test_filtered_captions_are_the_best_of_those_allowed(dated, monkeypatch, cap, which) -> None:
    lib, photos = dated
    monkeypatch.setattr(caption_search, "LEXICAL_CAP", cap)
    folder, _, dates = which.partition("+")
    if folder.endswith("-") or folder.startswith("-"):
        folder, dates = "", folder
    after, _, before = dates.partition("-")
    filters = Filters.from_text(
        folder=str(photos / folder) if folder else None, after=after or None, before=before or None
    )
    allowed = _paths_allowed(lib, filters)
    everything = lib.search_captions(text="cat", k=1000)
    want = [(r.path, r.caption) for r in everything if r.path in allowed][:20]
    got = [(r.path, r.caption) for r in lib.search_captions(text="cat", k=20, filters=filters)]
    assert got == want and (want or which == "old+2019-")
    image = str(sorted(allowed or {str(photos / "old" / "photo_0000.jpg")})[0])
    want = [r.caption for r in lib.search_captions(image=image, k=1000) if r.path in allowed][:5]
    assert [r.caption for r in lib.search_captions(image=image, k=5, filters=filters)] == want


def test_a_date_range_without_photos_finds_no_captions(dated) -> None:
    lib, _ = dated
    assert lib.search_captions(text="cat", k=20, filters=Filters.from_text(after="2030")) == []
    reversed_range = Filters(after=datetime(2021, 1, 1).timestamp(), before=datetime(2019, 1, 1).timestamp())
    assert lib.search_captions(text="cat", k=20, filters=reversed_range) == []


def test_best_matches_keeps_the_captions_near_the_top(dated) -> None:
    lib, _ = dated
    everything = lib.search_captions(text="cat night", k=1000)
    cut = best_matches_cut(np.array([r.score for r in everything]))
    best = lib.search_captions(text="cat night", k=200, best=True)
    assert 0 < len(best) < 200
    assert [r.caption for r in best] == [r.caption for r in everything if r.score >= cut]
