"""A watched folder renamed on disk: the window says so once and offers to remove the old folder."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QMessageBox

from photosearch.core.moved_folders import MovedFolder
from photosearch.ui.moved_notice import moved_text

WAIT = 60000


def _rename_and_add(qtbot, window, photos):
    """mv photos photos-2019, then add photos-2019 in the window: its index run finds the move."""
    moved = photos.with_name("photos-2019")
    os.rename(photos, moved)
    with qtbot.waitSignal(window.worker.finished, check_params_cb=lambda job, s: job == "index", timeout=WAIT) as done:
        window.add_folder(str(moved))
    assert [m.path for m in done.args[1].moved_folders] == [str(photos)]  # the core found it
    return moved


def _answer(monkeypatch, answers: list) -> list:
    """Answer the removal question with these, in turn; returns the questions asked."""
    asked = []

    def question(_parent, title, text, *_args, **_kwargs):
        asked.append((title, text))
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def test_a_moved_folder_is_said_once_and_removed_only_when_confirmed(qtbot, window, photo_library, monkeypatch):
    _, photos = photo_library
    notice = window.moved_notice
    assert not notice.isVisibleTo(window)
    moved = _rename_and_add(qtbot, window, photos)
    qtbot.waitUntil(lambda: notice.isVisibleTo(window), timeout=WAIT)
    text = notice.label.text()
    assert text.startswith("“photos” is not connected, and all 12 of its photos are now in “photos-2019”.")
    assert "--" not in text and "photosearch folders" not in text  # words for a person, not a command
    assert str(photos) in notice.label.toolTip()
    assert str(photos) in window._folders  # nothing removed on its own

    window.interactive = True  # the confirmation is asked, as the sidebar's Remove asks it
    asked = _answer(monkeypatch, [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes])
    notice.remove_button.click()
    assert len(asked) == 1 and str(photos) in asked[0][1]
    assert str(photos) in window._folders and notice.isVisibleTo(window)  # "No" keeps both
    with qtbot.waitSignal(window.worker.finished, check_params_cb=lambda job, s: job == "remove", timeout=WAIT):
        notice.remove_button.click()
    qtbot.waitUntil(lambda: window._folders == [str(moved)], timeout=WAIT)
    assert not notice.isVisibleTo(window)


def test_dismissed_it_stays_dismissed_and_the_sidebar_still_offers_removal(qtbot, window, photo_library, monkeypatch):
    _, photos = photo_library
    notice = window.moved_notice
    _rename_and_add(qtbot, window, photos)
    qtbot.waitUntil(lambda: notice.isVisibleTo(window), timeout=WAIT)
    notice.dismiss_button.click()
    assert not notice.isVisibleTo(window)
    with qtbot.waitSignal(window.worker.finished, check_params_cb=lambda job, s: job == "index", timeout=WAIT) as done:
        window._index.emit()
    assert done.args[1].moved_folders  # still reported by the core...
    assert not notice.isVisibleTo(window)  # ...but said once
    menu = window.sidebar.folder_menu(str(photos))
    texts = [a.text() for a in menu.actions() if a.text()]
    assert "Remove (it moved to photos-2019)…" in texts and "Remove…" not in texts
    window.interactive = True
    asked = _answer(monkeypatch, [QMessageBox.StandardButton.Yes])
    with qtbot.waitSignal(window.worker.finished, check_params_cb=lambda job, s: job == "remove", timeout=WAIT):
        next(a for a in menu.actions() if a.text().startswith("Remove (")).trigger()
    assert len(asked) == 1  # the same confirmation as every removal
    qtbot.waitUntil(lambda: str(photos) not in window._folders, timeout=WAIT)


def test_the_notice_words() -> None:
    sep = os.sep
    old, new = f"{sep}p{sep}Trip", f"{sep}p{sep}Trip 2019"
    assert moved_text(MovedFolder(old, 12, 12, new)) == (
        "“Trip” is not connected, and all 12 of its photos are now in “Trip 2019”. "
        "If you renamed or moved it, you can remove the old folder; your files stay where they are."
    )
    assert "11 of its 12 photos are now in “Trip 2019”" in moved_text(MovedFolder(old, 12, 11, new))
    assert "its photo is now in “Trip 2019”" in moved_text(MovedFolder(old, 1, 1, new))
    assert "all 12 of its photos are now in other watched folders" in moved_text(MovedFolder(old, 12, 12, None))
