"""The window's layout for keyboard users and small screens: every control on the Tab chain in reading
order with a visible focus ring, and a grid that keeps room for a whole tile in a small window."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QToolButton, QWidget

from photosearch.ui.settings import THUMB_DEFAULT, THUMB_MAX
from photosearch.ui.style import apply_style
from photosearch.ui.worker import ImageQuery

WAIT = 60000


def _button(window, cls: type, text: str) -> QWidget:
    return next(b for b in window.findChildren(cls) if b.text() == text and b.isVisible())


def _settle() -> None:
    """Deliver the resize and layout requests a resize posted (no waiting on the clock)."""
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def _image_query_with_chips(qtbot, window, photo_library) -> None:
    """An image query of two images (so an extra chip shows) under two filter chips."""
    _, photos = photo_library
    first, second = sorted(photos.iterdir())[:2]
    window.filter_chips.set_sort("date")
    window.filter_chips.set_best(True)
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.set_image_query(ImageQuery(path=str(first), label=first.name))
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.search_bar.add_image(ImageQuery(path=str(second), label=second.name))


def _walk(qtbot, window, start: QWidget, key: Qt.Key) -> list[QWidget]:
    """Press key from start until the focus comes back to it: the widgets it went through, start first."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    start.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(start.hasFocus)
    seen = [start]
    for _ in range(60):
        QTest.keyClick(QApplication.focusWidget(), key)
        widget = QApplication.focusWidget()
        if widget is start:
            return seen
        seen.append(widget)
    raise AssertionError(f"Tab never came back to the search box: {[type(w).__name__ for w in seen]}")


def _expected_chain(window) -> list[QWidget]:
    bar, chips = window.search_bar, window.filter_chips
    return [
        bar.edit,
        bar.chip,
        *bar.extra_chips,
        chips.menu_button,
        chips.chips["sort"],
        chips.chips["best"],
        window.image_button,
        window.size_slider,
        _button(window, QToolButton, "Duplicates"),
        window.top_bar.settings_button,
        window.weight_control.plus_edit,
        window.weight_control.slider,
        window.folder_list,
        _button(window, QPushButton, "Add…"),
        window.remove_button,
        window.grid,
        window.caption_view,
    ]


def test_tab_reaches_every_control_in_reading_order_and_shift_tab_goes_back(qtbot, window, photo_library) -> None:
    _image_query_with_chips(qtbot, window, photo_library)
    assert len(window.search_bar.extra_chips) == 1 and window.caption_panel.isVisible()
    expected = _expected_chain(window)
    names = lambda widgets: [w.objectName() or type(w).__name__ for w in widgets]  # noqa: E731
    forward = _walk(qtbot, window, window.search_bar.edit, Qt.Key.Key_Tab)
    assert forward == expected, names(forward)
    backward = _walk(qtbot, window, window.search_bar.edit, Qt.Key.Key_Backtab)
    assert backward == [expected[0], *reversed(expected[1:])], names(backward)


@pytest.fixture
def app_style(qapp):
    """The app's stylesheet and palette for one test (the other tests run without them)."""
    sheet, palette, style = qapp.styleSheet(), qapp.palette(), qapp.style().name()
    apply_style(qapp)
    yield
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)


def test_every_control_on_the_tab_chain_shows_that_it_has_focus(qtbot, window, photo_library, app_style) -> None:
    _image_query_with_chips(qtbot, window, photo_library)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    for widget in _expected_chain(window)[1:]:
        window.search_bar.edit.setFocus()  # the search box draws its own cursor; every other one is checked
        qtbot.waitUntil(window.search_bar.edit.hasFocus)
        unfocused = widget.grab().toImage()
        widget.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(widget.hasFocus)
        assert widget.grab().toImage() != unfocused, f"{type(widget).__name__} {getattr(widget, 'text', str)()}"


def _within(window, widget: QWidget) -> bool:
    return window.rect().contains(QRect(widget.mapTo(window, QPoint(0, 0)), widget.size()))


@pytest.mark.parametrize("tile", [THUMB_DEFAULT, THUMB_MAX])
@pytest.mark.parametrize("size", [QSize(640, 480), QSize(480, 400)])
def test_a_small_window_keeps_a_whole_tile_and_every_top_bar_control(qtbot, window, tile, size) -> None:
    window.size_slider.setValue(tile)
    window.filter_chips.set_best(True)
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.run_text_query("a photo")
    window.resize(size)
    _settle()
    assert window.size() == size  # not held wider by the side panels or the top bar
    grid = window.grid
    assert grid.isVisible() and grid.viewport().width() >= grid.gridSize().width()
    first = grid.visualRect(grid.model().index(0, 0))
    assert first.left() >= 0 and first.right() < grid.viewport().width()  # the first tile is not clipped
    bar = window.search_bar
    controls = [bar, window.filter_chips.menu_button, *window.filter_chips.chips.values(), window.image_button,
                window.size_slider, _button(window, QToolButton, "Duplicates"), window.top_bar.settings_button]
    for control in controls:
        assert control.isVisible() and _within(window, control), control
    assert bar.width() >= 200  # a query stays readable


def test_the_caption_panel_then_the_sidebar_give_way_and_come_back(qtbot, window) -> None:
    window.size_slider.setValue(THUMB_MAX)
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.run_text_query("a photo")
    assert window.caption_panel.isVisible() and window.sidebar.isVisible()
    window.resize(640, 480)
    _settle()
    assert not window.caption_panel.isVisible() and window.sidebar.isVisible()
    window.resize(480, 400)
    _settle()
    assert not window.caption_panel.isVisible() and not window.sidebar.isVisible()
    window.resize(1280, 800)
    _settle()
    assert window.caption_panel.isVisible() and window.sidebar.isVisible()
    window.menu_actions["captions"].setChecked(False)  # the person's choice still counts
    assert not window.caption_panel.isVisible()


def test_five_filter_chips_wrap_inside_a_480_px_window(qtbot, window, photo_library) -> None:
    _, photos = photo_library
    chips = window.filter_chips
    chips.set_folder(str(photos))
    chips.set_dates("2019", "2020-06-30")
    chips.set_sort("date")
    chips.set_best(True)
    assert len(chips.chips) == 4 + 1  # folder, from, to, sort, best
    window.resize(480, 400)
    _settle()
    assert window.width() == 480  # not held wider by one long row of chips
    for control in (chips.menu_button, *chips.chips.values()):
        assert control.isVisible() and _within(window, control), control.text()


def test_a_very_long_image_name_is_elided_and_leaves_the_window_narrow(qtbot, window, photo_library, tmp_path) -> None:
    _, photos = photo_library
    first = sorted(photos.iterdir())[0]
    window.resize(480, 400)
    _settle()
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.set_image_query(ImageQuery(path=str(first), label=first.name))
    _settle()
    narrowest = window.minimumSizeHint().width()
    long_name = "x" * 196 + ".jpg"
    long_path = tmp_path / long_name
    shutil.copy(first, long_path)
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.set_image_query(ImageQuery(path=str(long_path), label=long_name))
    _settle()
    chip = window.search_bar.chip
    assert window.minimumSizeHint().width() <= narrowest and window.width() == 480
    assert "…" in chip.label.text() and chip.label.text().endswith(".jpg")  # middle elision keeps the type
    assert long_name in chip.toolTip() and chip.accessibleName() == long_name
    assert window.search_bar.edit.width() >= 100  # the box still has room to type
    assert _within(window, chip)
