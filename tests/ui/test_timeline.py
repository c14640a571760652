"""The browse timeline: month headers, lazy pages, the year list, and the window showing it for an empty box."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal

from photosearch.core.types import SearchResult
from photosearch.ui.timeline import PAGE, HeaderRole, TimelineModel, TimelinePanel, YearList, month_label
from tests.core.photo_meta import write_photo
from tests.ui.conftest import TINY, gui_args, open_window

WAIT = 60000


def _stamp(year: int, month: int, day: int = 1) -> float:
    return dt.datetime(year, month, day, tzinfo=dt.UTC).timestamp()


class _Loader(QObject):
    """Stands in for the ThumbnailLoader: no thumbnails, never failed."""

    ready = Signal(str)

    def pixmap(self, path, fingerprint):
        return None

    def failed(self, path):
        return False

    def settled(self, path):
        return True


def _fake_library(n: int):
    """n photos, one every 10 days back from 2024-12-31, and a fetch that counts its calls."""
    start = _stamp(2024, 12, 31)
    photos = [SearchResult(path=f"/p/{i:05d}.jpg", score=None, date=start - i * 10 * 86400) for i in range(n)]
    calls: list[tuple[int, int]] = []

    def fetch(offset: int, k: int) -> list[SearchResult]:
        calls.append((offset, k))
        return photos[offset : offset + k]

    return photos, fetch, calls


def test_month_headers_go_before_each_new_month(qtbot):
    photos, fetch, _ = _fake_library(40)
    model = TimelineModel(_Loader())
    model.reset(fetch)
    labels = [model.data(model.index(r), HeaderRole) for r in range(model.rowCount())]
    headers = [label for label in labels if label]
    expected = list(dict.fromkeys(month_label(p.date) for p in photos))
    assert headers == expected and headers[0] == "December 2024"
    assert labels[0] == "December 2024" and model.result(0) is None and model.result(1).path == photos[0].path
    assert model.photo_count() == 40 and not model.canFetchMore()


def test_pages_load_only_as_the_view_asks(qtbot):
    photos, fetch, calls = _fake_library(5 * PAGE + 7)
    model = TimelineModel(_Loader())
    model.reset(fetch)
    assert calls == [(0, PAGE)] and model.photo_count() == PAGE and model.canFetchMore()
    model.fetchMore()
    assert calls[-1] == (PAGE, PAGE) and model.photo_count() == 2 * PAGE
    while model.canFetchMore():
        model.fetchMore()
    assert model.photo_count() == len(photos) and model.fetches == 6


def test_scrolling_the_view_fetches_more_pages(qtbot):
    _, fetch, calls = _fake_library(10 * PAGE)
    panel = TimelinePanel(_Loader(), tile=64)
    qtbot.addWidget(panel)
    panel.resize(800, 600)
    panel.show()
    panel.load(fetch, [])
    qtbot.waitUntil(lambda: panel.model.rowCount() > 0)
    first = len(calls)
    bar = panel.view.verticalScrollBar()
    for _ in range(30):
        bar.setValue(bar.maximum())
        qtbot.wait(20)
        if len(calls) > first + 1:
            break
    assert len(calls) > first  # the view asked for more once scrolled to the end
    assert panel.model.photo_count() < 10 * PAGE or not panel.model.canFetchMore()


def test_year_list_jumps_to_a_years_newest_photo(qtbot):
    from photosearch.core.browse import Month

    photos, fetch, calls = _fake_library(400)
    panel = TimelinePanel(_Loader(), tile=64)
    qtbot.addWidget(panel)
    months = [Month(2024, 12, 3, 0), Month(2024, 11, 3, 3), Month(2023, 12, 3, 40), Month(2022, 5, 2, 90)]
    panel.load(fetch, months)
    assert panel.years.years() == ["Newest", "2024  (6)", "2023  (3)", "2022  (2)"]
    panel.years.itemClicked.emit(panel.years.item(2))
    assert calls[-1] == (40, PAGE)
    assert panel.model.result(1).path == photos[40].path and panel.model.start == 40
    panel.years.itemClicked.emit(panel.years.item(0))
    assert calls[-1] == (0, PAGE)


@pytest.fixture
def dated_library(tmp_path: Path):
    from photosearch.core.library import Library

    photos = tmp_path / "photos"
    for i, taken in enumerate(["2021:03:04 10:00:00", "2021:03:20 10:00:00", "2019:08:01 10:00:00"]):
        write_photo(photos / f"d{i}.jpg", i, taken=taken)
    write_photo(photos / "lighthouse-coast.jpg", 9, taken="2018:01:01 00:00:00", keywords=["Beacon"])
    root = tmp_path / "library"
    library = Library(root, model=TINY, pretrained="random", offline=True)
    library.add_folder(photos)
    library.index()
    library.close()
    return root, photos.resolve()


def test_window_browses_the_timeline_when_the_box_is_empty(qtbot, dated_library):
    root, _ = dated_library
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.jobs_done >= 1, timeout=WAIT)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.timeline, timeout=WAIT)
    model = window.timeline.model
    assert model.headers() == ["March 2021", "August 2019", "January 2018"]
    assert [Path(model.result(r).path).name for r in range(model.rowCount()) if model.result(r)] == [
        "d1.jpg", "d0.jpg", "d2.jpg", "lighthouse-coast.jpg"
    ]
    # the year list follows just after the first screen
    qtbot.waitUntil(lambda: window.timeline.years.years() == ["Newest", "2021  (2)", "2019  (1)", "2018  (1)"])
    # a date chip filters the timeline too
    window.filter_chips.set_dates("2019", "2020")
    qtbot.waitUntil(lambda: model.headers() == ["August 2019"], timeout=WAIT)
    # typing switches to results; clearing comes back to the timeline
    window.filter_chips.remove("after")
    window.filter_chips.remove("before")
    window.search_bar.set_text("lighthouse")
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.grid, timeout=WAIT)
    window.clear_query()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.timeline, timeout=WAIT)


def test_year_list_widget_alone(qtbot):
    years = YearList()
    qtbot.addWidget(years)
    years.set_months([])
    assert years.years() == []
