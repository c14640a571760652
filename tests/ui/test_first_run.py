"""First run without model weights: a clear way forward, and indexing that says it waits."""

from __future__ import annotations

import open_clip
import torch
from safetensors.torch import save_file

from photosearch.core.encoder import ModelSpec, load_encoder
from photosearch.ui.settings import Settings
from tests.ui.conftest import TINY, gui_args, open_window, write_photos

WAIT = 60000


def _tiny_checkpoint(path) -> str:
    load_encoder(ModelSpec(TINY, "random"), backend="torch")  # registers the tiny config with open_clip
    name = ModelSpec(TINY, "random").model_id.split("/")[0]
    torch.manual_seed(7)
    model = open_clip.create_model(name)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return str(path)


def test_no_weights_offline_reaches_choose_a_model_file_and_indexing_waits(qtbot, tmp_path) -> None:
    # The real default model, with no weights on disk and no network allowed.
    window = open_window(qtbot, gui_args(tmp_path / "library", model=None, pretrained=None, offline=True))
    qtbot.waitUntil(lambda: window.device_label.text() == "no model", timeout=WAIT)
    assert "--" not in window.last_error and "can't be downloaded" in window.last_error
    assert "Choose a model file" in window.statusBar().currentMessage()
    photos = tmp_path / "photos"
    write_photos(photos, 5)
    window.add_folder(str(photos))
    qtbot.waitUntil(lambda: window.progress.isVisible() and "Waiting" in window.progress.format(), timeout=WAIT)
    assert "0 /" not in window.progress.format()
    assert not window.pause_button.isVisible()


def test_choosing_a_model_file_later_loads_it_indexes_and_remembers_it(qtbot, tmp_path) -> None:
    checkpoint = _tiny_checkpoint(tmp_path / "tiny.safetensors")
    photos = tmp_path / "photos"
    write_photos(photos, 6)
    # A tag the tiny model does not have: the load fails like missing weights would.
    window = open_window(qtbot, gui_args(tmp_path / "library", pretrained="laion2b_s34b_b79k"))
    qtbot.waitUntil(lambda: window.device_label.text() == "no model", timeout=WAIT)
    window.add_folder(str(photos))
    qtbot.waitUntil(lambda: "Waiting for the model" in window.progress.format(), timeout=WAIT)
    window.pick_file = lambda title, filters: checkpoint
    window.choose_model_file()
    qtbot.waitUntil(lambda: window.ref.get().model_loaded, timeout=WAIT)
    qtbot.waitUntil(lambda: window._indexed_count == 6, timeout=WAIT)
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT) as blocker:
        window.run_text_query("a photo")
    assert blocker.args[0] == 6
    qtbot.waitUntil(lambda: Settings.load().pretrained == checkpoint, timeout=WAIT)


def test_settings_model_list_offers_from_a_file(qtbot, window, tmp_path) -> None:
    from photosearch.ui.dialogs import FROM_FILE, SettingsDialog

    spec = window.ref.get().spec
    dialog = SettingsDialog(window.settings, spec.model, spec.pretrained, ["auto", "cpu"], window)
    row = dialog.preset.findText(FROM_FILE)
    assert row >= 0
    dialog.fileRequested.connect(lambda: dialog.set_model_file("/somewhere/weights.safetensors"))
    dialog.preset.setCurrentIndex(row)
    dialog.preset.activated.emit(row)
    assert dialog.chosen_model(spec.model) == (spec.model, "/somewhere/weights.safetensors")
