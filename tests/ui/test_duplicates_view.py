"""The Duplicates window: groups shown with the copy to keep, trash only after asking, system trash; the
groups are found off the GUI thread, so the app keeps answering while a large library is searched."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading

import pytest
from PySide6.QtCore import QMetaObject, Qt, QTimer
from PySide6.QtWidgets import QToolButton

from photosearch.core import duplicates
from photosearch.core.errors import Cancelled
from photosearch.ui.duplicates_view import FINDING, open_duplicates
from tests.fixtures.trash import trash_in
from tests.ui.conftest import gui_args, open_window

WAIT = 60000


@pytest.fixture
def dup_window(qtbot, photo_library, tmp_path, monkeypatch):
    trash_in(monkeypatch, tmp_path / "data")
    root, photos = photo_library
    shutil.copyfile(photos / "photo_0_0003.jpg", photos / "photo_0_0003 copy.jpg")
    win = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: win.jobs_done >= 1, timeout=WAIT)  # the start-up rescan indexes the copy
    return win, photos, tmp_path


def shown(qtbot, dialog) -> None:
    """Wait for the groups asked for last to be in the list."""
    qtbot.waitUntil(lambda: not dialog.finding, timeout=WAIT)


class Gate:
    """Stands in for the core's find_groups: each call waits until the test releases it, then finds for
    real. A call on the GUI thread fails at once (there it would freeze the app, and this test)."""

    def __init__(self, monkeypatch) -> None:
        self._real = duplicates.find_groups
        self._gui = threading.get_ident()
        self._releases = [threading.Event() for _ in range(4)]
        self.asked: list[float | None] = []  # the similarity of each call, in order
        self.stops: list = []  # the should_stop hook of each call, in order
        self.results: list[list] = []
        monkeypatch.setattr(duplicates, "find_groups", self)

    def __call__(self, *args, **kwargs) -> list:
        if threading.get_ident() == self._gui:
            raise AssertionError("duplicates were searched on the GUI thread: the window froze meanwhile")
        release = self._releases[len(self.asked)]
        self.asked.append(kwargs.get("similarity"))
        self.stops.append(kwargs.get("should_stop"))
        release.wait(WAIT / 1000)  # bounded only so a failed test cannot hang its teardown
        result = self._real(*args, **kwargs)
        self.results.append(result)
        return result

    def release(self, call: int) -> None:
        self._releases[call].set()

    def release_all(self) -> None:
        for event in self._releases:
            event.set()


@pytest.fixture
def gate(monkeypatch):
    gate = Gate(monkeypatch)
    yield gate
    gate.release_all()


def test_the_window_keeps_answering_while_duplicates_are_found(qtbot, dup_window, gate):
    window, photos, _ = dup_window
    dialog = open_duplicates(window)
    qtbot.waitUntil(lambda: len(gate.asked) == 1, timeout=WAIT)
    # The search is held inside the core: the dialog says so and offers nothing to trash...
    assert dialog.finding and dialog.summary.text() == FINDING
    assert not dialog.trash_button.isEnabled() and dialog.tree.topLevelItemCount() == 0
    # ...and the GUI thread's event loop goes on meanwhile (timers fire, so repaints and keys are handled).
    ticks: list[int] = []
    QTimer.singleShot(0, lambda: ticks.append(1))
    qtbot.waitUntil(lambda: ticks == [1], timeout=WAIT)
    assert dialog.finding
    gate.release(0)
    shown(qtbot, dialog)
    assert [g.kind for g in dialog.groups] == ["exact"] and dialog.groups == gate.results[0]
    assert dialog.checked_paths() == [str(photos / "photo_0_0003 copy.jpg")]
    assert dialog.trash_button.isEnabled() and dialog.summary.text().startswith("1 groups")
    dialog.close()


def test_find_again_while_searching_stops_the_old_search_and_shows_only_the_latest(qtbot, dup_window, gate):
    window, _, _ = dup_window
    dialog = open_duplicates(window)
    qtbot.waitUntil(lambda: len(gate.asked) == 1, timeout=WAIT)
    assert not gate.stops[0]()  # asked once: that search runs on
    dialog.include_similar.setChecked(True)
    dialog.similarity.setValue(0.5)
    dialog.refresh()
    dialog.refresh()  # asked twice while the first runs: one more search, with the settings of the last
    assert gate.stops[0]()  # the out-of-date search is told to stop at its next step, not run to its end
    answered = dialog.reads.delivered
    gate.release(0)
    qtbot.waitUntil(lambda: dialog.reads.delivered == answered + 1, timeout=WAIT)
    # The first search ended at its first step (stopped, nothing found); the one for the latest request is on.
    assert gate.results == []
    assert dialog.finding and dialog.summary.text() == FINDING
    assert dialog.groups == [] and dialog.tree.topLevelItemCount() == 0
    qtbot.waitUntil(lambda: len(gate.asked) == 2, timeout=WAIT)
    assert not gate.stops[1]()  # the latest runs to its end
    gate.release(1)
    shown(qtbot, dialog)
    assert gate.asked == [None, 0.5] and len(gate.results) == 1
    assert dialog.groups == gate.results[0] and not dialog.summary.text().startswith("Could not")


def test_closing_the_window_while_it_searches_is_quiet(qtbot, dup_window, gate, capfd):
    window, _, _ = dup_window
    dialog = open_duplicates(window)
    qtbot.waitUntil(lambda: len(gate.asked) == 1, timeout=WAIT)
    reads, answered = dialog.reads, dialog.reads.delivered
    with qtbot.waitSignal(dialog.destroyed, timeout=WAIT):
        dialog.close()  # deleted on close (WA_DeleteOnClose)
    assert gate.results == []  # the search is still held: closing did not wait for it to end
    gate.release(0)
    qtbot.waitUntil(lambda: reads.delivered == answered + 1, timeout=WAIT)
    # pytest-qt fails the test on an exception in a slot; Qt and PySide warnings go to stderr.
    err = capfd.readouterr().err
    assert "deleted" not in err and "Traceback" not in err
    # The next window searches as usual.
    again = open_duplicates(window)
    gate.release(1)
    shown(qtbot, again)
    assert [g.kind for g in again.groups] == ["exact"]
    again.close()


def test_a_failed_search_is_one_line_in_the_window(qtbot, dup_window, monkeypatch):
    window, _, _ = dup_window

    def damaged(*args, **kwargs):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(duplicates, "find_groups", damaged)
    dialog = open_duplicates(window)
    shown(qtbot, dialog)
    assert dialog.summary.text() == "Could not find duplicates: database disk image is malformed"
    assert dialog.groups == [] and dialog.tree.topLevelItemCount() == 0
    dialog.close()


def test_the_duplicates_button_opens_the_window_with_the_groups(qtbot, dup_window):
    window, photos, _ = dup_window
    (button,) = [b for b in window.findChildren(QToolButton) if b.text() == "Duplicates"]
    button.click()
    dialog = window.duplicates_dialog
    assert dialog.isVisible()
    shown(qtbot, dialog)
    assert [[p.path for p in g.photos] for g in dialog.groups] == [
        [str(photos / "photo_0_0003.jpg"), str(photos / "photo_0_0003 copy.jpg")]
    ]
    assert dialog.tree.topLevelItem(0).childCount() == 2
    dialog.close()


def test_duplicates_window_asks_before_trashing_and_uses_the_trash(qtbot, dup_window, monkeypatch):
    window, photos, tmp_path = dup_window
    dialog = open_duplicates(window)
    shown(qtbot, dialog)
    assert [g.kind for g in dialog.groups] == ["exact"]
    copy = photos / "photo_0_0003 copy.jpg"
    # Same size and date: the path decides, so the original is kept and the copy is proposed.
    assert dialog.checked_paths() == [str(copy)]
    asked: list[list[str]] = []
    monkeypatch.setattr(dialog, "confirm", lambda paths: asked.append(paths) or False)
    assert dialog.trash_checked() is False
    assert asked == [[str(copy)]] and copy.exists()
    monkeypatch.setattr(dialog, "confirm", lambda paths: True)
    with qtbot.waitSignal(window.worker.trashed, timeout=WAIT):
        assert dialog.trash_checked()
    qtbot.waitUntil(lambda: not dialog.finding and dialog.groups == [], timeout=WAIT)  # found again
    assert not copy.exists() and (photos / "photo_0_0003.jpg").exists()
    assert (tmp_path / "data" / "Trash" / "files" / copy.name).exists()
    assert "Moved 1 photo" in dialog.summary.text()
    dialog.close()


def test_show_in_folder_reveals_the_selected_photo(qtbot, dup_window, monkeypatch):
    window, photos, _ = dup_window
    revealed: list[str] = []
    monkeypatch.setattr(window, "reveal", revealed.append)
    dialog = open_duplicates(window)
    shown(qtbot, dialog)
    dialog.revealRequested.disconnect()
    dialog.revealRequested.connect(window.reveal)
    dialog.tree.setCurrentItem(dialog.tree.topLevelItem(0).child(1))
    dialog.reveal_button.click()
    assert revealed == [str(photos / "photo_0_0003.jpg")] or revealed == [str(photos / "photo_0_0003 copy.jpg")]
    dialog.close()


@pytest.mark.skipif(os.name != "posix", reason="symlinks need POSIX here")
def test_a_link_is_never_kept_in_place_of_its_target_nor_a_linked_file_proposed(
    qtbot, photo_library, tmp_path, monkeypatch
):
    trash_in(monkeypatch, tmp_path / "data")
    root, photos = photo_library
    original, copy = photos / "photo_0_0003.jpg", photos / "photo_0_0003 copy.jpg"
    shutil.copyfile(original, copy)
    (photos / "a link.jpg").symlink_to(original.name)  # sorts first: it used to be the one kept
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.jobs_done >= 1, timeout=WAIT)
    dialog = open_duplicates(window)
    shown(qtbot, dialog)
    (group,) = dialog.groups
    assert [(p.path, p.keep) for p in group.photos] == [(str(original), True), (str(copy), False)]
    assert dialog.checked_paths() == [str(copy)]
    # A copy that a link leads to is listed but left unchecked: trashing it would break the link.
    (photos / "b link.jpg").symlink_to(copy.name)
    done = window.jobs_done
    QMetaObject.invokeMethod(window.worker, "index_all", Qt.ConnectionType.QueuedConnection)
    qtbot.waitUntil(lambda: window.jobs_done > done, timeout=WAIT)
    dialog.refresh()
    shown(qtbot, dialog)
    assert [p.path for p in dialog.groups[0].photos] == [str(original), str(copy)]
    assert dialog.checked_paths() == []
    assert "b link.jpg" in dialog.tree.topLevelItem(0).child(1).toolTip(0)
    dialog.close()


class HeldHash:
    """Stands in for hashing one whole file (done for copies that share a fingerprint): the first call
    waits until the test releases it, so the test knows the search is inside the core. find_groups is
    wrapped so the test sees how the search ended."""

    def __init__(self, monkeypatch) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.hashed: list[str] = []
        self.outcome: list[object] = []  # the groups, or the exception the search raised
        real_hash, real_find = duplicates._full_hash, duplicates.find_groups

        def held_hash(path: str) -> str:
            self.hashed.append(path)
            if len(self.hashed) == 1:
                self.entered.set()
                self.release.wait(WAIT / 1000)  # bounded only so a failed test cannot hang its teardown
            return real_hash(path)

        def recorded(*args, **kwargs):
            try:
                self.outcome.append(real_find(*args, **kwargs))
            except Exception as exc:
                self.outcome.append(exc)
                raise
            return self.outcome[-1]

        monkeypatch.setattr(duplicates, "_full_hash", held_hash)
        monkeypatch.setattr(duplicates, "find_groups", recorded)


@pytest.fixture
def held_hash(monkeypatch):
    held = HeldHash(monkeypatch)
    yield held
    held.release.set()


def test_closing_the_window_stops_its_search(qtbot, dup_window, held_hash):
    window, _, _ = dup_window
    dialog = open_duplicates(window)
    qtbot.waitUntil(held_hash.entered.is_set, timeout=WAIT)
    reads, answered = dialog.reads, dialog.reads.delivered
    with qtbot.waitSignal(dialog.destroyed, timeout=WAIT):
        dialog.close()
    held_hash.release.set()
    qtbot.waitUntil(lambda: reads.delivered == answered + 1, timeout=WAIT)
    (outcome,) = held_hash.outcome
    assert isinstance(outcome, Cancelled)
    assert len(held_hash.hashed) == 1  # the copy's twin was not read: the search ended at its next step


def test_quitting_the_app_stops_a_running_search(qtbot, dup_window, held_hash):
    window, _, _ = dup_window
    open_duplicates(window)
    qtbot.waitUntil(held_hash.entered.is_set, timeout=WAIT)
    dialog = window.duplicates_dialog
    # The held step ends only once the dialog's stop hook has fired (never, if quitting does not fire it).
    threading.Thread(target=lambda: (dialog.stop_event.wait(WAIT / 1000), held_hash.release.set())).start()
    window.shutdown()
    assert held_hash.outcome and isinstance(held_hash.outcome[0], Cancelled)  # over before shutdown returned
    assert len(held_hash.hashed) == 1
