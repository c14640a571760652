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


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """3,000 photos over 25 years, a third of them sharing a few dates (ties go by id)."""
    from benchmarks.fused_query import MODEL_ID, build_library
    from photosearch.core.search import SearchEngine

    store = build_library(tmp_path_factory.mktemp("browse") / "lib", 3000, 16)
    with store.write() as conn:
        conn.execute("UPDATE photos SET taken = 1e9 + (id % 4) * 86400 WHERE id % 3 = 0")
    yield SearchEngine(store, MODEL_ID)
    store.close()


def _expected_order(engine, filters: Filters) -> list[int]:
    rows = engine.store.query("SELECT id, COALESCE(taken, mtime_ns / 1e9), path FROM photos WHERE state = 'indexed'")
    rows = [r for r in rows if (filters.after is None or r[1] >= filters.after)]
    rows = [r for r in rows if (filters.before is None or r[1] < filters.before)]
    rows = [r for r in rows if filters.folder is None or r[2].startswith(filters.folder + "/")]
    return [r[0] for r in sorted(rows, key=lambda r: (-r[1], -r[0]))]


def _ids(results) -> list[int]:
    return [r.photo_id for r in results]


@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters.from_text(after="2005", before="2016"), Filters(folder="/bench/photos/2010")],
    ids=["all", "dated", "folder"],
)
def test_pages_from_anchors_match_the_full_order(big, filters):
    """Scrolling page after page, jumping to months and to any position give the same photos as
    sorting the whole table, while each page starts from where an earlier one ended."""
    want = _expected_order(big, filters)
    got = []
    while page := big.browse(137, len(got), filters=filters):
        got += _ids(page)
    assert got == want
    months = big.months(filters)
    assert sum(m.count for m in months) == len(want)
    for month in months[::5]:
        assert _ids(big.browse(50, month.start, filters=filters)) == want[month.start : month.start + 50]
    for offset in (3, len(want) // 2 + 7, len(want) - 5, len(want) + 10):
        assert _ids(big.browse(20, offset, filters=filters)) == want[offset : offset + 20]


def test_anchors_are_dropped_when_the_library_changes(big):
    for offset in range(0, 1000, 200):
        big.browse(200, offset)
    (newest,) = big.store.query("SELECT MAX(COALESCE(taken, mtime_ns / 1e9)) FROM photos")[0]
    with big.store.write() as conn:  # a photo newer than all: every position moves down by one
        conn.execute(
            "INSERT INTO photos(id, path, folder_id, size, mtime_ns, fingerprint, taken, state) "
            "VALUES (99999, '/bench/photos/new.jpg', 1, 1, 0, 'fpnew', ?, 'indexed')",
            (newest + 10,),
        )
    want = _expected_order(big, Filters())
    assert want[0] == 99999
    assert _ids(big.browse(200, 600)) == want[600:800]
    assert _ids(big.browse(5, 0)) == want[:5]


def test_browse_leaves_out_offline_photos_shown_online_elsewhere(tmp_path):
    from tests.core.photo_meta import index_then_rename

    library = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    try:
        a, b = index_then_rename(library, tmp_path)
        assert sorted(_names(library.browse(20))) == [f"p{i}.jpg" for i in range(5)]
        assert all(r.path.startswith(str(b)) for r in library.browse(20))
        assert library.engine().browse_count() == 5 and sum(m.count for m in library.months()) == 5
        assert len(library.browse(20, filters=Filters(folder=str(a)))) == 5  # the old folder, asked for
    finally:
        library.close()


def test_pages_leave_out_offline_twins_and_keep_their_order(tmp_path):
    """An offline folder holding copies of some online photos (and photos of its own): pages, months and
    counts agree with the full order less the offline copies."""
    from benchmarks.fused_query import MODEL_ID, build_library
    from photosearch.core.search import SearchEngine

    store = build_library(tmp_path / "lib", 600, 16)
    with store.write() as conn:
        conn.execute("INSERT INTO folders(id, path, added, online) VALUES (2, '/old', 0, 0)")
        conn.execute(
            "INSERT INTO photos(path, folder_id, size, mtime_ns, fingerprint, taken, state, offline) "
            "SELECT '/old/' || id || '.jpg', 2, size, mtime_ns, CASE WHEN id % 3 = 0 THEN 'own' || id "
            "ELSE fingerprint END, taken, 'indexed', 1 FROM photos WHERE id % 2 = 0"
        )
    engine = SearchEngine(store, MODEL_ID)
    try:
        old = Filters(folder="/old")  # asked for, the offline folder shows its own photos
        for filters in (Filters(), Filters.from_text(after="2005", before="2016"), old):
            want = _without_offline_twins(store, _expected_order(engine, filters))
            assert len(want) == {Filters(): 600 + 100, old: 300}.get(filters, len(want)) > 0
            got = []
            while page := engine.browse(137, len(got), filters=filters):
                got += _ids(page)
            assert got == want
            assert sum(m.count for m in engine.months(filters)) == len(want) == engine.browse_count(filters)
    finally:
        store.close()


def _without_offline_twins(store, ids: list[int]) -> list[int]:
    """ids less the offline photos whose content an online photo among the same ids has."""
    rows = {i: (fp, bool(off)) for i, fp, off in store.query("SELECT id, fingerprint, offline FROM photos")}
    online = {rows[i][0] for i in ids if not rows[i][1]}
    return [i for i in ids if not (rows[i][1] and rows[i][0] in online)]
