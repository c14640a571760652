"""Model and device changes that cannot fail half-way, and restarts that always open a searchable library."""

from __future__ import annotations

from photosearch.core.devices import available_devices
from photosearch.ui.dialogs import SettingsDialog
from photosearch.ui.settings import PRESETS, Settings
from tests.ui.conftest import gui_args, open_window

WAIT = 60000


def _search_count(qtbot, window, text: str = "a photo") -> int:
    with qtbot.waitSignal(window.resultsShown, timeout=WAIT) as blocker:
        window.run_text_query(text)
    return blocker.args[0]


def test_settings_offer_only_devices_this_machine_has(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.models.devices == available_devices(), timeout=WAIT)
    spec = window.ref.get().spec
    dialog = SettingsDialog(window.settings, spec.model, spec.pretrained, window.models.devices, window)
    offered = [dialog.device.itemData(i) for i in range(dialog.device.count())]
    assert offered == available_devices()
    words = [dialog.device.itemText(i) for i in range(dialog.device.count())]
    assert words[:2] == ["Automatic", "CPU"]


def test_settings_show_work_offline_on_when_the_command_line_set_it(qtbot, window) -> None:
    """The window fixture runs with --offline and the settings file says nothing of it: the dialog shows
    the state in effect, says where it comes from, and OK does not save the command line's choice."""
    assert window.settings.offline is False and window.ref.get().offline
    dialog = window.models.settings_dialog()
    assert dialog.offline.isChecked() and not dialog.offline.isEnabled()
    assert "--offline" in dialog.offline.toolTip() and "--offline" in dialog.offline_note.text()
    assert dialog.offline_note.isVisibleTo(dialog)
    window.models.apply_settings(dialog)
    assert window.settings.offline is False  # for this run only
    spec = window.ref.get().spec
    plain = SettingsDialog(window.settings, spec.model, spec.pretrained, ["auto", "cpu"], window)
    assert not plain.offline.isChecked() and plain.offline.isEnabled() and not plain.offline_note.isVisibleTo(plain)


def test_failed_switch_to_an_undownloadable_preset_keeps_search_and_settings(qtbot, window, photo_library) -> None:
    root, _ = photo_library
    before = window.ref.get().spec
    assert _search_count(qtbot, window) == 12
    Settings.load()  # whatever is on disk now must be what is on disk after the failure
    saved = Settings.path().read_text() if Settings.path().exists() else None
    better = next(p for p in PRESETS if p.key == "better")
    window.models.request(better.model, better.pretrained, "auto")
    qtbot.waitUntil(lambda: bool(window.last_switch_error), timeout=WAIT)
    assert window.ref.get().spec == before  # the previous model still serves
    assert "ViT-B-16" in window.last_switch_error and "--" not in window.last_switch_error
    assert "Still searching with" in window.last_switch_error
    assert window.device_label.text() != "no model"
    assert (Settings.path().read_text() if Settings.path().exists() else None) == saved
    assert _search_count(qtbot, window) == 12
    window.close()
    # After a restart (CLI-less: the GUI's own choice of model), the library still answers.
    again = open_window(qtbot, gui_args(root, model=None, pretrained=None))
    qtbot.waitUntil(lambda: again.ref.get().model_loaded, timeout=WAIT)
    assert again.ref.get().spec == before
    assert _search_count(qtbot, again) == 12


def test_failed_switch_to_a_missing_device_says_so_in_words(qtbot, window) -> None:
    spec = window.ref.get().spec
    missing = "cuda" if "cuda" not in available_devices() else "mps"
    window.models.request(spec.model, spec.pretrained, missing)
    qtbot.waitUntil(lambda: bool(window.last_switch_error), timeout=WAIT)
    assert "--" not in window.last_switch_error  # no command-line advice in the window
    assert "is not available" in window.last_switch_error or "no CUDA device" in window.last_switch_error
    assert window.settings.device == "auto"
    assert window.ref.get().model_loaded
    assert _search_count(qtbot, window) == 12


def test_settings_refuse_a_device_the_machine_lacks(qtbot, window) -> None:
    spec = window.ref.get().spec
    dialog = SettingsDialog(window.settings, spec.model, spec.pretrained, ["auto", "cpu", "cuda"], window)
    dialog.device.setCurrentIndex(dialog.device.findData("cuda"))
    window.models.devices = ["auto", "cpu"]
    window.models.apply_settings(dialog)
    assert window.models.switching == ""  # nothing was asked of the worker
    assert window.settings.device == "auto"


def test_a_saved_settings_model_that_never_indexed_does_not_hide_the_library(qtbot, photo_library) -> None:
    root, _ = photo_library
    better = next(p for p in PRESETS if p.key == "better")
    Settings(model=better.model, pretrained=better.pretrained, device="cuda").save()  # the old bug's leftovers
    window = open_window(qtbot, gui_args(root, model=None, pretrained=None))
    qtbot.waitUntil(lambda: window.ref.get().model_loaded, timeout=WAIT)
    assert window.ref.get().spec.pretrained == "random"  # the library's own (tiny) model
    assert _search_count(qtbot, window) == 12


def test_a_successful_switch_is_saved_only_once_done(qtbot, window, tmp_path) -> None:
    spec = window.ref.get().spec
    window.models.request(spec.model, spec.pretrained, "cpu")
    qtbot.waitUntil(lambda: Settings.load().device == "cpu", timeout=WAIT)
    assert _search_count(qtbot, window) == 12
