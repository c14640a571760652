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
