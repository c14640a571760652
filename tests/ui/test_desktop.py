"""What desktop users expect: menus, caption import, folder filter, drop feedback, geometry, feedback texts."""

from __future__ import annotations

import os

from PySide6.QtCore import QMimeData, QPoint, QPointF, QRect, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from photosearch.core.types import Progress
from photosearch.ui.desktop_actions import fitted
from photosearch.ui.menus import about_text
from photosearch.ui.results_model import PathRole
from photosearch.ui.status_panel import progress_text
from tests.ui.conftest import write_photos

WAIT = 60000


def _query(qtbot, window, text: str = "a photo") -> int:
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT) as blocker:
        window.run_text_query(text)
    return blocker.args[0]


def _menu_titles(window) -> list[str]:
    return [a.text().replace("&", "") for a in window.menuBar().actions()]


def test_menu_bar_has_file_edit_view_help_with_the_usual_actions(qtbot, window) -> None:
    assert _menu_titles(window) == ["File", "Edit", "View", "Help"]
    actions = window.menu_actions
    for name in ("add_folder", "import_captions", "choose_model", "quit", "copy", "select_all", "larger", "about"):
        assert name in actions
    assert actions["quit"].shortcut().toString() == "Ctrl+Q"
    assert _query(qtbot, window) == 12
    window.grid.setFocus()
    actions["select_all"].trigger()
    assert len(window.selected_paths()) == 12
    actions["copy"].trigger()
    assert QApplication.clipboard().text().count("\n") == 11
    before = window.size_slider.value()
    actions["larger"].trigger()
    assert window.size_slider.value() == before + 16
    actions["captions"].setChecked(False)
    assert not window.caption_panel.isVisible()


def test_about_names_the_app_model_and_backend_versions(qtbot, window) -> None:
    from PySide6 import __version__ as pyside

    from photosearch import __version__

    qtbot.waitUntil(lambda: bool(window.last_status.get("backend")), timeout=WAIT)
    text = about_text(window)
    assert f"PhotoSearch {__version__}" in text
    assert window.ref.get().spec.describe() in text
    assert f"Backend: {window.last_status['backend']}" in text and pyside in text
    window.menu_actions["about"].trigger()
    assert window.about_box.isVisible()


def _csv(tmp_path, photo: str) -> str:
    path = tmp_path / "captions.csv"
    path.write_text(f"image,description\n{photo},a bright yellow umbrella\n")
    return str(path)


def test_import_captions_from_the_menu(qtbot, window, photo_library, tmp_path) -> None:
    _, photos = photo_library
    csv = _csv(tmp_path, str(sorted(photos.iterdir())[5]))
    window.pick_file = lambda title, filters: csv
    window.menu_actions["import_captions"].trigger()
    qtbot.waitUntil(lambda: window.last_import.startswith("Imported 1 captions"), timeout=WAIT)
    assert window.ref.get().search_captions(text="yellow umbrella", k=5)


def test_dropping_a_csv_imports_captions_and_the_window_highlights_while_hovered(
    qtbot, window, photo_library, tmp_path
) -> None:
    _, photos = photo_library
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(_csv(tmp_path, str(sorted(photos.iterdir())[2])))])
    enter = QDragEnterEvent(
        QPoint(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dragEnterEvent(enter)
    assert enter.isAccepted() and window.centralWidget().property("dropTarget") is True
    window.dragLeaveEvent(QDragLeaveEvent())
    assert window.centralWidget().property("dropTarget") is False
    window.dragEnterEvent(enter)
    drop = QDropEvent(
        QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(drop)
    assert drop.isAccepted() and window.centralWidget().property("dropTarget") is False
    qtbot.waitUntil(lambda: window.last_import.startswith("Imported 1 captions"), timeout=WAIT)


def test_clicking_a_folder_limits_results_and_all_folders_brings_them_back(qtbot, window, tmp_path) -> None:
    other = tmp_path / "other"
    write_photos(other, 4, seed=3)
    with qtbot.waitSignal(window.worker.finished, timeout=WAIT):
        window.add_folder(str(other))
    qtbot.waitUntil(lambda: window.folder_list.count() == 3, timeout=WAIT)  # All folders + 2
    assert _query(qtbot, window) == 16
    item = next(
        window.folder_list.item(r)
        for r in range(window.folder_list.count())
        if window.folder_list.item(r).data(Qt.ItemDataRole.UserRole) == str(other.resolve())
    )
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT) as blocker:
        window.folder_list.itemClicked.emit(item)
    assert blocker.args[0] == 4
    paths = [window.results_model.data(window.results_model.index(r), PathRole) for r in range(4)]
    assert all(p.startswith(str(other.resolve()) + os.sep) for p in paths)
    assert window.filter_clear.isVisibleTo(window) and "other" in window.filter_label.text()
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT) as blocker:
        window.filter_clear.click()
    assert blocker.args[0] == 16 and not window.filter_clear.isVisibleTo(window)


def test_folder_context_menu_offers_show_rescan_remove(qtbot, window, photo_library) -> None:
    _, photos = photo_library
    menu = window.sidebar.folder_menu(str(photos))
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts == ["Show only this folder", "Show in folder", "Rescan", "Remove…"]
    done = window.jobs_done
    next(a for a in menu.actions() if a.text() == "Rescan").trigger()
    qtbot.waitUntil(lambda: window.jobs_done > done, timeout=WAIT)


def _highlighted(window) -> list[str]:
    return [item.data(Qt.ItemDataRole.UserRole) or "" for item in window.folder_list.selectedItems()]


def test_the_sidebar_highlight_always_shows_the_folder_filter(qtbot, window, photo_library) -> None:
    _, photos = photo_library
    folders = window.folder_list
    qtbot.waitUntil(lambda: folders.count() == 2, timeout=WAIT)  # All folders + 1
    assert _highlighted(window) == [""] and window.folder_filter == ""
    row = folders.visualItemRect(folders.item(1)).center()
    qtbot.mousePress(folders.viewport(), Qt.MouseButton.RightButton, pos=row)  # for its menu
    qtbot.mouseRelease(folders.viewport(), Qt.MouseButton.RightButton, pos=row)
    if window.sidebar.menu is not None:
        window.sidebar.menu.close()
    assert _highlighted(window) == [""]  # not the right-clicked folder: it does not filter
    done = window.jobs_done
    next(a for a in window.sidebar.folder_menu(str(photos)).actions() if a.text() == "Rescan").trigger()
    qtbot.waitUntil(lambda: window.jobs_done > done, timeout=WAIT)
    assert _highlighted(window) == [""] and window.folder_filter == ""
    # moving in the list with the keyboard moves the filter with the highlight
    folders.setFocus()
    qtbot.keyClick(folders, Qt.Key.Key_Down)
    assert _highlighted(window) == [window.folder_filter] and window.folder_filter == str(photos)
    qtbot.keyClick(folders, Qt.Key.Key_Up)
    assert _highlighted(window) == [""] and window.folder_filter == ""


def test_a_new_query_scrolls_to_the_top(qtbot, window) -> None:
    window.resize(700, 500)
    window.size_slider.setValue(window.size_slider.maximum())
    assert _query(qtbot, window) == 12
    bar = window.grid.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=WAIT)
    bar.setValue(bar.maximum())
    assert _query(qtbot, window, "something else") == 12
    assert bar.value() == 0


def test_window_fits_the_screen_and_a_big_saved_geometry_is_clamped(qtbot, window) -> None:
    available = window.screen().availableGeometry()
    window.resize(available.width() * 2, available.height() * 2)
    window.move(available.right() - 50, available.bottom() - 50)
    window.restore_geometry()
    assert available.contains(window.frameGeometry()) or window.width() <= available.width()
    assert window.frameGeometry().right() <= available.right() + 1
    assert window.frameGeometry().bottom() <= available.bottom() + 1
    assert fitted(QRect(1500, 900, 2560, 1600), QRect(0, 0, 1600, 1000)) == QRect(0, 0, 1600, 1000)
    assert fitted(QRect(-50, 20, 800, 600), QRect(0, 0, 1600, 1000)) == QRect(0, 20, 800, 600)


def test_open_failures_are_said_in_the_window(qtbot, window, tmp_path) -> None:
    window.open_file(str(tmp_path / "gone.jpg"))
    assert "Could not open" in window.last_error and "no longer there" in window.last_error
    assert "Could not open" in window.statusBar().currentMessage()
    window.reveal(str(tmp_path / "gone-folder" / "x.jpg"))
    assert window.last_error.startswith("Could not show the folder")


def test_an_unreadable_image_query_says_so(qtbot, window, tmp_path) -> None:
    from photosearch.ui.worker import ImageQuery

    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image at all")
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.set_image_query(ImageQuery(path=window.ref.get().search_text("x", k=1)[0].path, label="good"))
    assert window.search_bar.chip.thumb.pixmap() is not None and not window.search_bar.chip.thumb.pixmap().isNull()
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.set_image_query(ImageQuery(path=str(bad), label=bad.name))
    assert window.last_error and "0 photos" not in window.statusBar().currentMessage()
    assert window.statusBar().currentMessage() == window.last_error
    assert window.search_bar.chip.thumb.pixmap().isNull()  # not the previous query's picture


def test_progress_texts_paused_and_eta() -> None:
    progress = Progress(phase="encoding", done=40, total=300, rate=12.0, eta_seconds=0.2, current="")
    assert progress_text(progress) == "Indexing 40 / 300 · 12/s · 0:01 left"
    assert progress_text(progress, paused=True) == "Paused · 40 / 300"


def test_progress_rate_is_never_shown_as_zero_per_second() -> None:
    def text(done: int, rate: float) -> str:
        progress = Progress(phase="reading text", done=done, total=300, rate=rate, eta_seconds=None, current="")
        return progress_text(progress)

    assert text(0, 0.0) == "Reading text in 0 / 300"  # no rate known yet: none shown
    assert text(4, 0.4) == "Reading text in 4 / 300 · 24/min"  # below 1 photo/s: per minute
    assert text(1, 0.004) == "Reading text in 1 / 300 · 0.2/min"
    assert text(1, 0.0001) == "Reading text in 1 / 300"  # rounds to nothing: nothing, not "0.0/min"
    assert text(40, 1.0) == "Reading text in 40 / 300 · 1/s"


def test_after_cancel_a_resume_button_carries_on(qtbot, window) -> None:
    from photosearch.core.types import IndexSummary

    window._on_job_finished("index", IndexSummary(cancelled=True))
    assert window.status_panel.resume_button.isVisibleTo(window)
    done = window.jobs_done
    window.status_panel.resume_button.click()
    assert not window.status_panel.resume_button.isVisibleTo(window)
    qtbot.waitUntil(lambda: window.jobs_done > done, timeout=WAIT)


def test_sidebar_and_status_bar_counts_agree_after_cancel(qtbot, tmp_path) -> None:
    from tests.ui.conftest import gui_args, make_library, open_window

    photos = tmp_path / "many"
    write_photos(photos, 120)
    root, _ = make_library(tmp_path, photos, index=False)
    window = open_window(qtbot, gui_args(root), start_worker=False)
    with qtbot.waitSignal(window.worker.finished, timeout=120000) as finished:
        window._start.emit()
        qtbot.waitUntil(lambda: window.pause_button.isVisible(), timeout=WAIT)
        window.pause_button.click()  # paused between batches: the cancel below lands before the end
        window.cancel_button.click()
    assert finished.args[1].cancelled
    qtbot.waitUntil(lambda: "to index" in window.count_label.text(), timeout=WAIT)
    assert window.folder_list.item(0).text().split("\n")[1] == window.count_label.text()
    assert window.status_panel.resume_button.isVisibleTo(window)


def test_keyboard_shortcuts_line_up_in_two_columns(qtbot, window) -> None:
    from PySide6.QtGui import QTextDocument

    from photosearch.ui.menus import SHORTCUTS

    window.menu_actions["shortcuts"].trigger()
    box = window.shortcuts_box
    qtbot.waitUntil(box.isVisible)
    document = QTextDocument()
    document.setHtml(box.text())
    document.setTextWidth(800)
    table = document.rootFrame().childFrames()[0]  # a table: one row per shortcut, keys | what they do
    layout = document.documentLayout()
    columns = {
        layout.blockBoundingRect(table.cellAt(row, 1).firstCursorPosition().block()).x()
        for row in range(table.rows())
    }
    assert table.rows() == len(SHORTCUTS) and len(columns) == 1
    keys_shown = [table.cellAt(r, 0).firstCursorPosition().block().text() for r in range(table.rows())]
    assert [k.replace("\xa0", " ") for k in keys_shown] == [  # nowrap keeps its spaces as no-break ones
        keys for keys, _ in SHORTCUTS
    ]
    box.close()


def test_drops_are_taken_as_copies_never_moves(qtbot, window, photo_library, tmp_path) -> None:
    """A source that honours Move (a file manager) deletes its file after the drop: the window only
    reads what is dropped, so it must answer Copy (or Link), whatever the source proposed."""
    _, photos = photo_library
    A = Qt.DropAction
    image = QMimeData()
    image.setUrls([QUrl.fromLocalFile(str(sorted(photos.iterdir())[1]))])
    csv = QMimeData()
    csv.setUrls([QUrl.fromLocalFile(_csv(tmp_path, str(sorted(photos.iterdir())[2])))])
    shift = Qt.KeyboardModifier.ShiftModifier  # Shift adds to the query; Qt proposes Move for it
    answers = ((A.CopyAction | A.MoveAction | A.LinkAction, A.CopyAction), (A.MoveAction | A.LinkAction, A.LinkAction))
    for mime in (image, csv):
        for offered, expected in answers:
            enter = QDragEnterEvent(QPoint(300, 300), offered, mime, Qt.MouseButton.LeftButton, shift)
            assert enter.proposedAction() == A.MoveAction
            window.dragEnterEvent(enter)
            assert enter.isAccepted() and enter.dropAction() == expected
            drop = QDropEvent(QPointF(300, 300), offered, mime, Qt.MouseButton.LeftButton, shift)
            window.dropEvent(drop)
            assert drop.isAccepted() and drop.dropAction() == expected
    # a source that only offers Move is refused: nothing is read from it, so nothing may be lost
    only_move = QDragEnterEvent(QPoint(300, 300), A.MoveAction, image, Qt.MouseButton.LeftButton, shift)
    window.dragEnterEvent(only_move)
    assert not only_move.isAccepted()
    qtbot.waitUntil(lambda: "1 already there" in window.last_import, timeout=WAIT)  # both CSV drops imported


def test_the_import_report_stays_up_while_a_query_is_showing(qtbot, window, photo_library, tmp_path) -> None:
    """The import refreshes the query on screen; that refresh's "N photos for…" must not replace the
    report (nor an index update's), while a query the person changes still shows its new count."""
    _, photos = photo_library
    assert _query(qtbot, window, "a photo") == 12
    csv = tmp_path / "captions.csv"
    csv.write_text(f"image,description\n{sorted(photos.iterdir())[5]},a yellow umbrella\n{photos}/gone.jpg,lost\n")
    window.pick_file = lambda title, filters: str(csv)
    window.menu_actions["import_captions"].trigger()
    qtbot.waitUntil(lambda: window.last_import.startswith("Imported 1 captions"), timeout=WAIT)
    qtbot.waitUntil(lambda: window.searcher.idle, timeout=WAIT)  # the refresh's answer has been shown
    assert window.statusBar().currentMessage() == window.last_import
    assert "1 rows name photos that are not there" in window.last_import
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):  # a new sort: its count is the news
        window.filter_chips.set_sort("date")
    assert window.statusBar().currentMessage().startswith("12 photos for “a photo”")
