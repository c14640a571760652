"""The caption panel obeys the grid's filters: a folder, a date range, best matches."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from photosearch.core.filters import Filters
from tests.ui.conftest import TINY, gui_args, open_window, write_photos

WAIT = 60000


@pytest.fixture
def two_folders(tmp_path):
    """"photos": 12 photos of now, 3 captioned "a black cat on a red sofa"; "older": 20 photos of 2015,
    each captioned "cat" (the query itself, so all 20 outrank the sofa captions unfiltered)."""
    from photosearch.core.library import Library

    photos, older = tmp_path / "photos", tmp_path / "older"
    recent = write_photos(photos, 12)
    old = write_photos(older, 20, seed=5)
    stamp = datetime(2015, 6, 1).timestamp()
    for path in old:
        os.utime(path, (stamp, stamp))
    rows = [f"{p},a black cat on a red sofa" for p in recent[:3]] + [f"{p},cat" for p in old]
    (tmp_path / "captions.csv").write_text("image,description\n" + "\n".join(rows) + "\n")
    root = tmp_path / "library"
    library = Library(root, model=TINY, pretrained="random", offline=True)
    for folder in (photos, older):
        library.add_folder(folder)
    library.index()
    library.import_captions(tmp_path / "captions.csv")
    library.close()
    return root, photos.resolve(), older.resolve()


def _query(qtbot, window, text: str) -> int:
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT) as shown:
        window.run_text_query(text)
    return shown.args[0]


def _panel(window) -> list[tuple[str, str]]:
    return [(c.path, c.caption) for c in window.caption_model.captions()]


def test_caption_panel_obeys_the_folder_and_date_filters(qtbot, two_folders) -> None:
    root, photos, older = two_folders
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.ref.get().model_loaded)
    qtbot.waitUntil(lambda: window.jobs_done >= 1)
    library = window.ref.get()
    assert _query(qtbot, window, "cat") > 0
    assert len(_panel(window)) == 20 and all(p.startswith(str(older)) for p, _ in _panel(window))
    # only "photos": its 3 captions, not the top 20 of all cut down to the folder afterwards (none)
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window._on_folder_filter(str(photos))
    assert len(_panel(window)) == 3 and all(p.startswith(str(photos)) for p, _ in _panel(window))
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window._on_folder_filter("")
    # From 2020: the grid leaves out the 2015 photos, and so does the panel
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT) as shown:
        window.filter_chips.set_dates("2020", "")
    assert shown.args[0] == 12
    want = library.search_captions(text="cat", k=20, filters=Filters.from_text(after="2020"))
    assert _panel(window) == [(c.path, c.caption) for c in want] and len(want) == 3
    # a range with no photos: nothing in the grid, nothing in the panel
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT) as shown:
        window.filter_chips.set_dates("2030", "")
    assert shown.args[0] == 0 and _panel(window) == []
    # best matches only: the panel keeps the captions near its top, as the core's best cut does
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.filter_chips.update_options(after="", before="", best=True)
    want = library.search_captions(text="cat", k=20, best=True)
    assert _panel(window) == [(c.path, c.caption) for c in want]


@pytest.fixture
def copied_sign(tmp_path):
    """12 photos; the first one also copied into a/ and b/, and text read from it ("EXIT 12 SPRINGFIELD")."""
    import shutil

    from photosearch.core import ocr
    from photosearch.core.library import Library

    folder = tmp_path / "photos"
    photos = write_photos(folder, 12)
    for sub in ("a", "b"):
        (folder / sub).mkdir()
        shutil.copy(photos[0], folder / sub / "sign.jpg")
    root = tmp_path / "library"
    library = Library(root, model=TINY, pretrained="random", offline=True)
    library.add_folder(folder)
    library.index(read_text=False)
    with library.store.write() as conn:  # what the text-in-photos pass records for that content
        (fingerprint,) = conn.execute("SELECT fingerprint FROM photos WHERE path = ?", (str(photos[0]),)).fetchone()
        conn.execute(
            "INSERT INTO ocr_text(fingerprint, text, engine, done_at) VALUES (?, 'EXIT 12 SPRINGFIELD', 't', 0)",
            (fingerprint,),
        )
    ocr.sync_captions(library.store)  # a "text in photo" row for each of the three paths
    library.index(read_text=False)
    library.close()
    return root, folder.resolve()


def test_copies_of_a_photo_show_one_text_in_photo_row(qtbot, copied_sign) -> None:
    from PySide6.QtCore import Qt

    from photosearch.ui.delegates import caption_footer

    root, folder = copied_sign
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.ref.get().model_loaded)
    qtbot.waitUntil(lambda: window.jobs_done >= 1)
    _query(qtbot, window, "springfield")
    rows = [r for r, c in enumerate(window.caption_model.captions()) if c.caption == "EXIT 12 SPRINGFIELD"]
    assert len(rows) == 1  # not once per copy
    index = window.caption_model.index(rows[0])
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    paths = {str(folder / "photo_0_0000.jpg"), str(folder / "a" / "sign.jpg"), str(folder / "b" / "sign.jpg")}
    assert all(p in tip for p in paths) and "+2 copies" in tip
    assert caption_footer(index, 0.5) == "score 0.500 · +2 copies"  # under the row's text


PANEL_CAPTIONS = ("red apple", "green field", "blue car", "yellow taxi", "black cat", "white snow")


@pytest.fixture
def coloured_captions(tmp_path):
    """12 photos (red, green, blue, yellow, black, white, then again), the first six captioned by colour:
    the red one "red apple", the blue one "blue car"."""
    from photosearch.core.library import Library

    photos = write_photos(tmp_path / "photos", 12)
    rows = [f"{p},{text}" for p, text in zip(photos, PANEL_CAPTIONS, strict=False)]
    (tmp_path / "captions.csv").write_text("image,description\n" + "\n".join(rows) + "\n")
    root = tmp_path / "library"
    library = Library(root, model=TINY, pretrained="random", offline=True)
    library.add_folder(tmp_path / "photos")
    library.index()
    library.import_captions(tmp_path / "captions.csv")
    library.close()
    return root, [p.resolve() for p in photos]


def test_caption_panel_of_several_query_images_uses_them_all(qtbot, coloured_captions) -> None:
    """Two very different query images (the "red apple" photo and the "blue car" one): the panel ranks
    captions by the query the grid uses (both images, then the Refine words and weight), not the first
    image alone."""
    import numpy as np

    root, photos = coloured_captions
    red, blue = str(photos[0]), str(photos[2])
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.ref.get().model_loaded)
    qtbot.waitUntil(lambda: window.jobs_done >= 1)
    library = window.ref.get()
    engine, encoder = library.engine(), library.encoder()
    vectors = dict(zip(PANEL_CAPTIONS, encoder.encode_texts(list(PANEL_CAPTIONS)), strict=True))
    v_red, v_blue = (v / np.linalg.norm(v) for v in (engine.vector_for_path(red), engine.vector_for_path(blue)))

    def expected(query) -> dict[str, float]:
        query = query / np.linalg.norm(query)
        return {text: pytest.approx(float(v @ query), abs=2e-3) for text, v in vectors.items()}

    def panel() -> dict[str, float]:
        return {c.caption: c.score for c in window.caption_model.captions()}

    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.find_similar_to_all([red, blue])
    assert window.search_bar.query_images()[1].path == blue
    assert panel() == expected(v_red + v_blue)  # both images count, half each
    assert panel() != expected(v_red)  # (what the first image alone gives: the test tells them apart)
    scores = [c.score for c in window.caption_model.captions()]
    assert scores == sorted(scores, reverse=True)
    # the Refine words and the weight apply to the panel as to the grid: the same core query
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.weight_control.plus_edit.setText("fruit -car")
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT):
        window.weight_control.slider.setValue(30)
    options = window.search_options()
    assert (options.plus, options.minus, options.weight) == ("fruit", ("car",), 0.3)
    want = library.search_captions(image=[red, blue], k=20, plus="fruit", minus=["car"], weight=0.3)
    assert [(c.path, c.caption) for c in window.caption_model.captions()] == [(c.path, c.caption) for c in want]
    assert panel() != expected(v_red + v_blue)
