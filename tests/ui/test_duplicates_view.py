"""The Duplicates window: groups shown with the copy to keep, trash only after asking, system trash."""

from __future__ import annotations

import os
import shutil

import pytest
from PySide6.QtCore import QMetaObject, Qt

from photosearch.ui.duplicates_view import open_duplicates
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


def test_duplicates_window_asks_before_trashing_and_uses_the_trash(qtbot, dup_window, monkeypatch):
    window, photos, tmp_path = dup_window
    dialog = open_duplicates(window)
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
    qtbot.waitUntil(lambda: dialog.groups == [], timeout=WAIT)
    assert not copy.exists() and (photos / "photo_0_0003.jpg").exists()
    assert (tmp_path / "data" / "Trash" / "files" / copy.name).exists()
    assert "Moved 1 photo" in dialog.summary.text()
    dialog.close()


def test_show_in_folder_reveals_the_selected_photo(qtbot, dup_window, monkeypatch):
    window, photos, _ = dup_window
    revealed: list[str] = []
    monkeypatch.setattr(window, "reveal", revealed.append)
    dialog = open_duplicates(window)
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
    (group,) = dialog.groups
    assert [(p.path, p.keep) for p in group.photos] == [(str(original), True), (str(copy), False)]
    assert dialog.checked_paths() == [str(copy)]
    # A copy that a link leads to is listed but left unchecked: trashing it would break the link.
    (photos / "b link.jpg").symlink_to(copy.name)
    done = window.jobs_done
    QMetaObject.invokeMethod(window.worker, "index_all", Qt.ConnectionType.QueuedConnection)
    qtbot.waitUntil(lambda: window.jobs_done > done, timeout=WAIT)
    dialog.refresh()
    assert [p.path for p in dialog.groups[0].photos] == [str(original), str(copy)]
    assert dialog.checked_paths() == []
    assert "b link.jpg" in dialog.tree.topLevelItem(0).child(1).toolTip(0)
    dialog.close()
