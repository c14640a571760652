"""FolderWatcher: real watchdog events, coalesced into change sets; errors reported, never raised."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import pytest

from photosearch.core.watcher import INOTIFY_FIX, FolderWatcher, describe_watch_error, is_relevant_path

TIMEOUT = 60.0  # only a failing test waits this long


class Collector:
    """Gathers change sets delivered on the watcher's thread."""

    def __init__(self) -> None:
        self.batches: list[set[str]] = []
        self.errors: list[str] = []
        self._cond = threading.Condition()

    def on_changes(self, paths: set[str]) -> None:
        with self._cond:
            self.batches.append(set(paths))
            self._cond.notify_all()

    def on_error(self, message: str) -> None:
        with self._cond:
            self.errors.append(message)
            self._cond.notify_all()

    @property
    def seen(self) -> set[str]:
        with self._cond:
            return set().union(*self.batches) if self.batches else set()

    def wait_for(self, predicate, timeout: float = TIMEOUT) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout)


@pytest.fixture
def watched(tmp_path: Path):
    folder = tmp_path / "photos"
    folder.mkdir()
    collector = Collector()
    watcher = FolderWatcher(collector.on_changes, collector.on_error, debounce=0.4)
    watcher.start([str(folder)])
    yield folder.resolve(), watcher, collector
    watcher.stop()


def test_burst_of_writes_is_one_change_set(watched) -> None:
    folder, watcher, collector = watched
    names = [f"img_{i}.jpg" for i in range(20)]
    for name in names:
        (folder / name).write_bytes(b"x" * 10)
        (folder / name).write_bytes(b"y" * 20)  # modified right after: same path, no extra batch
    assert collector.wait_for(lambda: collector.batches)
    watcher.stop(flush=True)
    assert len(collector.batches) == 1
    assert collector.batches[0] == {str(folder / n) for n in names}


def test_other_files_ignored_but_sidecars_count(watched) -> None:
    folder, _, collector = watched
    (folder / "notes.docx").write_text("ignore me")
    (folder / ".hidden.jpg").write_text("ignore me")
    (folder / "cat.txt").write_text("a cat on a sofa")
    assert collector.wait_for(lambda: str(folder / "cat.txt") in collector.seen)
    assert str(folder / "notes.docx") not in collector.seen
    assert str(folder / ".hidden.jpg") not in collector.seen


def test_move_reports_both_ends_and_delete_is_reported(watched) -> None:
    folder, _, collector = watched
    sub = folder / "sub"
    sub.mkdir()
    src = folder / "a.jpg"
    src.write_bytes(b"jpeg")
    assert collector.wait_for(lambda: str(src) in collector.seen)
    collector.batches.clear()
    dest = sub / "b.jpg"
    os.rename(src, dest)
    assert collector.wait_for(lambda: {str(src), str(dest)} <= collector.seen)
    dest.unlink()
    assert collector.wait_for(lambda: len(collector.batches) >= 2 and str(dest) in collector.batches[-1])


def test_rename_from_temp_name_counts(watched) -> None:
    folder, _, collector = watched
    part = folder / "download.jpg.part"
    part.write_bytes(b"jpeg")
    os.rename(part, folder / "download.jpg")
    assert collector.wait_for(lambda: str(folder / "download.jpg") in collector.seen)


def test_coalescing_respects_max_delay() -> None:
    collector = Collector()
    # The quiet spell that debounce waits for never comes within this test: only max_delay can deliver.
    watcher = FolderWatcher(collector.on_changes, collector.on_error, debounce=3600, max_delay=0.3)
    watcher.start([])
    try:
        start = time.monotonic()
        while not collector.batches and time.monotonic() - start < TIMEOUT:
            watcher._add([f"/x/{time.monotonic()}.jpg"])
            time.sleep(0.05)
        assert collector.batches, "a continuous stream of changes was never delivered"
    finally:
        watcher.stop()


def test_inotify_limit_is_reported_with_fix(tmp_path: Path, monkeypatch) -> None:
    collector = Collector()
    watcher = FolderWatcher(collector.on_changes, collector.on_error, debounce=0.2)
    watcher.start([])
    try:

        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

        monkeypatch.setattr(watcher._observer, "schedule", full)
        watcher.set_folders([str(tmp_path)])  # must not raise
        assert len(collector.errors) == 1
        assert INOTIFY_FIX in collector.errors[0]
        assert str(tmp_path) in collector.errors[0]
        assert watcher.folders == []
    finally:
        watcher.stop()


def test_missing_folder_is_reported_not_raised(tmp_path: Path) -> None:
    collector = Collector()
    watcher = FolderWatcher(collector.on_changes, collector.on_error)
    watcher.start([str(tmp_path / "gone")])
    try:
        assert collector.errors and "gone" in collector.errors[0]
    finally:
        watcher.stop()


def test_dead_emitter_is_reported_once(tmp_path: Path) -> None:
    collector = Collector()
    watcher = FolderWatcher(collector.on_changes, collector.on_error, health_interval=0.05)
    health_checks: list[None] = []
    check = watcher._check_health

    def counted_check() -> None:
        check()
        with collector._cond:
            health_checks.append(None)
            collector._cond.notify_all()

    watcher._check_health = counted_check
    watcher.start([str(tmp_path)])
    try:
        (emitter,) = list(watcher._observer.emitters)
        emitter.stop()
        emitter.join(5)
        assert collector.wait_for(lambda: collector.errors)
        assert INOTIFY_FIX in collector.errors[0]
        checks = len(health_checks)
        assert collector.wait_for(lambda: len(health_checks) >= checks + 3)  # several more checks...
        assert len(collector.errors) == 1  # ...still one report
    finally:
        watcher.stop()


def test_consumer_exception_does_not_kill_watcher(watched) -> None:
    folder, watcher, collector = watched
    calls: list[set[str]] = []

    def broken(paths: set[str]) -> None:
        with collector._cond:
            calls.append(paths)
            collector._cond.notify_all()
        if len(calls) == 1:
            raise RuntimeError("boom")

    watcher._on_changes = broken
    (folder / "one.jpg").write_bytes(b"1")
    assert collector.wait_for(lambda: collector.errors)
    (folder / "two.jpg").write_bytes(b"2")
    assert collector.wait_for(lambda: len(calls) >= 2)
    assert len(calls) == 2 and str(folder / "two.jpg") in calls[1]


def test_helpers() -> None:
    assert is_relevant_path("/a/b/IMG_1.JPG")
    assert is_relevant_path("/a/b/IMG_1.txt")
    assert not is_relevant_path("/a/b/movie.mp4")
    assert is_relevant_path("/a/b/folder", is_directory=True)
    assert "max_user_watches" in describe_watch_error("/p", OSError(errno.ENOSPC, "inotify watch limit reached"))
