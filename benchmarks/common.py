"""Shared helpers for the benchmarks: cached synthetic corpora, real photos, memory probes, JSON output.

Corpora are deterministic (seeded per file) and cached between runs under
$PHOTOSEARCH_BENCH_CACHE (default: <tmp>/photosearch-bench), in a folder keyed by their parameters.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from PIL import Image, ImageChops, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
TINY_MODEL = ROOT / "tests" / "fixtures" / "tiny_clip.json"
CORPUS_VERSION = 1
GRAIN = 4  # +- grey levels of per-pixel noise

# Photos from scikit-image (public domain / CC0, shipped with the wheel; no download).
SKIMAGE_PHOTOS = (
    "astronaut.png",
    "coffee.png",
    "chelsea.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "hubble_deep_field.jpg",
    "retina.jpg",
    "color.png",
    "immunohistochemistry",  # ihc.png
)


def bench_cache() -> Path:
    chosen = os.environ.get("PHOTOSEARCH_BENCH_CACHE")
    root = Path(chosen) if chosen else Path(tempfile.gettempdir()) / "photosearch-bench"
    root.mkdir(parents=True, exist_ok=True)
    return root


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine() -> dict[str, Any]:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": cores(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }


def say(message: str) -> None:
    print(message, flush=True)


def emit_json(data: dict[str, Any]) -> None:
    """The last line of every benchmark: one JSON object with all figures."""
    sys.stdout.flush()
    print(json.dumps(data, sort_keys=False), flush=True)


# ------------------------------------------------------------------------- synthetic camera JPEGs


def camera_like(seed: int, width: int, height: int) -> Image.Image:
    """A 'natural' looking image: multi-octave colour noise, gradients, shapes and sensor grain.

    Real photos compress to ~3 MB at 12 MP / quality 90 because of fine texture; flat colour would
    compress to almost nothing and make decoding unrealistically cheap.
    """
    rng = np.random.default_rng(seed)
    # Gradient base, built small and upscaled (smooth, so bilinear is exact enough).
    gy, gx = np.mgrid[0:1:48j, 0:1:64j]
    base = np.empty((48, 64, 3), dtype=np.float32)
    for c in range(3):
        a, b, k = rng.uniform(0, 255, 3)
        base[..., c] = a + (b - a) * gx * rng.uniform(0.3, 1) + (k - a) * gy * rng.uniform(0.3, 1)
    img = Image.fromarray(base.clip(0, 255).astype(np.uint8)).resize((width, height), Image.Resampling.BILINEAR)
    # Octaves of noise: coarse blobs to fine texture, each upscaled with bicubic.
    for cell, alpha in ((400, 0.35), (120, 0.3), (30, 0.25), (8, 0.2)):
        small = rng.integers(0, 256, (height // cell + 2, width // cell + 2, 3), dtype=np.uint8)
        layer = Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)
        img = Image.blend(img, layer, alpha)
    # Shapes with soft edges: objects in a scene.
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(12, 30))):
        x0, y0 = int(rng.integers(-width // 4, width)), int(rng.integers(-height // 4, height))
        w, h = int(rng.integers(width // 20, width // 3)), int(rng.integers(height // 20, height // 3))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        kind = rng.integers(0, 3)
        if kind == 0:
            draw.ellipse((x0, y0, x0 + w, y0 + h), fill=colour)
        elif kind == 1:
            draw.rectangle((x0, y0, x0 + w, y0 + h), fill=colour)
        else:
            pts = [(int(x0 + rng.integers(0, w)), int(y0 + rng.integers(0, h))) for _ in range(5)]
            draw.polygon(pts, fill=colour)
    # Fine texture over everything (also softens the shapes' edges), then sensor grain.
    for cell, alpha in ((3, 0.18), (20, 0.12)):
        small = rng.integers(0, 256, (height // cell + 2, width // cell + 2, 3), dtype=np.uint8)
        img = Image.blend(img, Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC), alpha)
    grain = Image.fromarray(rng.integers(0, 2 * GRAIN + 1, (height, width), dtype=np.uint8))
    return ImageChops.add(img, Image.merge("RGB", (grain, grain, grain)), offset=-GRAIN)


def _write_camera(args: tuple[str, int, int, int, int]) -> int:
    path, seed, width, height, quality = args
    img = camera_like(seed, width, height)
    tmp = f"{path}.tmp{os.getpid()}"
    img.save(tmp, "JPEG", quality=quality)
    os.replace(tmp, path)
    return os.path.getsize(path)


def camera_corpus(
    count: int, width: int = 4000, height: int = 3000, quality: int = 90, seed: int = 1234
) -> tuple[Path, list[Path]]:
    """`count` deterministic camera-like JPEGs (cached); returns the folder and the file list.

    The folder is keyed by everything except count (image i depends only on seed + i), so a run
    with a larger count reuses the files of a smaller one. Benchmarks index a separate folder of
    links to exactly `count` of them.
    """
    folder = bench_cache() / f"camera-v{CORPUS_VERSION}-{width}x{height}-q{quality}-s{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"img_{i:05d}.jpg" for i in range(count)]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        started = time.perf_counter()
        say(f"generating {len(missing)} {width}x{height} JPEGs (cached in {folder}) ...")
        jobs = [(str(p), seed + int(p.stem.split("_")[1]), width, height, quality) for p in missing]
        with ProcessPoolExecutor(max_workers=max(1, cores())) as pool:
            list(pool.map(_write_camera, jobs, chunksize=1))
        say(f"  generated in {time.perf_counter() - started:.1f} s")
    return folder, paths


def linked_folder(paths: list[Path], name: str) -> Path:
    """A fresh folder under the cache holding hard links (or copies) to exactly these files."""
    target = bench_cache() / "runs" / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for p in paths:
        try:
            os.link(p, target / p.name)
        except OSError:
            shutil.copy2(p, target / p.name)
    return target


# ------------------------------------------------------------------------- real photos


def real_photos(width: int = 4000, height: int = 3000, quality: int = 90) -> list[Path]:
    """scikit-image's sample photos, upscaled (cover + centre crop) to width x height, as JPEGs.

    A little grain is added after upscaling so they compress like camera files, not like smooth blowups.
    """
    import skimage

    src_dir = Path(skimage.__file__).parent / "data"
    folder = bench_cache() / f"real-v{CORPUS_VERSION}-{width}x{height}-q{quality}"
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for i, name in enumerate(SKIMAGE_PHOTOS):
        src = src_dir / ("ihc.png" if name == "immunohistochemistry" else name)
        if not src.is_file():
            continue
        dest = folder / f"{src.stem}.jpg"
        if not dest.is_file():
            with Image.open(src) as im:
                img = im.convert("RGB")
            scale = max(width / img.width, height / img.height)
            size = (max(width, round(img.width * scale)), max(height, round(img.height * scale)))
            img = img.resize(size, Image.Resampling.BICUBIC)
            left, top = (size[0] - width) // 2, (size[1] - height) // 2
            img = img.crop((left, top, left + width, top + height))
            rng = np.random.default_rng(i)
            arr = np.asarray(img, dtype=np.int16) + rng.integers(-4, 5, (height, width, 1), dtype=np.int16)
            Image.fromarray(arr.clip(0, 255).astype(np.uint8)).save(dest, "JPEG", quality=quality)
        out.append(dest)
    return out


# ------------------------------------------------------------------------- memory


class PeakRSS:
    """Polls a process's RSS (and its children's) in a thread; `peak` in bytes."""

    def __init__(self, pid: int | None = None, interval: float = 0.05) -> None:
        self.proc = psutil.Process(pid or os.getpid())
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _sample(self) -> None:
        try:
            rss = self.proc.memory_info().rss
            for child in self.proc.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    rss += child.memory_info().rss
        except psutil.Error:
            return
        self.peak = max(self.peak, rss)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def mib(nbytes: float) -> float:
    return round(nbytes / 2**20, 1)
