"""Small UI parts on their own: highlighting, settings, the search bar's text/image turns."""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData, Qt, QUrl

from photosearch.ui.main_window import image_query_from_mime
from photosearch.ui.results_model import highlight_html
from photosearch.ui.search_bar import SearchBar
from photosearch.ui.settings import PRESETS, Settings
from photosearch.ui.worker import ImageQuery


def test_highlight_bolds_whole_words_and_escapes() -> None:
    html = highlight_html("A <cat> & a catalogue, CAT!", ("cat",))
    assert html == "A &lt;<b>cat</b>&gt; &amp; a catalogue, <b>CAT</b>!"
    assert highlight_html("<b>x</b>", ()) == "&lt;b&gt;x&lt;/b&gt;"


def test_settings_round_trip_and_bad_file(tmp_path) -> None:
    settings = Settings(thumb_size=200, results_per_page=50, folders=["/a"], device="cpu")
    settings.save()
    assert Settings.load() == settings
    Settings.path().write_text(json.dumps({"thumb_size": 99999, "device": "tpu", "junk": 1}))
    loaded = Settings.load()
    assert loaded.thumb_size == 320 and loaded.device == "auto"
    Settings.path().write_text("{not json")
    assert Settings.load() == Settings()


def test_offline_setting_reaches_every_library_the_app_makes(qtbot, tmp_path) -> None:
    from photosearch.ui.app import build_window
    from tests.ui.conftest import gui_args

    Settings(offline=True).save()
    assert Settings.load().offline is True
    window = build_window(gui_args(tmp_path / "lib", offline=False), interactive=False, start_worker=False)
    qtbot.addWidget(window, before_close_func=lambda w: w.shutdown())
    assert window.ref.get().offline is True
    assert window.worker._make_library().offline is True  # what a model switch would build


def test_presets_use_real_open_clip_tags() -> None:
    import open_clip

    for preset in PRESETS:
        assert preset.pretrained in open_clip.list_pretrained_tags_by_model(preset.model), preset


def test_search_bar_debounces_and_swaps_queries(qtbot, tmp_path) -> None:
    bar = SearchBar()
    qtbot.addWidget(bar)
    texts: list[str] = []
    images: list[ImageQuery] = []
    bar.textSearch.connect(texts.append)
    bar.imageSearch.connect(images.append)
    qtbot.keyClicks(bar.edit, "beach")
    assert bar.edit.text() == "beach", bar.edit.text()
    assert bar._debounce.isActive()
    assert texts == []  # not per keystroke
    qtbot.waitUntil(lambda: texts == ["beach"], timeout=60000)  # only a failing test waits that long
    query = ImageQuery(path=str(tmp_path / "x.jpg"), label="x.jpg")
    bar.set_image(query)
    assert images == [query] and bar.edit.text() == ""
    bar.clear()
    assert bar.image_query is None and bar.last_image == query
    bar._on_chip_clicked()
    assert images == [query, query]


def test_image_chips_are_closed_and_restored_from_the_keyboard(qtbot, tmp_path) -> None:
    bar = SearchBar()
    qtbot.addWidget(bar)
    bar.show()
    bar.activateWindow()
    qtbot.waitUntil(bar.isActiveWindow)
    images: list[ImageQuery] = []
    bar.imageSearch.connect(images.append)
    first, second = (ImageQuery(path=str(tmp_path / f"{n}.jpg"), label=f"{n}.jpg") for n in "ab")
    bar.set_images([first, second])
    bar.edit.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.keyClick(bar.edit, Qt.Key.Key_Tab)
    assert bar.chip.hasFocus()  # Tab from the box reaches the query's chip
    qtbot.keyClick(bar.chip, Qt.Key.Key_Delete)  # the second image takes the first one's place
    assert bar.image_query == second and images[-1] == second and bar.chip.hasFocus()
    qtbot.keyClick(bar.chip, Qt.Key.Key_Backspace)  # the image query ends; typing goes on in the box
    assert bar.image_query is None and not bar.chip.isVisible() and bar.edit.hasFocus()
    bar.set_image(first)
    bar.set_text("beach", search=False)  # typing parks the image query: its chip can bring it back
    assert bar.image_query is None and bar.chip.isVisible()
    bar.chip.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(bar.chip, Qt.Key.Key_Delete)  # a restore chip has no ✕: Delete does nothing
    assert bar.chip.isVisible() and bar.last_image == first
    qtbot.keyClick(bar.chip, Qt.Key.Key_Space)
    assert bar.image_query == first and images[-1] == first


def test_mime_to_image_query(tmp_path) -> None:
    from tests.ui.conftest import write_photos

    (photo,) = write_photos(tmp_path, 1)
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/a.jpg"), QUrl.fromLocalFile(str(photo))])
    assert image_query_from_mime(mime).path == str(photo)
    raw = QMimeData()
    raw.setData("image/jpeg", photo.read_bytes())
    assert image_query_from_mime(raw).data == photo.read_bytes()
    assert image_query_from_mime(QMimeData()) is None


def test_thumbnail_of_an_edited_photo_is_reloaded(qtbot, tmp_path) -> None:
    from PySide6.QtGui import QImage as _QImage

    from photosearch.ui.thumbnails import ThumbnailLoader

    files = {}
    for name, colour in (("old", 0xFF0000), ("new", 0x0000FF)):
        image = _QImage(8, 8, _QImage.Format.Format_RGB32)
        image.fill(colour)
        files[name] = tmp_path / f"{name}.png"
        image.save(str(files[name]))
    loader = ThumbnailLoader(lambda path, fingerprint: files[fingerprint])
    assert loader.pixmap("/p.jpg", "old") is None
    qtbot.waitUntil(lambda: loader.settled("/p.jpg"))
    assert loader.pixmap("/p.jpg", "old").toImage().pixel(0, 0) & 0xFFFFFF == 0xFF0000
    assert loader.pixmap("/p.jpg", "new") is None  # new content: the red one must not be shown
    qtbot.waitUntil(lambda: loader.settled("/p.jpg"))
    assert loader.pixmap("/p.jpg", "new").toImage().pixel(0, 0) & 0xFFFFFF == 0x0000FF
    loader.wait_idle()
