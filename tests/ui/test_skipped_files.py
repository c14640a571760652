"""The status bar's "N skipped" and its dialog: which files indexing left out, and why."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from photosearch.ui.skipped_files import FILE, FOLDER, WHY, relative_name
from tests.fixtures.hostile import encode, photo
from tests.ui.conftest import gui_args, make_library, open_window, write_photos

WAIT = 60000


def _damaged_library(tmp_path: Path) -> tuple[Path, Path]:
    """10 good photos, a truncated JPEG in a subfolder and a text file named like a photo."""
    photos = tmp_path / "photos"
    write_photos(photos, 10)
    jpeg = encode(photo(320, 240, seed=1), "JPEG", quality=90)
    (photos / "trip").mkdir()
    (photos / "trip" / "truncated.jpg").write_bytes(jpeg[: len(jpeg) * 6 // 10])
    (photos / "shopping.png").write_bytes(b"This is not a picture, it is a shopping list.\n" * 20)
    return make_library(tmp_path, photos)


@pytest.fixture
def damaged(qtbot, tmp_path):
    root, photos = _damaged_library(tmp_path)
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.jobs_done >= 1, timeout=WAIT)
    return window, photos


def _open_list(qtbot, window):
    dialog = window.status_panel.skipped_button.click() or window.skipped_dialog
    qtbot.waitUntil(lambda: not dialog.loading and dialog.table.rowCount() > 0, timeout=WAIT)
    return dialog


def _rows(dialog) -> list[tuple[str, str]]:
    table = dialog.table
    return [(table.item(r, FILE).text(), table.item(r, WHY).text()) for r in range(table.rowCount())]


def test_the_status_bar_says_how_many_files_were_skipped_and_lists_them(qtbot, damaged) -> None:
    window, _ = damaged
    button = window.status_panel.skipped_button
    qtbot.waitUntil(lambda: button.isVisibleTo(window), timeout=WAIT)
    assert button.text() == "2 skipped"
    dialog = _open_list(qtbot, window)
    assert dialog.isVisible() and not dialog.isModal()  # the window stays usable beside it
    rows = _rows(dialog)
    # Relative to the watched folder, one line each, with the core's reason.
    assert [name for name, _ in rows] == ["shopping.png", os.path.join("trip", "truncated.jpg")]
    assert all(reason and "\n" not in reason for _, reason in rows)
    assert "2 files" in dialog.summary.text()
    assert dialog.table.isColumnHidden(FOLDER)  # one watched folder: naming it on each row says nothing


def test_a_renamed_folder_lists_its_skipped_files_once_under_the_folder_they_are_in(qtbot, damaged) -> None:
    window, photos = damaged
    moved = photos.with_name("photos-2019")
    os.rename(photos, moved)
    write_photos(tmp := photos.with_name("more"), 2, seed=3)
    (tmp / "zero.jpg").write_bytes(b"")
    done = window.jobs_done
    window.add_folder(str(moved))
    window.add_folder(str(tmp))
    qtbot.waitUntil(lambda: window.jobs_done >= done + 2, timeout=WAIT)
    qtbot.waitUntil(lambda: window.status_panel.skipped_button.text() == "3 skipped", timeout=WAIT)
    dialog = _open_list(qtbot, window)
    # The old folder's rows stay (offline) but are not listed twice: as many rows as the button says.
    assert [name for name, _ in _rows(dialog)] == ["zero.jpg", "shopping.png", os.path.join("trip", "truncated.jpg")]
    assert not dialog.table.isColumnHidden(FOLDER)
    folders = [dialog.table.item(r, FOLDER).text() for r in range(dialog.table.rowCount())]
    assert folders == ["more", "photos-2019", "photos-2019"]


def test_show_in_folder_and_copy_list(qtbot, damaged, monkeypatch) -> None:
    window, photos = damaged
    dialog = _open_list(qtbot, window)
    revealed: list[str] = []
    monkeypatch.setattr(window, "reveal", revealed.append)
    assert not dialog.reveal_button.isEnabled()  # nothing selected yet
    dialog.table.selectRow(1)
    assert dialog.reveal_button.isEnabled()
    dialog.reveal_button.click()
    assert revealed == [str(photos / "trip" / "truncated.jpg")]
    dialog.copy_button.click()
    copied = QApplication.clipboard().text().splitlines()
    assert len(copied) == 2
    assert copied[1].startswith(str(photos / "trip" / "truncated.jpg") + "\t")  # full paths: usable elsewhere
    assert copied[1].split("\t")[1] == _rows(dialog)[1][1]


def test_the_list_follows_each_index_run(qtbot, damaged) -> None:
    window, photos = damaged
    dialog = _open_list(qtbot, window)
    assert len(_rows(dialog)) == 2
    (photos / "shopping.png").unlink()
    write_photos(photos / "trip", 1, seed=7)[0].replace(photos / "trip" / "truncated.jpg")  # fixed
    done = window.jobs_done
    window._index.emit()
    qtbot.waitUntil(lambda: window.jobs_done > done, timeout=WAIT)
    qtbot.waitUntil(lambda: not dialog.loading and dialog.table.rowCount() == 0, timeout=WAIT)
    assert "No files" in dialog.summary.text()
    qtbot.waitUntil(lambda: not window.status_panel.skipped_button.isVisibleTo(window))  # nothing skipped


def test_nothing_skipped_shows_nothing(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.count_label.text().endswith("photos"), timeout=WAIT)
    assert not window.status_panel.skipped_button.isVisibleTo(window)


def test_relative_name_picks_the_innermost_watched_folder() -> None:
    sep = os.sep
    folders = [f"{sep}p", f"{sep}p{sep}inner", f"{sep}other"]
    assert relative_name(f"{sep}p{sep}inner{sep}a.jpg", folders) == "a.jpg"
    assert relative_name(f"{sep}p{sep}x{sep}a.jpg", folders) == f"x{sep}a.jpg"
    assert relative_name(f"{sep}p{sep}inner", folders) == "inner"  # a folder that could not be read
    assert relative_name(f"{sep}pp{sep}a.jpg", folders) == f"{sep}pp{sep}a.jpg"  # in no watched folder
    assert relative_name(f"{sep}p{sep}bad\udcffname.jpg", folders) == "bad\\xffname.jpg"  # printable


def test_the_skipped_button_is_on_the_tab_chain(qtbot, damaged) -> None:
    """A keyboard user reaches the list too: the button is the last stop of the status bar."""
    from PySide6.QtCore import Qt

    from tests.ui.test_window_layout import _walk

    window, _ = damaged
    button = window.status_panel.skipped_button
    qtbot.waitUntil(lambda: button.isVisibleTo(window), timeout=WAIT)
    backward = _walk(qtbot, window, window.search_bar.edit, Qt.Key.Key_Backtab)
    assert backward[1] is button  # Shift+Tab from the search box wraps round to the chain's last stop
