"""Browsing: every photo newest first by date taken (EXIF DateTimeOriginal, else the file's time)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from photosearch.core.filters import Filters
from photosearch.core.library import Library
from tests.conftest import TINY_MODEL
from tests.core.photo_meta import write_photo


def _utc(*parts: int) -> float:
    return dt.datetime(*parts, tzinfo=dt.UTC).timestamp()


@pytest.fixture
def lib(tmp_path: Path):
    folder = tmp_path / "photos"
    # Taken dates disagree with the file times on purpose: the date taken must win.
    write_photo(folder / "a.jpg", 1, taken="2018:05:01 12:00:00", mtime=_utc(2024, 1, 1))
    write_photo(folder / "b.jpg", 2, taken="2019:07:14 10:00:00", mtime=_utc(2010, 1, 1))
    write_photo(folder / "c.jpg", 3, mtime=_utc(2019, 7, 20))  # no EXIF: the file's time
    write_photo(folder / "trip" / "d.jpg", 4, taken="2019:12:31 23:59:59", mtime=_utc(2011, 1, 1))
    write_photo(folder / "trip" / "e.jpg", 5, taken="2017:01:02 08:00:00", mtime=_utc(2012, 1, 1))
    library = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    library.add_folder(folder)
    library.index()
    library.folder_path = folder
    yield library
    library.close()


def _names(results) -> list[str]:
    return [Path(r.path).name for r in results]


def test_browse_lists_newest_first_by_date_taken_with_no_score(lib):
    results = lib.browse(10)
    assert _names(results) == ["d.jpg", "c.jpg", "b.jpg", "a.jpg", "e.jpg"]
    assert all(r.score is None for r in results)
    row = results[2].to_json()
    assert row["date"] == "2019-07-14T10:00:00" and row["score"] is None and row["why"] == []
    assert results[1].to_json()["date"] == "2019-07-20T00:00:00"  # the file's time


def test_browse_pages(lib):
    assert _names(lib.browse(2)) == ["d.jpg", "c.jpg"]
    assert _names(lib.browse(2, 2)) == ["b.jpg", "a.jpg"]
    assert _names(lib.browse(2, 4)) == ["e.jpg"]
    assert lib.browse(2, 10) == []


@pytest.mark.parametrize(
    ("after", "before", "expected"),
    [
        ("2019", None, ["d.jpg", "c.jpg", "b.jpg"]),
        (None, "2018", ["a.jpg", "e.jpg"]),  # before is inclusive of its whole year
        ("2019-07", "2019-07", ["c.jpg", "b.jpg"]),
        ("2019-07-14", "2019-07-14", ["b.jpg"]),
        ("2019-12-31", None, ["d.jpg"]),
        ("2020", None, []),
    ],
)
def test_date_filters(lib, after, before, expected):
    assert _names(lib.browse(10, filters=Filters.from_text(after=after, before=before))) == expected


def test_folder_filter_and_months(lib):
    trip = str(lib.folder_path / "trip")
    assert _names(lib.browse(10, filters=Filters(folder=trip))) == ["d.jpg", "e.jpg"]
    months = lib.months()
    assert [(m.year, m.month, m.count, m.start) for m in months] == [
        (2019, 12, 1, 0),
        (2019, 7, 2, 1),
        (2018, 5, 1, 3),
        (2017, 1, 1, 4),
    ]
    assert [(m.year, m.month) for m in lib.months(Filters(folder=trip))] == [(2019, 12), (2017, 1)]


def test_search_and_similar_take_the_same_filters_and_sort_by_date(lib):
    dated = Filters.from_text(after="2019")
    assert set(_names(lib.search_text("a photo", k=10, filters=dated))) == {"b.jpg", "c.jpg", "d.jpg"}
    by_date = lib.search_text("a photo", k=10, sort="date")
    assert _names(by_date) == ["d.jpg", "c.jpg", "b.jpg", "a.jpg", "e.jpg"]
    similar = lib.search_image(str(lib.folder_path / "a.jpg"), k=10, filters=dated, sort="date")
    assert _names(similar) == ["d.jpg", "c.jpg", "b.jpg"]
    assert all(r.date is not None for r in similar)
