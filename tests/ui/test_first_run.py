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


# The app as launched (`photosearch gui`), in its own process: a timer records, when the first-run dialog
# is up, which modules were imported, then answers "Not now" and quits.
_LAUNCH = """
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from photosearch.cli import main

app = QApplication(sys.argv[:1])

def look():
    for box in app.topLevelWidgets():
        if isinstance(box, QMessageBox) and box.isVisible():
            buttons = [b.text() for b in box.buttons()]
            seen = {"title": box.windowTitle(), "buttons": buttons, "text": box.informativeText(),
                    "torch": "torch" in sys.modules, "open_clip": "open_clip" in sys.modules}
            print(json.dumps(seen), flush=True)
            box.buttons()[buttons.index("Not now")].click()
            QTimer.singleShot(0, app.quit)
            return
    QTimer.singleShot(20, look)

QTimer.singleShot(0, look)
sys.exit(main(sys.argv[1:]))
"""


def test_a_first_run_without_network_shows_choose_a_model_file_before_importing_torch(tmp_path) -> None:
    import json
    import os
    import socket
    import subprocess
    import sys

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: every connection is refused at once
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY") and k != "HF_HUB_OFFLINE"}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HTTPS_PROXY=f"http://127.0.0.1:{closed.getsockname()[1]}",
        HF_HOME=str(tmp_path / "hf"),  # an empty hub cache
        PHOTOSEARCH_CACHE=str(tmp_path / "cache"),
        PHOTOSEARCH_CONFIG=str(tmp_path / "config"),
        HOME=str(tmp_path / "home"),
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _LAUNCH, "--library", str(tmp_path / "library"), "gui"],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
    finally:
        closed.close()
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[0])
    assert seen["title"] == "Model not available" and "Choose a model file…" in seen["buttons"]
    assert "can't be downloaded" in seen["text"] and "--" not in seen["text"]
    assert (seen["torch"], seen["open_clip"]) == (False, False)
