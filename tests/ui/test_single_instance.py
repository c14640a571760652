"""One library, one window: a second launch brings the first forward and changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys

from photosearch.core.paths import library_dir
from photosearch.ui.settings import Settings
from photosearch.ui.single_instance import SingleInstance, server_name
from tests.ui.conftest import gui_args

WAIT = 60000


def test_second_claim_hands_over_to_the_first(qtbot, tmp_path) -> None:
    name = server_name(tmp_path / "library")
    first = SingleInstance(name)
    assert first.claim()
    second = SingleInstance(name)
    with qtbot.waitSignal(first.activated, timeout=WAIT):
        assert not second.claim()
    other = SingleInstance(server_name(tmp_path / "another library"))
    assert other.claim()  # a different library opens its own window


def test_a_second_launch_exits_without_touching_the_first_ones_settings(qtbot, photo_library, tmp_path) -> None:
    root, photos = photo_library
    Settings(folders=[str(photos)], thumb_size=200).save()
    before = Settings.path().read_bytes()
    first = SingleInstance(server_name(library_dir(str(root))))
    assert first.claim()
    activated = []
    first.activated.connect(lambda: activated.append(True))
    # The real command line in its own process, like a second click on the app's icon.
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "photosearch", "--library", str(root), "gui"]
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    qtbot.waitUntil(lambda: second.poll() is not None, timeout=WAIT * 2)
    _, err = second.communicate()
    assert second.returncode == 0, err
    assert "already open on this library" in err
    qtbot.waitUntil(lambda: bool(activated), timeout=WAIT)
    assert Settings.path().read_bytes() == before


def test_run_in_process_returns_at_once_when_the_library_is_open(qtbot, photo_library) -> None:
    from photosearch.ui.app import run

    root, _ = photo_library
    first = SingleInstance(server_name(library_dir(str(root))))
    assert first.claim()
    with qtbot.waitSignal(first.activated, timeout=WAIT):
        assert run(gui_args(root)) == 0
