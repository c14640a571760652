"""Prepare the smoke test's inputs: real photos (scikit-image's samples) as JPEG, one HEIC, a captions CSV.

Usage: python packaging/smoke/make_inputs.py OUT_DIR
Runs with the project's test venv (needs scikit-image, Pillow, pillow-heif), never with the app under test.
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import pillow_heif
import skimage
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = {
    "astronaut.png": "an astronaut in a white space suit in front of a flag",
    "coffee.png": "a cup of coffee on a saucer with a spoon",
    "chelsea.png": "a ginger cat looking to the side",
    "rocket.jpg": "a rocket on the launch pad under a blue sky",
    "motorcycle_left.png": "a red and black motorcycle",
    "hubble_deep_field.jpg": "galaxies in deep space seen by the hubble telescope",
    "camera.png": "a man with a camera on a tripod in a park",
    "coins.png": "old coins on a table",
    "retina.jpg": "the retina of an eye, red and orange",
    "page.png": "a scanned page of printed text",
}
HEIC_FROM = "chelsea.png"


def main(out: Path) -> int:
    data = Path(skimage.__file__).parent / "data"
    photos = out / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, caption in PHOTOS.items():
        target = photos / (Path(name).stem + ".jpg")
        Image.open(data / name).convert("RGB").save(target, quality=90)
        rows.append((f"photos/{target.name}", caption))
    pillow_heif.register_heif_opener()
    heic = photos / "cat_from_phone.heic"
    Image.open(data / HEIC_FROM).convert("RGB").save(heic, format="HEIF", quality=80)
    rows.append((f"photos/{heic.name}", "a ginger cat photographed with a phone"))
    with open(out / "captions.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "description"])
        writer.writerows(rows)
    shutil.copy(ROOT / "tests" / "fixtures" / "tiny_clip.json", out / "tiny_clip.json")
    print(f"smoke inputs: {len(rows)} photos (one HEIC) and captions.csv in {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: make_inputs.py OUT_DIR")
    sys.exit(main(Path(sys.argv[1])))
