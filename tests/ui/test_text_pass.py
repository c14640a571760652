"""The text-in-photos pass in the app: background work that steps aside for every other job.

The OCR process is replaced by a reader that reads a photo only when the test lets it through, so the
pass lasts exactly as long as each test needs: nothing here races the clock.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStatusBar

from photosearch.core import ocr
from photosearch.core.ocr_engine import OcrResult
from photosearch.core.types import Progress
from photosearch.ui.status_panel import StatusPanel
from tests.ui.conftest import TINY, gui_args, open_window, write_photos


class HeldReader:
    """Stands in for the OCR process: each photo is read (as text-free) only once the test lets it through."""

    name = "held"

    def __init__(self) -> None:
        self.asked: list[str] = []
        self._held: list[Future] = []
        self._lock = threading.Lock()
        self._open = False

    def ensure_loaded(self) -> None:
        pass

    def restart(self) -> None:
        pass

    def submit(self, path: str) -> Future:
        future: Future = Future()
        with self._lock:
            self.asked.append(path)
            if self._open:
                future.set_result(OcrResult(""))
            else:
                self._held.append(future)
        return future

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._held)

    def let_through(self, count: int = 1) -> None:
        with self._lock:
            released, self._held = self._held[:count], self._held[count:]
        for future in released:
            future.set_result(OcrResult(""))

    def open(self) -> None:
        with self._lock:
            self._open = True
        self.let_through(len(self._held))


@pytest.fixture
def held_reader(qtbot, monkeypatch, photo_library):
    # After photo_library, which reads its photos' text with the real reader.
    reader = HeldReader()
    monkeypatch.setattr(ocr, "shared_reader", lambda: reader)
    yield reader
    reader.open()


@pytest.fixture
def unread_library(photo_library, tmp_path):
    """(library, photos, other): 12 + 4 photos indexed, none of their text read yet."""
    from photosearch.core.library import Library

    root, photos = photo_library
    other = tmp_path / "other"
    write_photos(other, 4, seed=5)
    library = Library(root, model=TINY, pretrained="random", offline=True)
    library.add_folder(other)
    library.index(read_text=False)
    with library.store.write() as conn:
        conn.execute("DELETE FROM ocr_text")  # as if never read
    assert library.status()["ocr"] == {"done": 0, "pending": 16}
    library.close()
    return root, photos, other.resolve()


def start_unwatched(qtbot, root: Path, reader: HeldReader | None = None):
    """The window without its folder watcher: the tests hand it changes themselves, once each."""
    window = open_window(qtbot, gui_args(root), start_worker=False)
    window.watch_enabled = False
    if reader is not None:
        shutdown = window.shutdown

        def let_go_and_shut_down() -> None:  # qtbot closes the window before any fixture's teardown
            reader.open()
            shutdown()

        window.shutdown = let_go_and_shut_down
    window._start.emit()
    return window


def ocr_status(window) -> dict:
    return window.ref.get().status()["ocr"]


def is_job(name: str):
    """A waitSignal check: the worker finished this job."""

    def check(job: str, _summary) -> bool:
        return job == name

    return check


@contextlib.contextmanager
def reads_asked_when(worker, name: str, reader: HeldReader) -> Iterator[list[int]]:
    """How many photos the reader had been asked for when the job `name` finished: noted on the worker's
    thread as `finished` is emitted (a direct connection), before the pass can go on."""
    counts: list[int] = []

    def note(job: str, _summary) -> None:
        if job == name:
            counts.append(len(reader.asked))

    worker.finished.connect(note, Qt.ConnectionType.DirectConnection)
    try:
        yield counts
    finally:
        worker.finished.disconnect(note)


def test_a_watched_change_is_indexed_while_text_is_read_and_the_pass_resumes(
    qtbot, held_reader, unread_library, tmp_path
):
    root, photos, _ = unread_library
    window = start_unwatched(qtbot, root, held_reader)
    qtbot.waitUntil(lambda: held_reader.waiting == 1)  # the text pass holds its first photo
    qtbot.waitUntil(lambda: window.progress.format().startswith("Reading text"))
    (new,) = write_photos(tmp_path / "incoming", 1, seed=7)
    added = photos / "new_arrival.jpg"
    shutil.copy(new, added)
    with (
        reads_asked_when(window.worker, "changes", held_reader) as asked,
        qtbot.waitSignal(window.worker.finished, check_params_cb=is_job("changes")),
    ):
        window._changes.emit([str(added)])  # what the folder watcher sends
        held_reader.let_through(1)  # the photo in hand is finished; then the pass steps aside
    assert asked == [1]  # nothing more was read before the change went in
    assert window.ref.get().status()["photos"]["indexed"] == 17
    # Then the pass carries on where it was, with the new photo among those left.
    qtbot.waitUntil(lambda: len(held_reader.asked) == 2)
    with qtbot.waitSignal(window.worker.finished, check_params_cb=is_job("text")):
        held_reader.open()
    assert len(set(held_reader.asked)) == len(held_reader.asked) == 17  # none read twice
    assert ocr_status(window) == {"done": 17, "pending": 0}


def test_removing_a_folder_while_text_is_read_takes_effect_at_once(qtbot, held_reader, unread_library):
    root, photos, other = unread_library
    window = start_unwatched(qtbot, root, held_reader)
    qtbot.waitUntil(lambda: held_reader.waiting == 1)
    assert held_reader.asked[0].startswith(str(other))  # read in path order: 'other' comes first
    with (
        reads_asked_when(window.worker, "remove", held_reader) as asked,
        qtbot.waitSignal(window.worker.finished, check_params_cb=is_job("remove")),
    ):
        window.remove_folder(str(other))
        held_reader.let_through(1)
    assert asked == [1]
    qtbot.waitUntil(lambda: window._folders == [str(photos)])  # gone from the sidebar
    with qtbot.waitSignal(window.worker.finished, check_params_cb=is_job("text")):
        held_reader.open()
    assert all(p.startswith(str(photos)) for p in held_reader.asked[1:])  # its photos are read no more
    assert len(held_reader.asked) == 13
    assert ocr_status(window) == {"done": 12, "pending": 0}


def test_counts_sidebar_and_timeline_show_a_new_folder_before_its_text_is_read(
    qtbot, held_reader, photo_library, tmp_path
):
    root, _ = photo_library
    window = start_unwatched(qtbot, root, held_reader)
    qtbot.waitUntil(lambda: window.jobs_done >= 1)
    big = tmp_path / "big"
    write_photos(big, 8, seed=9)
    window.add_folder(str(big))
    qtbot.waitUntil(lambda: held_reader.waiting == 1)  # indexed; the text pass has begun on the new photos
    items = window.sidebar.folder_list

    def shown() -> list[str]:
        return [items.item(i).text() for i in range(items.count())]

    qtbot.waitUntil(lambda: "big\n8 photos" in shown())
    qtbot.waitUntil(lambda: window.count_label.text().startswith("20 photos"))
    qtbot.waitUntil(lambda: window.timeline.model.photo_count() == 20)
    qtbot.waitUntil(lambda: window.progress.format().startswith("Reading text"))
    assert window.statusBar().currentMessage().endswith("now reading the text in photos")  # not "Adding …"
    assert len(held_reader.asked) == 1


def test_adding_a_folder_with_nothing_new_does_not_leave_adding_up(qtbot, photo_library, tmp_path):
    root, _ = photo_library
    window = start_unwatched(qtbot, root)
    qtbot.waitUntil(lambda: window.jobs_done >= 1)
    empty = tmp_path / "empty"
    empty.mkdir()
    done = window.jobs_done
    window.add_folder(str(empty))
    assert window.statusBar().currentMessage().startswith("Adding")
    qtbot.waitUntil(lambda: window.jobs_done > done)
    assert not window.statusBar().currentMessage().startswith("Adding")


def test_hiding_progress_while_paused_leaves_it_hidden(qtbot):
    bar = QStatusBar()
    qtbot.addWidget(bar)
    panel = StatusPanel(bar)
    panel.show_progress(Progress("reading text", 16, 300, 0.0, 636.0))
    panel.pause_button.setChecked(True)
    panel.hide_progress()
    assert panel.progress.isHidden() and panel.pause_button.isHidden() and panel.cancel_button.isHidden()
    assert not panel.pause_button.isChecked()


def test_cancel_while_text_reading_is_paused_clears_the_status_bar(qtbot, held_reader, unread_library):
    root, _, _ = unread_library
    window = start_unwatched(qtbot, root, held_reader)
    qtbot.waitUntil(lambda: held_reader.waiting == 1)
    qtbot.waitUntil(lambda: window.pause_button.isVisible())
    window.pause_button.click()
    assert window.progress.format().startswith("Paused")
    done = window.jobs_done
    window.cancel_button.click()
    held_reader.let_through(1)
    qtbot.waitUntil(lambda: window.jobs_done > done)  # the window has heard that the pass ended
    assert not window.progress.isVisible()
    assert not window.pause_button.isVisible() and not window.cancel_button.isVisible()
    assert not window.pause_button.isChecked() and not window.worker.pause_event.is_set()


def test_cancel_while_reading_text_says_so_and_resume_carries_on(qtbot, held_reader, unread_library):
    root, _, _ = unread_library
    window = start_unwatched(qtbot, root, held_reader)
    qtbot.waitUntil(lambda: held_reader.waiting == 1)
    qtbot.waitUntil(lambda: window.cancel_button.isVisible())
    window.cancel_button.click()
    held_reader.let_through(1)
    qtbot.waitUntil(lambda: window.last_status.get("ocr", {}).get("done") == 1)
    assert "Reading text cancelled" in window.statusBar().currentMessage()
    assert window.status_panel.resume_button.isVisible()
    assert window.status_panel.resume_button.text() == "Resume reading text"
    assert not window.progress.isVisible()
    with qtbot.waitSignal(window.worker.finished, check_params_cb=is_job("text")):
        held_reader.open()
        window.status_panel.resume_button.click()
    assert ocr_status(window) == {"done": 16, "pending": 0}
    assert len(set(held_reader.asked)) == len(held_reader.asked) == 16  # the one read before is not read again
    qtbot.waitUntil(lambda: not window.status_panel.resume_button.isVisible())


def test_a_cancel_between_two_parts_of_the_pass_stops_it(qtbot, held_reader, unread_library, tmp_path):
    """Cancel lands after a part stepped aside and before the job it stepped aside for starts (the job
    used to clear it): the job still runs, and no further part of the pass starts."""
    root, photos, _ = unread_library
    window = start_unwatched(qtbot, root, held_reader)
    qtbot.waitUntil(lambda: held_reader.waiting == 1)
    qtbot.waitUntil(lambda: window.cancel_button.isVisible())
    worker = window.worker
    post_next = worker._post_text

    def cancel_in_the_gap() -> None:  # on the worker's thread, as the part that stepped aside returns
        post_next()
        window.cancel_indexing()  # what the Cancel button does; it only sets thread-safe events

    worker._post_text = cancel_in_the_gap
    (new,) = write_photos(tmp_path / "incoming", 1, seed=7)
    added = photos / "new_arrival.jpg"
    shutil.copy(new, added)
    ended: list = []
    worker.finished.connect(lambda job, summary: ended.append(summary) if job == "text" else None)
    window._changes.emit([str(added)])
    held_reader.let_through(1)
    qtbot.waitUntil(lambda: bool(ended) or len(held_reader.asked) > 1)  # the pass ended, or a next part read on
    assert len(held_reader.asked) == 1  # no photo was read after the cancel
    assert ended[0].cancelled
    assert window.ref.get().status()["photos"]["indexed"] == 17  # the change it stepped aside for went in
    assert ocr_status(window) == {"done": 1, "pending": 16}
    qtbot.waitUntil(lambda: "Reading text cancelled" in window.statusBar().currentMessage())


def test_pause_while_indexing_also_holds_the_text_pass_that_follows(qtbot, held_reader, unread_library, monkeypatch):
    """Pause clicked as an index job ends: its text pass begins paused, as the status bar says."""
    root, _, _ = unread_library
    in_job, go, held = threading.Event(), threading.Event(), threading.Event()
    after_index, wait = ocr.after_index, ocr._wait_if_paused

    def held_after_index(*args, **kwargs):  # the end of the start-up index job, before the text pass
        in_job.set()
        go.wait(60)
        return after_index(*args, **kwargs)

    def noted_wait(pause, cancel, should_yield):
        if pause is not None and pause.is_set():
            held.set()
        wait(pause, cancel, should_yield)

    monkeypatch.setattr(ocr, "after_index", held_after_index)
    monkeypatch.setattr(ocr, "_wait_if_paused", noted_wait)
    window = start_unwatched(qtbot, root, held_reader)
    qtbot.waitUntil(in_job.is_set)
    qtbot.waitUntil(window.pause_button.isVisible)
    window.pause_button.click()
    go.set()
    qtbot.waitUntil(lambda: held_reader.waiting == 1)  # the photo in hand (asked for as the pass starts)...
    held_reader.let_through(1)
    qtbot.waitUntil(lambda: held.is_set() or len(held_reader.asked) > 1)  # ...then paused, or reading on
    assert held.is_set() and len(held_reader.asked) == 1
    assert window.worker.text_pass_active and window.pause_button.isChecked()
    with qtbot.waitSignal(window.worker.finished, check_params_cb=is_job("text")):
        held_reader.open()
        window.pause_button.click()  # Resume
    assert ocr_status(window) == {"done": 16, "pending": 0}
