"""OCR in the app: the preview shows the text read, and the Settings switch stops the pass."""

from __future__ import annotations

from photosearch.ui.dialogs import PreviewDialog
from photosearch.ui.settings import Settings
from photosearch.ui.text_in_photos import text_in_photo_label
from tests.ui.conftest import gui_args, open_window

WAIT = 60000


def test_preview_shows_text_in_photo_apart_from_captions(qtbot, tmp_path):
    details = {
        "width": 10,
        "height": 10,
        "captions": [{"source": "csv", "text": "our cafe"}, {"source": "ocr", "text": "GRAND\nCAFE"}],
    }
    dialog = PreviewDialog(str(tmp_path / "x.jpg"), details, None)
    qtbot.addWidget(dialog)
    assert dialog.text_label.text() == "Text in photo: GRAND · CAFE"
    assert "GRAND" not in dialog.captions_label.text() and "our cafe" in dialog.captions_label.text()
    assert not text_in_photo_label({"captions": []}).text()


def test_read_text_setting_round_trips_and_defaults_on(tmp_path):
    assert Settings().read_text is True
    settings = Settings(read_text=False)
    settings.save()
    assert Settings.load().read_text is False


def test_turning_text_reading_off_in_settings_stops_the_pass(qtbot, photo_library):
    from photosearch.core.library import Library

    root, _ = photo_library
    library = Library(root)
    with library.store.write() as conn:
        conn.execute("DELETE FROM ocr_text")  # as if never read
    library.close()
    Settings(read_text=False).save()
    window = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: window.jobs_done >= 1, timeout=WAIT)
    assert window.worker.read_text is False
    assert window.ref.get().status()["ocr"] == {"done": 0, "pending": 12}
    window.worker.read_text = True  # what Settings > Text in photos does
    # The text pass follows the rescan as a job of its own.
    with qtbot.waitSignal(window.worker.finished, timeout=WAIT, check_params_cb=lambda job, _: job == "text"):
        window._index.emit()
    assert window.ref.get().status()["ocr"] == {"done": 12, "pending": 0}
