"""Rebuild resources/screenshot.png: a small real library from scikit-image's sample photos.

Usage: python packaging/make_screenshot.py [--query "a cat"] [--out resources/screenshot.png]
Needs scikit-image (test extra). Uses the tiny test model with random weights, so the ranking is
arbitrary; the point is the window, not the scores.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny_clip.json"
PHOTOS = {
    "astronaut": "an astronaut in a white space suit in front of a flag",
    "coffee": "a cup of coffee on a saucer with a spoon",
    "chelsea": "a ginger cat looking to the side",
    "rocket": "a rocket on the launch pad under a blue sky",
    "horse": "a silhouette of a horse",
    "motorcycle_left": "a red and black motorcycle",
    "hubble_deep_field": "galaxies in deep space seen by the hubble telescope",
    "immunohistochemistry": "stained tissue under a microscope",
    "camera": "a man with a camera on a tripod in a park",
    "cat": "a cat sitting with its eyes open",
    "retina": "the retina of an eye, red and orange",
    "page": "a scanned page of printed text",
    "brick": "a brick wall texture",
    "grass": "green grass texture",
    "gravel": "grey gravel stones",
    "moon": "the surface of the moon with craters",
    "colorwheel": "a rainbow colour wheel",
    "logo": "the scikit-image logo with a snake",
    "text": "handwritten and printed text on a sign",
    "coins": "old coins on a table",
    "clock": "a wall clock",
    "rocket_again": "",
}


def build_library(base: Path) -> tuple[Path, Path]:
    import numpy as np
    from PIL import Image
    from skimage import data

    photos = base / "photos"
    photos.mkdir(parents=True)
    rows = []
    for name, caption in PHOTOS.items():
        loader = getattr(data, name, None)
        if loader is None:
            continue
        try:
            array = loader()
        except Exception:  # some samples need a download (no network here): skip them
            continue
        if array.dtype != np.uint8:
            array = array.astype(np.float64)
            array = (255 * (array - array.min()) / max(float(np.ptp(array)), 1e-9)).astype(np.uint8)
        image = Image.fromarray(array)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        path = photos / f"{name}.jpg"
        image.save(path, quality=90)
        if caption:
            rows.append((str(path), caption))
    csv_path = base / "captions.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["image", "description"])
        writer.writerows(rows)
    return photos, csv_path


def photosearch(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "photosearch", *args], check=True, cwd=ROOT)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--query", default="a cat")
    parser.add_argument("--out", default=str(ROOT / "resources" / "screenshot.png"))
    parser.add_argument("--keep", metavar="DIR", help="build the library here and keep it")
    args = parser.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="photosearch-shot-"))
    env_dirs = {"PHOTOSEARCH_CONFIG": base / "config", "PHOTOSEARCH_CACHE": base / "cache"}
    os.environ.update({k: str(v) for k, v in env_dirs.items()})
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    photos, captions = build_library(base)
    library = str(base / "library")
    model = ["--library", library, "--model", str(TINY), "--pretrained", "random"]
    photosearch(*model, "index", str(photos))
    photosearch(*model, "captions", "import", str(captions))
    photosearch(*model, "gui", "--screenshot", args.out, "--query", args.query)
    return 0


if __name__ == "__main__":
    sys.exit(main())
