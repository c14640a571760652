"""Filter chips, the date dialog, the weight control, the why badges, and the window using them."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from photosearch.core.errors import PhotoSearchError
from photosearch.ui.badges import BADGES, badge_labels, paint_why_badges
from photosearch.ui.search_options import DateDialog, FilterChips, SearchOptions, WeightControl
from tests.ui.conftest import gui_args, open_window
from tests.ui.test_timeline import dated_library  # noqa: F401 (a fixture)

WAIT = 60000


def test_chips_show_each_active_filter_and_remove_it(qtbot):
    chips = FilterChips()
    qtbot.addWidget(chips)
    with qtbot.waitSignal(chips.changed):
        chips.set_dates("2019", "2020-06")
    chips.set_sort("date")
    chips.set_best(True)
    assert chips.chip_texts() == ["From 2019  ×", "To 2020-06  ×", "Newest first  ×", "Best matches  ×"]
    options = chips.options()
    assert options.text_kwargs()["sort"] == "date" and options.text_kwargs()["best"] is True
    assert options.filters().dated
    with qtbot.waitSignal(chips.changed):
        chips.chips["sort"].click()
    assert chips.options().sort == "relevance" and "Newest first  ×" not in chips.chip_texts()
    with pytest.raises(PhotoSearchError):
        chips.set_dates("last year", "")
    assert chips.options().after == "2019"  # a bad date changes nothing


def test_a_focused_chip_is_removed_from_the_keyboard_and_the_focus_goes_on(qtbot):
    chips = FilterChips()
    qtbot.addWidget(chips)
    chips.set_dates("2019", "")
    chips.set_sort("date")
    chips.set_best(True)
    chips.show()
    chips.activateWindow()
    qtbot.waitUntil(chips.isActiveWindow)
    # Tab goes from Filters through the chips (in a window, on to what follows Filters there)
    assert chips.menu_button.nextInFocusChain() is chips.chips["after"]
    assert chips.chips["after"].nextInFocusChain() is chips.chips["sort"]
    chips.chips["after"].setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(chips.chips["after"], Qt.Key.Key_Delete)
    assert chips.options().after == "" and chips.chip_texts() == ["Newest first  ×", "Best matches  ×"]
    assert chips.chips["sort"].hasFocus()  # the next chip, ready for another key
    qtbot.keyClick(chips.chips["sort"], Qt.Key.Key_Space)
    assert chips.options().sort == "relevance" and chips.chips["best"].hasFocus()
    qtbot.keyClick(chips.chips["best"], Qt.Key.Key_Backspace)
    assert chips.options() == SearchOptions() and chips.chip_texts() == []
    assert chips.menu_button.hasFocus()  # no chip left: back to Filters


def test_the_filters_menu_ticks_what_is_on_and_unticking_turns_it_off(qtbot):
    chips = FilterChips()
    qtbot.addWidget(chips)
    actions = {a.text(): a for a in chips.menu_button.menu().actions()}
    sort, best, dates = actions["Sort by date"], actions["Best matches only"], actions["Date range…"]
    assert all(a.isCheckable() and not a.isChecked() and a.isEnabled() for a in (sort, best, dates))
    chips.set_sort("date")
    chips.set_best(True)
    chips.set_dates("2019", "")
    assert sort.isChecked() and best.isChecked() and dates.isChecked()
    with qtbot.waitSignal(chips.changed):
        sort.trigger()  # a ticked toggle unticks: off again, as its chip's × does
    assert chips.options().sort == "relevance" and not sort.isChecked() and "Newest first  ×" not in chips.chip_texts()
    with qtbot.waitSignal(chips.changed):
        best.trigger()
    assert chips.options().best is False and not best.isChecked()
    dates.trigger()  # opens the dialog; the tick stays while a date is set
    assert dates.isChecked() and chips.dialog.isVisible()
    chips.dialog.reject()
    chips.remove("after")
    assert not dates.isChecked()


def test_date_dialog_refuses_a_bad_date_with_a_line_of_text(qtbot):
    dialog = DateDialog()
    qtbot.addWidget(dialog)
    dialog.after_edit.setText("2019-13")
    dialog.try_accept()
    assert "not a date" in dialog.error.text() and dialog.result() == 0
    dialog.after_edit.setText("2021")
    dialog.before_edit.setText("2019")
    dialog.try_accept()  # reversed: nothing could match, so the dialog says so and stays open
    assert "reversed" in dialog.error.text() and dialog.result() == 0
    dialog.before_edit.setText("")
    dialog.after_edit.setText("2019-12")
    dialog.try_accept()
    assert dialog.result() == DateDialog.DialogCode.Accepted and dialog.values() == ("2019-12", "")


def test_weight_control_reports_words_and_weight_once_settled(qtbot):
    control = WeightControl()
    qtbot.addWidget(control)
    assert control.weight() == 0.5
    with qtbot.waitSignal(control.changed, timeout=2000):
        control.slider.setValue(80)
        control.plus_edit.setText("at night")
    assert control.weight() == 0.8 and control.plus() == "at night"
    kwargs = SearchOptions(plus=control.plus(), weight=control.weight()).image_kwargs()
    assert kwargs["plus"] == "at night" and kwargs["weight"] == 0.8


def test_badges_are_painted_for_each_reason(qtbot):
    image = QImage(200, 200, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    placed = paint_why_badges(painter, QRect(0, 0, 200, 200), ("caption", "filename"), QFont())
    painter.end()
    assert len(placed) == 2 and placed[0].right() < placed[1].left()
    centre = placed[0].center()
    assert image.pixelColor(int(centre.x()) - 8, int(centre.y())).green() > 100  # the caption badge is green-ish
    assert badge_labels(("image", "keyword", "text-in-photo")) == ["image", "keyword", "text in photo"]
    assert paint_why_badges(QPainter(), QRect(0, 0, 10, 10), (), QFont()) == []
    assert set(BADGES) == {"image", "caption", "filename", "keyword", "text-in-photo"}


def test_window_search_shows_badges_and_honours_chips_and_the_weight_slider(qtbot, dated_library):  # noqa: F811
    from photosearch.ui.results_model import WhyRole

    root, photos = dated_library
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.jobs_done >= 1, timeout=WAIT)
    assert window.filter_chips.isVisible() and not window.weight_control.isVisible()
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.search_bar.set_text("beacon")
    model = window.results_model
    qtbot.waitUntil(lambda: model.rowCount() == 4, timeout=WAIT)
    assert Path(model.result(0).path).name == "lighthouse-coast.jpg"
    assert "keyword" in model.data(model.index(0), WhyRole)
    # the tile delegate paints the badges (the keyword badge's colour shows up on the tile)
    image = QImage(260, 260, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 240, 240)
    option.font = QFont()
    window.tile_delegate.paint(painter, option, model.index(0))
    painter.end()
    purple = BADGES["keyword"][1]
    assert any(
        abs(image.pixelColor(x, y).red() - purple.red()) < 40 and image.pixelColor(x, y).blue() > 150
        for x in range(0, 240, 2)
        for y in range(150, 200, 2)
    )
    # a date chip re-runs the query with the filter
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.filter_chips.set_dates("2021", "")
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=WAIT)
    assert {Path(model.result(r).path).name for r in range(2)} == {"d0.jpg", "d1.jpg"}
    window.filter_chips.remove("after")
    # an image query shows the weight control; words + weight re-run it and change the ranking
    from photosearch.ui.worker import ImageQuery

    target = str(photos / "d2.jpg")
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.set_image_query(ImageQuery(path=target, label="d2.jpg"))
    qtbot.waitUntil(lambda: model.rowCount() == 4, timeout=WAIT)
    assert window.weight_control.isVisible()
    before = [model.result(r).similarity for r in range(4)]
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.weight_control.slider.setValue(100)
        window.weight_control.plus_edit.setText("a lighthouse at night")
    qtbot.waitUntil(lambda: [model.result(r).similarity for r in range(model.rowCount())] != before, timeout=WAIT)
    expected = window.ref.get().search_image(target, k=200, plus="a lighthouse at night", weight=1.0)
    assert [model.result(r).path for r in range(model.rowCount())] == [r.path for r in expected]


def test_filters_that_hide_every_photo_say_so_when_browsing_and_searching(qtbot, window) -> None:
    from photosearch.ui.query_dispatch import PAGE_HINT, PAGE_TIMELINE

    qtbot.waitUntil(lambda: window.stack.currentIndex() == PAGE_TIMELINE, timeout=WAIT)
    window.filter_chips.set_dates("2001", "2002")  # the photos are all of today
    qtbot.waitUntil(lambda: window.stack.currentIndex() == PAGE_HINT, timeout=WAIT)
    text = window.hint.text()
    assert "No photos match the filters" in text and "From 2001" in text and "To 2002" in text
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT) as shown:
        window.run_text_query("a red square")
    assert shown.args[0] == 0 and window.stack.currentIndex() == PAGE_HINT
    assert "No photos match the filters" in window.hint.text() and "No matches yet" not in window.hint.text()
    window.clear_query()
    window.filter_chips.remove("after")
    window.filter_chips.remove("before")
    qtbot.waitUntil(lambda: window.stack.currentIndex() == PAGE_TIMELINE, timeout=WAIT)
    qtbot.waitUntil(lambda: window.timeline.model.photo_count() == 12, timeout=WAIT)
