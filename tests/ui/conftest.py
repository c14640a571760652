"""Fixtures for the desktop app's tests: offscreen Qt, a small real library with the tiny model."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any Qt import: no display on CI

import argparse
import contextlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QObject, Signal, Slot
from pytestqt.qtbot import QtBot
from pytestqt.wait_signal import SignalBlocker

# pytest-qt gives up after 5 s by default: a loaded or slow machine can take longer to answer than that,
# and no test here waits for something that must not happen. Only a failing test waits this long.
for _wait in (QtBot.waitUntil, QtBot.waitSignal):
    _wait.__kwdefaults__["timeout"] = 60_000


class _ToGuiThread(QObject):
    """Hands a signal's arguments to the GUI thread. pytest-qt connects waitSignal's plain method, which
    PySide runs on the sender's thread when the sender lives on a worker's (the app's index worker): it
    stopped the wait's timer from the wrong thread and could quit the loop before it ran, so the wait
    never ended, timeout or not (tests/ui/test_wait_signal.py)."""

    arrived = Signal(object)

    def __init__(self, deliver) -> None:
        super().__init__()  # created here, on the GUI thread: a worker's emit of `arrived` is queued
        self._deliver = deliver
        self.arrived.connect(self._on_arrived)

    def forward(self, *args) -> None:
        self.arrived.emit(args)

    @Slot(object)
    def _on_arrived(self, args: tuple) -> None:
        self._deliver(*args)


def _connect_on_gui_thread(self: SignalBlocker, signal) -> None:
    self.signal_name = self.determine_signal_name(potential_signal_tuple=signal)
    actual = self.get_signal_from_potential_signal_tuple(signal)
    relay = _ToGuiThread(self._quit_loop_by_signal)
    actual.connect(relay.forward)
    self._signals.append(actual)
    self.__dict__.setdefault("_relays", []).append((actual, relay))


_plain_cleanup = SignalBlocker._cleanup


def _cleanup_relays(self: SignalBlocker) -> None:
    for signal, relay in self.__dict__.pop("_relays", []):
        with contextlib.suppress(RuntimeError, TypeError):  # the sender is gone already
            signal.disconnect(relay.forward)
    self._signals = []  # connected through the relays only: nothing else to disconnect
    _plain_cleanup(self)


SignalBlocker.connect = _connect_on_gui_thread
SignalBlocker._cleanup = _cleanup_relays

TINY = str(Path(__file__).resolve().parents[1] / "fixtures" / "tiny_clip.json")
COLOURS = [(220, 30, 30), (30, 200, 40), (40, 60, 220), (240, 220, 40), (20, 20, 20), (250, 250, 250)]


def write_photos(folder: Path, count: int, size: int = 48, seed: int = 0) -> list[Path]:
    """Distinct small JPEGs: a solid colour plus noise, so every photo has its own embedding."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        base = np.array(COLOURS[i % len(COLOURS)], dtype=np.int16)
        noise = rng.integers(-60, 60, (size, size, 3))
        array = np.clip(base + noise, 0, 255).astype(np.uint8)
        path = folder / f"photo_{seed}_{i:04d}.jpg"
        Image.fromarray(array).save(path, quality=85)
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    # One ONNX export of the tiny model for the whole session (the core caches it here).
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, model_cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("PHOTOSEARCH_CONFIG", str(tmp_path / "config"))
    monkeypatch.setenv("PHOTOSEARCH_CACHE", str(model_cache))
    monkeypatch.delenv("PHOTOSEARCH_LIBRARY", raising=False)


@pytest.fixture(autouse=True)
def app_look_restored(qapp):
    """A test that starts the real app (ui.app.run) styles the one QApplication every test shares: put its
    look back, so a layout a later test measures does not depend on which tests ran before it."""
    sheet, palette, style, font = qapp.styleSheet(), qapp.palette(), qapp.style().name(), qapp.font()
    yield
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)
    qapp.setFont(font)


def gui_args(library: Path, **extra) -> argparse.Namespace:
    values = {
        "library": str(library),
        "model": TINY,
        "pretrained": "random",
        "device": "auto",
        "backend": "auto",
        "offline": True,
        "screenshot": None,
        "query": None,
        "query_image": None,
    }
    values.update(extra)
    return argparse.Namespace(**values)


def make_library(tmp_path: Path, photos: Path, index: bool = True) -> tuple[Path, Path]:
    """(library dir, photos dir): a tiny-model library at tmp_path/library watching photos, indexed or not."""
    from photosearch.core.library import Library

    root = tmp_path / "library"
    library = Library(root, model=TINY, pretrained="random", offline=True)
    library.add_folder(photos)
    if index:
        library.index()
    library.close()
    return root, photos.resolve()


@pytest.fixture
def photo_library(tmp_path: Path) -> tuple[Path, Path]:
    """(library dir, photos dir): 12 photos, indexed with the tiny model."""
    photos = tmp_path / "photos"
    write_photos(photos, 12)
    return make_library(tmp_path, photos)


def open_window(qtbot, args: argparse.Namespace, **kwargs):
    from photosearch.ui.app import build_window

    window = build_window(args, interactive=False, **kwargs)
    qtbot.addWidget(window, before_close_func=lambda w: w.shutdown())
    window.show()
    return window


@pytest.fixture
def window(qtbot, photo_library):
    root, _ = photo_library
    win = open_window(qtbot, gui_args(root))
    qtbot.waitUntil(lambda: win.ref.get().model_loaded, timeout=60000)
    qtbot.waitUntil(lambda: win.jobs_done >= 1, timeout=60000)  # the start-up rescan holds the writer lock
    return win
