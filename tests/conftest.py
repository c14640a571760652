"""Shared fixtures: a tiny open_clip model with seeded random weights (no download), generated photos."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

FIXTURES = Path(__file__).parent / "fixtures"
TINY_MODEL = str(FIXTURES / "tiny_clip.json")

# No test may touch the network or the user's own folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    shared_cache = tmp_path_factory.getbasetemp() / "shared-cache"  # ONNX exports reused across tests
    monkeypatch.setenv("PHOTOSEARCH_CACHE", str(shared_cache))
    monkeypatch.setenv("PHOTOSEARCH_CONFIG", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("PHOTOSEARCH_LIBRARY", raising=False)


def make_photo(path: Path, seed: int, size: tuple[int, int] = (96, 72), fmt: str | None = None) -> Path:
    """A distinct, natural-ish image: a gradient, a few shapes and some noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = rng.integers(0, 255, 3)
    slope = rng.uniform(-1.5, 1.5, (2, 3))
    pixels = base + xx[..., None] * slope[0] + yy[..., None] * slope[1] + rng.normal(0, 12, (h, w, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x0, y0 = int(rng.integers(0, w - 8)), int(rng.integers(0, h - 8))
        x1, y1 = x0 + int(rng.integers(6, w // 2)), y0 + int(rng.integers(6, h // 2))
        draw.ellipse((x0, y0, x1, y1), fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt)
    return path


def make_photos(folder: Path, count: int, start: int = 0, ext: str = ".jpg") -> list[Path]:
    return [make_photo(folder / f"photo_{i:04d}{ext}", seed=i) for i in range(start, start + count)]


@pytest.fixture
def photos_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    make_photos(folder, 6)
    make_photos(folder / "sub", 3, start=100, ext=".png")
    return folder


@pytest.fixture
def library_path(tmp_path: Path) -> Path:
    return tmp_path / "library"


@pytest.fixture
def library(library_path: Path):
    from photosearch.core.library import Library

    lib = Library(library_path, model=TINY_MODEL, pretrained="random")
    yield lib
    lib.close()


def unreadable_error(target: Path, snippet: str) -> str:
    """What `snippet` (Python code reading the file named by `target`) prints when that file is unreadable.

    chmod 0 stops everyone but root, and CI runs as root: there the child drops the capabilities that let
    root bypass file permissions (util-linux `setpriv`), so the permission check is real.
    """
    import subprocess
    import sys

    target.chmod(0)
    command = [sys.executable, "-c", f"target = {str(target)!r}\n{snippet}"]
    if os.name == "posix" and os.geteuid() == 0:
        caps = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *command]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    return proc.stdout.strip() or proc.stderr.strip()
