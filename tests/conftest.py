"""Shared fixtures: a tiny open_clip model with seeded random weights (no download), generated photos."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from PIL import Image, ImageDraw

ROOT = Path(__file__).parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
TINY_MODEL = str(FIXTURES / "tiny_clip.json")

# No test may touch the network or the user's own folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Property tests check behaviour, never speed: no per-example deadline (200 ms by default) and no
# "too slow" health check, which a loaded machine trips. Tests may still tighten their own settings.
settings.register_profile("photosearch", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("photosearch")


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


def permissions_apply(command: list[str]) -> list[str]:
    """`command`, run so that file permissions hold for it as they do for any user but root.

    Root bypasses them through two capabilities (CI runs as root). The child keeps uid 0, so it still
    reads the clone, its venv and the interpreter wherever they live (a mode-700 home included), and only
    drops those two capabilities (util-linux `setpriv`): a mode-000 file is then really unreadable to it.
    Any other user needs nothing.
    """
    if os.name != "posix" or os.geteuid() != 0:
        return command
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *command]


@functools.cache
def _why_permissions_cannot_apply() -> str | None:
    """None when a `permissions_apply` child runs the project and cannot read a mode-000 file; else why not."""
    if os.name != "posix":
        return "needs POSIX file permissions"
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        return "runs as root, and needs util-linux `setpriv` to drop root's bypass of file permissions"
    with tempfile.TemporaryDirectory(prefix="ps-perm-probe-") as tmp:
        locked = Path(tmp) / "locked"
        locked.write_text("x")
        locked.chmod(0)
        code = "import sys, photosearch.cli\nopen(sys.argv[1]).close()\nopen(sys.argv[2])"
        command = permissions_apply([sys.executable, "-c", code, TINY_MODEL, str(locked)])
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    last = (proc.stderr.strip().splitlines() or [""])[-1]
    if proc.returncode == 0:
        return "this user can read a mode-000 file (it holds CAP_DAC_OVERRIDE): nothing can be made unreadable"
    if last.startswith("PermissionError") and str(locked) in last:
        return None
    return f"a child process without root's permission bypass cannot run the project: {last}"


@pytest.fixture
def permission_checks() -> None:
    """Skips (saying why) where a test cannot make a file unreadable to a child process."""
    reason = _why_permissions_cannot_apply()
    if reason:
        pytest.skip(reason)


def unreadable_error(target: Path, snippet: str) -> str:
    """What `snippet` (Python code reading the file named by `target`) prints when that file is unreadable."""
    reason = _why_permissions_cannot_apply()
    if reason:
        pytest.skip(reason)
    target.chmod(0)
    command = permissions_apply([sys.executable, "-c", f"target = {str(target)!r}\n{snippet}"])
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return proc.stdout.strip() or proc.stderr.strip()
