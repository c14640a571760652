"""The browse timeline: month headers, lazy pages read off the GUI thread, the date scrubber, and the
window showing it for an empty box."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, Signal

from photosearch.core.browse import Month
from photosearch.core.types import SearchResult
from photosearch.ui.background_reads import BackgroundReads
from photosearch.ui.date_scrubber import DateScrubber
from photosearch.ui.timeline import PAGE, HeaderRole, TimelineModel, TimelinePanel, month_label
from tests.core.photo_meta import write_photo
from tests.ui.conftest import gui_args, make_library, open_window

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


def _shown_panel(qtbot, fetch, months, size: tuple[int, int]) -> TimelinePanel:
    panel = TimelinePanel(_Loader(), tile=64)
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    panel.load(fetch, months)
    return panel


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
    panel = _shown_panel(qtbot, fetch, [], (800, 600))
    qtbot.waitUntil(lambda: panel.model.rowCount() > 0)
    qtbot.waitUntil(lambda: not panel.model.loading)
    first = len(calls)
    bar = panel.view.verticalScrollBar()

    def scrolled_for_more() -> bool:
        bar.setValue(bar.maximum())
        return len(calls) > first

    qtbot.waitUntil(scrolled_for_more)  # the view asked for more once scrolled to the end
    assert panel.model.photo_count() < 10 * PAGE or not panel.model.canFetchMore()


def test_pages_are_read_off_the_gui_thread_and_a_stale_page_is_dropped(qtbot):
    photos, _, _ = _fake_library(3 * PAGE)
    threads: list[int] = []
    release = threading.Event()

    def slow_fetch(offset: int, k: int) -> list[SearchResult]:
        threads.append(threading.get_ident())
        if offset == 0 and len(threads) == 1:
            release.wait(10)  # the first page is still being read when the user jumps
        return photos[offset : offset + k]

    reads = BackgroundReads()
    model = TimelineModel(_Loader(), reads=reads)
    model.reset(slow_fetch)
    assert model.rowCount() == 0 and model.loading  # nothing read on the GUI thread
    model.reset(slow_fetch, 2 * PAGE)  # a jump while the first page is on its way
    release.set()
    qtbot.waitUntil(lambda: reads.delivered == 2)
    assert threading.get_ident() not in threads
    assert model.start == 2 * PAGE and model.result(1).path == photos[2 * PAGE].path  # the old page never landed
    assert model.photo_count() == PAGE and model.canFetchMore()
    model.fetchMore()  # past the last photo: an empty page ends it
    qtbot.waitUntil(lambda: reads.delivered == 3)
    assert model.photo_count() == PAGE and not model.canFetchMore()


def test_a_failed_page_is_reported_not_raised(qtbot):
    def broken(offset: int, k: int) -> list[SearchResult]:
        raise OSError("disk went away")

    model = TimelineModel(_Loader(), reads=BackgroundReads())
    with qtbot.waitSignal(model.pageFailed) as failed:
        model.reset(broken)
    assert "disk went away" in failed.args[0] and model.rowCount() == 0 and not model.canFetchMore()


def _months_of(photos: list[SearchResult]) -> list[Month]:
    months: list[Month] = []
    for i, p in enumerate(photos):
        when = dt.datetime.fromtimestamp(p.date, dt.UTC)
        if months and (months[-1].year, months[-1].month) == (when.year, when.month):
            last = months[-1]
            months[-1] = Month(last.year, last.month, last.count + 1, last.start)
        else:
            months.append(Month(when.year, when.month, 1, i))
    return months


def _drag(qtbot, scrubber: DateScrubber, y_from: int, y_to: int) -> None:
    qtbot.mousePress(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(30, y_from))
    qtbot.mouseMove(scrubber, QPoint(30, (y_from + y_to) // 2))
    qtbot.mouseMove(scrubber, QPoint(30, y_to))


def test_scrubber_names_the_month_under_the_cursor_and_jumps_on_release(qtbot):
    photos, fetch, calls = _fake_library(400)
    months = _months_of(photos)
    panel = _shown_panel(qtbot, fetch, months, (800, 600))
    qtbot.waitUntil(lambda: panel.model.photo_count() == PAGE)
    scrubber = panel.scrubber
    assert scrubber.years() == [str(year) for year in range(2024, 2013, -1)]  # a photo every 10 days
    target = next(m for m in months if (m.year, m.month) == (2022, 6))
    y = int(scrubber.y_of(target.start + target.count // 2))
    _drag(qtbot, scrubber, 20, y)
    assert scrubber.bubble.isVisible() and scrubber.bubble.text() == "June 2022"
    assert calls == [(0, PAGE)]  # dragging alone reads nothing
    with qtbot.waitSignal(scrubber.jump) as jumped:
        qtbot.mouseRelease(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(30, y))
    assert jumped.args == [target.start]
    qtbot.waitUntil(lambda: panel.model.photo_count() > 0)
    assert calls[-1] == (target.start, PAGE) and panel.model.headers()[0] == "June 2022"
    assert panel.model.result(1).path == photos[target.start].path and scrubber.position == target.start
    # the top of the strip is the newest photo again
    _drag(qtbot, scrubber, y, 0)
    qtbot.mouseRelease(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(30, 0))
    qtbot.waitUntil(lambda: calls[-1] == (0, PAGE) and panel.model.photo_count() > 0)


def test_scrubber_reaches_every_month_at_100000_photos(qtbot):
    """A strip of 600 px over 100,000 photos in 120 months: each month a band, the oldest reachable, and a
    jump reads one page at that month's position (never the photos before it)."""
    day = 86400
    start = _stamp(2024, 12, 31)
    photos = [SearchResult(path=f"/p/{i:06d}.jpg", score=None, date=start - i * (3650 * day / 100_000))
              for i in range(100_000)]
    months = _months_of(photos)
    assert 119 <= len(months) <= 122
    calls: list[tuple[int, int]] = []

    def fetch(offset: int, k: int) -> list[SearchResult]:
        calls.append((offset, k))
        return photos[offset : offset + k]

    panel = _shown_panel(qtbot, fetch, months, (900, 640))
    qtbot.waitUntil(lambda: panel.model.photo_count() == PAGE)
    scrubber = panel.scrubber
    for month in months:
        middle = scrubber.y_of(month.start + month.count / 2)
        assert scrubber.month_at(middle) == month
    oldest = months[-1]
    _drag(qtbot, scrubber, 10, scrubber.height() - 1)
    assert scrubber.bubble.text() == f"{dt.date(oldest.year, oldest.month, 1):%B %Y}"
    qtbot.mouseRelease(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(30, scrubber.height() - 1))
    qtbot.waitUntil(lambda: panel.model.start == oldest.start and panel.model.photo_count() > 0)
    assert calls[-1] == (oldest.start, PAGE) and len(calls) == 2
    assert panel.model.result(1).path == photos[oldest.start].path


def test_scrolling_up_after_a_jump_reads_the_newer_photos_and_keeps_the_place(qtbot):
    photos, fetch, calls = _fake_library(5 * PAGE)
    panel = _shown_panel(qtbot, fetch, _months_of(photos), (700, 500))
    qtbot.waitUntil(lambda: panel.model.photo_count() == PAGE)
    panel.jump_to(3 * PAGE + 50)
    qtbot.waitUntil(lambda: panel.model.photo_count() > 0 and not panel.model.loading)
    assert calls[-1] == (3 * PAGE + 50, PAGE) and panel.model.start == 3 * PAGE + 50
    top_photo = panel.model.result(panel.top_row() + 1) or panel.model.result(panel.top_row())
    wheel_up(qtbot, panel.view)  # at the top already: the wheel asks for the photos before
    qtbot.waitUntil(lambda: panel.model.start == 2 * PAGE + 50 and not panel.model.loading)
    assert calls[-1] == (2 * PAGE + 50, PAGE)
    qtbot.waitUntil(lambda: panel.view.verticalScrollBar().value() > 0)  # the same photo is still in view
    visible = panel.view.viewport().rect()
    assert panel.view.visualRect(panel.model.index(panel.model.row_of(top_photo.path))).intersects(visible)
    # up to the newest photo, each month with one header, every row at its browse position
    while panel.model.start > 0:
        before = panel.model.start
        panel.view.verticalScrollBar().setValue(0)
        wheel_up(qtbot, panel.view)
        qtbot.waitUntil(lambda b=before: panel.model.start < b and not panel.model.loading)
    model = panel.model
    headers = model.headers()
    assert len(headers) == len(set(headers)) and headers[0] == "December 2024"
    shown = [model.result(r) for r in range(model.rowCount()) if model.result(r) is not None]
    assert [r.path for r in shown] == [p.path for p in photos[: len(shown)]]
    assert all(model.position(r) == photos.index(model.result(r)) for r in range(0, model.rowCount(), 37)
               if model.result(r) is not None)


def wheel_up(qtbot, view) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    centre = QPointF(view.viewport().rect().center())
    event = QWheelEvent(centre, view.viewport().mapToGlobal(centre), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def test_scrubber_marker_follows_the_scrolled_view(qtbot):
    photos, fetch, _ = _fake_library(3 * PAGE)
    panel = _shown_panel(qtbot, fetch, _months_of(photos), (700, 400))
    qtbot.waitUntil(lambda: panel.model.photo_count() >= PAGE and not panel.model.loading)
    assert panel.scrubber.position == 0
    bar = panel.view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum() // 2)
    qtbot.waitUntil(lambda: panel.scrubber.position > 0)
    assert panel.scrubber.position == panel.top_position() and panel.top_position() < panel.model.photo_count()


@pytest.fixture
def dated_library(tmp_path: Path):
    photos = tmp_path / "photos"
    for i, taken in enumerate(["2021:03:04 10:00:00", "2021:03:20 10:00:00", "2019:08:01 10:00:00"]):
        write_photo(photos / f"d{i}.jpg", i, taken=taken)
    write_photo(photos / "lighthouse-coast.jpg", 9, taken="2018:01:01 00:00:00", keywords=["Beacon"])
    return make_library(tmp_path, photos)


def test_window_browses_the_timeline_when_the_box_is_empty(qtbot, dated_library):
    root, _ = dated_library
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.jobs_done >= 1, timeout=WAIT)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.timeline, timeout=WAIT)
    model = window.timeline.model
    qtbot.waitUntil(lambda: model.headers() == ["March 2021", "August 2019", "January 2018"], timeout=WAIT)
    assert [Path(model.result(r).path).name for r in range(model.rowCount()) if model.result(r)] == [
        "d1.jpg", "d0.jpg", "d2.jpg", "lighthouse-coast.jpg"
    ]
    # the scrubber's months follow just after the first screen
    qtbot.waitUntil(lambda: window.timeline.scrubber.years() == ["2021", "2019", "2018"])
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


def test_browsing_gives_the_caption_panel_s_width_to_the_timeline(qtbot, dated_library):
    root, _ = dated_library
    window = open_window(qtbot, gui_args(root))
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.jobs_done >= 1, timeout=WAIT)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.timeline, timeout=WAIT)
    assert not window.caption_panel.isVisible()  # no query: no caption matches to show
    # 1280 px less the 220 px folder list: the photos get all the rest (with the panel, 320 px less).
    qtbot.waitUntil(lambda: window.timeline.width() > 1000)
    window.search_bar.set_text("lighthouse")
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.grid, timeout=WAIT)
    assert window.caption_panel.isVisible()
    qtbot.waitUntil(lambda: window.grid.width() < 800)
    window.menu_actions["captions"].setChecked(False)  # the person's own choice wins
    assert not window.caption_panel.isVisible()
    window.clear_query()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.timeline, timeout=WAIT)
    window.menu_actions["captions"].setChecked(True)
    assert not window.caption_panel.isVisible()  # still browsing
    window.search_bar.set_text("lighthouse")
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.grid, timeout=WAIT)
    assert window.caption_panel.isVisible()


def test_scrubber_alone_with_no_months(qtbot):
    scrubber = DateScrubber()
    qtbot.addWidget(scrubber)
    scrubber.set_months([])
    assert scrubber.years() == [] and scrubber.month_at(10) is None
    qtbot.mousePress(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    qtbot.mouseRelease(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    assert not scrubber.dragging and not scrubber.bubble.isVisible()


def test_scrubber_let_go_beside_the_strip_hides_the_bubble_and_still_jumps(qtbot):
    months = [Month(2024, 12, 10, 0), Month(2024, 11, 10, 10)]
    scrubber = DateScrubber()
    qtbot.addWidget(scrubber)
    scrubber.resize(64, 400)
    scrubber.show()
    scrubber.set_months(months)
    _drag(qtbot, scrubber, 20, 390)
    assert scrubber.bubble.text() == "November 2024"
    with qtbot.waitSignal(scrubber.jump) as jumped:
        qtbot.mouseRelease(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(-40, 390))
    assert jumped.args == [10] and not scrubber.bubble.isVisible() and scrubber.hover is None
