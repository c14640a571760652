"""Combined image queries in the GUI: several images together, images and words taken away, the weight
slider applying, each giving the same ranking as the core call the CLI's `similar` makes."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from photosearch.ui.results_model import PathRole
from photosearch.ui.search_bar import SearchBar
from photosearch.ui.worker import ImageQuery

WAIT = 60000


def _query(path) -> ImageQuery:
    return ImageQuery(path=str(path), label=str(path).rsplit("/", 1)[-1])


def _grid(window) -> list[str]:
    model = window.results_model
    return [model.data(model.index(r), PathRole) for r in range(model.rowCount())]


def _drop(window, paths, modifiers=Qt.KeyboardModifier.NoModifier) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(400, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, modifiers)
    window.dropEvent(event)
    return event


def test_search_bar_shows_every_query_image_and_removes_each(qtbot, tmp_path):
    bar = SearchBar()
    qtbot.addWidget(bar)
    a, b, c = (_query(tmp_path / f"{n}.jpg") for n in "abc")
    assert not bar.add_image(c, minus=True)  # nothing to take an image away from yet
    with qtbot.waitSignal(bar.imageSearch):
        bar.set_images([a, b])
    with qtbot.waitSignal(bar.imageSearch) as searched:
        assert bar.add_image(c, minus=True)
    assert searched.args == [a] and bar.query_images() == [a, b] and bar.minus_images == [c]
    assert [chip.label.text() for chip in bar.extra_chips] == ["+ b.jpg", "− c.jpg"]
    assert bar.extra_chips[1].property("minus") is True
    with qtbot.waitSignal(bar.imageSearch):
        bar.extra_chips[1].close_button.click()  # ✕ on the minus image
    assert bar.minus_images == [] and len(bar.extra_chips) == 1
    with qtbot.waitSignal(bar.imageSearch) as searched:
        bar.chip.close_button.click()  # ✕ on the first image: the next one takes its place
    assert searched.args == [b] and bar.query_images() == [b] and bar.extra_chips == []
    with qtbot.waitSignal(bar.cleared):
        bar.chip.close_button.click()
    assert bar.query_images() == []
    # typing parks the whole image query; the restore chip brings all of it back
    bar.set_images([a, b])
    qtbot.keyClicks(bar.edit, "x")
    assert bar.image_query is None and bar.extra_chips == []
    with qtbot.waitSignal(bar.imageSearch):
        bar._on_chip_clicked()
    assert bar.query_images() == [a, b] and len(bar.extra_chips) == 1


def test_two_dropped_photos_query_together_and_ctrl_adds_a_third(qtbot, window, photo_library):
    _, photos = photo_library
    a, b, c = sorted(photos.iterdir())[:3]
    library = window.ref.get()
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        assert _drop(window, [a, b]).isAccepted()
    assert window.search_bar.query_images() == [_query(a), _query(b)]
    assert _grid(window) == [r.path for r in library.search_image([str(a), str(b)], k=window._k())]
    assert _grid(window) != [r.path for r in library.search_image(str(a), k=window._k())]
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        _drop(window, [c], Qt.KeyboardModifier.ControlModifier)
    assert [q.path for q in window.search_bar.query_images()] == [str(a), str(b), str(c)]
    assert _grid(window) == [r.path for r in library.search_image([str(a), str(b), str(c)], k=window._k())]
    # a plain drop starts over
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        _drop(window, [c])
    assert window.search_bar.query_images() == [_query(c)] and _grid(window)[0] == str(c)


def test_less_like_this_minus_words_and_the_weight_slider(qtbot, window, photo_library):
    _, photos = photo_library
    a = str(sorted(photos.iterdir())[0])
    library = window.ref.get()
    model = window.results_model
    # with no image query, a photo cannot be taken away
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.search_bar.set_text("a red square")
    menu_before = window.grid_menu(model.index(0))
    assert not next(x for x in menu_before.actions() if x.text() == "Less like this").isEnabled()
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.set_image_query(_query(a))
    before = {model.result(r).path: model.result(r).similarity for r in range(model.rowCount())}
    b = _grid(window)[1]
    menu = window.grid_menu(model.index(1))
    less = next(x for x in menu.actions() if x.text() == "Less like this")
    assert less.isEnabled()
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        less.trigger()
    assert window.search_bar.minus_images == [_query(b)]
    assert [c.label.text() for c in window.search_bar.extra_chips] == ["− " + b.rsplit("/", 1)[-1]]
    expected = library.search_image([a], k=window._k(), minus_images=[b], weight=0.5)
    assert _grid(window) == [r.path for r in expected]
    after = {model.result(r).path: model.result(r).similarity for r in range(model.rowCount())}
    assert after[b] < before[b] and _grid(window).index(b) >= 1  # pushed away, as asked (never up)
    # -word in the words box takes words away, through the same core call as `similar --minus`
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.weight_control.plus_edit.setText("square -red")
    expected = library.search_image(
        [a], k=window._k(), plus="square", minus=["red"], minus_images=[b], weight=0.5
    )
    assert _grid(window) == [r.path for r in expected]
    # weight 0: the images alone (neither the words nor what is taken away count)
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.weight_control.slider.setValue(0)
    assert _grid(window) == [r.path for r in library.search_image(a, k=window._k())]


def test_find_similar_to_a_selection_uses_all_of_it(qtbot, window, photo_library):
    _, photos = photo_library
    paths = [str(p) for p in sorted(photos.iterdir())[:2]]
    window.find_similar_to_all(paths)
    qtbot.waitUntil(lambda: window.search_bar.query_images() == [_query(p) for p in paths], timeout=WAIT)
    qtbot.waitUntil(lambda: window.searcher.idle and window.results_model.rowCount() > 0, timeout=WAIT)
    assert _grid(window) == [r.path for r in window.ref.get().search_image(paths, k=window._k())]


def test_a_new_image_query_starts_without_the_last_ones_refine_words(qtbot, window, photo_library):
    """Words typed in Refine belong to their image query: closing it takes them away, and Find similar,
    a paste or a plain drop starts afresh; adding an image (Ctrl-drop, More like this too) keeps them,
    and the status line names them."""
    _, photos = photo_library
    a, b, c = (str(p) for p in sorted(photos.iterdir())[:3])
    library = window.ref.get()
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.set_image_query(_query(a))
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.weight_control.plus_edit.setText("texture -cat")
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.weight_control.slider.setValue(3)
    assert "texture -cat" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):  # More like this too: the words stay
        window.search_bar.add_image(_query(b))
    assert window.weight_control.plus_edit.text() == "texture -cat"
    message = window.statusBar().currentMessage()
    assert message.startswith(f"12 photos for {_query(a).label} + 1 more, with “texture -cat”")
    window.search_bar.chip.close_button.click()  # ✕: b takes a's place, still the same query
    window.search_bar.chip.close_button.click()  # ✕ again: the image query ends
    assert window.search_bar.image_query is None
    assert window.weight_control.plus_edit.text() == "" and window.weight_control.weight() == 0.5
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.set_image_query(_query(c))
    options = window.search_options()
    assert (options.plus, options.minus, options.weight) == ("", (), 0.5)
    assert _grid(window) == [r.path for r in library.search_image(c, k=window._k())]
    # a new query straight over one with words (no ✕ first) starts afresh too
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.weight_control.plus_edit.setText("texture")
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        _drop(window, [a])
    assert window.weight_control.plus_edit.text() == ""
    assert _grid(window) == [r.path for r in library.search_image(a, k=window._k())]
    assert "texture" not in window.statusBar().currentMessage()
