"""Reads off the GUI thread: answers arrive in order on the GUI thread, and a read still running when
its owner goes away (the window closed, the timeline rebuilt) ends quietly instead of raising."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtWidgets import QWidget

from photosearch.ui.background_reads import BackgroundReads


def test_answers_come_back_in_order_on_the_gui_thread(qtbot):
    reads = BackgroundReads()
    got: list[tuple[int, int]] = []
    for n in range(5):
        reads.submit(lambda n=n: n, lambda value: got.append((value, threading.get_ident())))
    qtbot.waitUntil(lambda: reads.delivered == 5)
    assert [value for value, _ in got] == [0, 1, 2, 3, 4]
    assert {thread for _, thread in got} == {threading.get_ident()}
    assert not reads.busy


def test_an_error_goes_to_on_error_in_words(qtbot):
    reads = BackgroundReads()
    errors: list[str] = []

    def fails() -> None:
        raise OSError("disk I/O error")

    reads.submit(fails, lambda _: None, errors.append)
    qtbot.waitUntil(lambda: reads.delivered == 1)
    assert errors == ["disk I/O error"]


def test_a_read_running_when_its_owner_is_deleted_ends_without_an_error(qtbot):
    owner = QWidget()
    reads = BackgroundReads(owner)
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    delivered: list[object] = []

    def slow_read() -> str:
        started.set()
        release.wait(30)
        return "page"

    reads.submit(slow_read, delivered.append)
    reads.submit(finished.set, delivered.append)  # queued behind it: never started once the owner goes
    assert started.wait(30)
    # The read finishes while the reads object is being destroyed (its pool waits for it on the way out).
    reads.destroyed.connect(release.set)
    shiboken6.delete(owner)
    # pytest-qt fails this test if the pool thread raised ("Signal source has been deleted").
    assert release.is_set() and not delivered and not finished.is_set()
