"""The index worker's Pause: it takes effect at the next batch of the job under way, whichever job it is.

The first batch waits in its commit until the test has clicked Pause, and the indexer's pause point
tells the test when it got there: nothing here races the clock.
"""

from __future__ import annotations

import threading

import pytest

import photosearch.core.indexer as indexer
from tests.ui.conftest import gui_args, open_window, write_photos

WAIT = 60000


@pytest.mark.parametrize("job", ["index", "changes"])  # a full index run; a watched change (it ran on)
def test_pause_holds_the_job_under_way_at_its_next_batch_and_resume_finishes_it(
    qtbot, photo_library, monkeypatch, job
):
    root, photos = photo_library
    window = open_window(qtbot, gui_args(root), start_worker=False)
    window.watch_enabled = False  # the test hands the change over itself, once
    window.worker.read_text = False  # no text pass after the jobs: the change is the only work
    window._start.emit()
    qtbot.waitUntil(lambda: window.jobs_done >= 1, timeout=WAIT)
    worker = window.worker
    new = write_photos(photos, 40, size=32, seed=11)  # batches of 16, 16 and 8 (the tiny model on CPU)

    first_in, go, held = threading.Event(), threading.Event(), threading.Event()
    paused_at_commit: list[bool] = []  # for each batch committed: was Pause on?
    indexed_when_held: list[int] = []
    commit, wait = indexer.Indexer._commit, indexer._wait_if_paused

    def held_commit(self, *args):
        paused_at_commit.append(worker.pause_event.is_set())
        if len(paused_at_commit) == 1:
            first_in.set()
            go.wait(WAIT / 1000)
        return commit(self, *args)

    def noted_wait(pause, cancel):
        if pause is not None and pause.is_set() and not held.is_set():
            (count,) = vectors_held(window)
            indexed_when_held.append(count)
            held.set()
        wait(pause, cancel)

    monkeypatch.setattr(indexer.Indexer, "_commit", held_commit)
    monkeypatch.setattr(indexer, "_wait_if_paused", noted_wait)
    finished: list = []
    worker.finished.connect(lambda name, summary: finished.append(summary) if name == job else None)
    if job == "index":
        window._index.emit()
    else:
        window._changes.emit([str(p) for p in new])  # what the folder watcher sends
    qtbot.waitUntil(first_in.is_set, timeout=WAIT)
    qtbot.waitUntil(window.pause_button.isVisible, timeout=WAIT)
    window.pause_button.click()
    assert worker.pause_event.is_set()
    go.set()
    qtbot.waitUntil(lambda: held.is_set() or bool(finished), timeout=WAIT)  # paused, or ran on to the end
    assert held.is_set() and not finished
    assert paused_at_commit == [False]  # the batch in flight only: nothing encoded while paused
    assert indexed_when_held == [12 + 16]  # ...and it was committed
    qtbot.waitUntil(lambda: window.progress.format().startswith("Paused"), timeout=WAIT)
    window.pause_button.click()  # Resume
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT)
    assert not finished[0].cancelled and finished[0].encoded == 40
    assert paused_at_commit[1:] and not any(paused_at_commit[1:])
    assert window.ref.get().status()["photos"]["indexed"] == 52


def vectors_held(window) -> tuple[int]:
    """Vectors the library holds (read from the worker's thread, at the pause point)."""
    library = window.ref.get()
    return library.store.query("SELECT COUNT(*) FROM embeddings WHERE model_id = ?", (library.model_id,))[0]
