"""Text in photos: how much of the text the OCR pass reads, how often a word finds its photo, and
what the pass costs.

    python -m benchmarks.ocr            # 60 signs on real photos + 1 real page; 12-MP speed; index slowdown
    python -m benchmarks.ocr --quick    # CI: 6 signs, small photos, tiny model

No package on the registry ships scene-text photos with transcriptions (ICDAR, COCO-Text, TextOCR are
downloads), so accuracy is measured on what ships here, stated exactly:
  page   scikit-image's `page.png`, a real photograph of a printed book page (384x191, grey), against a
         transcription typed by hand from the image (TRANSCRIPTION below).
  signs  real photos (scikit-image's, shipped in its wheel) with a sign composited in: a phrase from
         PHRASES in Pillow's bundled font and any DejaVu fonts the system has, 3.5-9% of the photo's
         height, on a board or bare with an outline, rotated up to 7 degrees, saved as JPEG quality 85.
         The phrase is the ground truth. This is easier than real scene text (flat, sharp, no glare).
  word_recall      ground-truth words (case-folded, punctuation dropped, 2+ characters) found among the
                   words the pass stored for that photo
  search_hit       the photo is among the first photos (as many as have that word on their sign: the
                   30 phrases repeat) or the first 5 returned by caption search for its longest
                   ground-truth word (the library's own search path: SQLite FTS + ranking)
  photos_per_s     the pass on 12-MP JPEGs (4000x3000) with a sign, and on scikit-image's photos upscaled to
                   12 MP without one (models loaded beforehand; load time reported apart), at normal
                   priority (--nice: the app and the CLI run the reader at nice 10, behind everything else)
  index_slowdown   `photosearch index` of those 12-MP photos with ViT-B-32 (random weights: the real cost),
                   fresh library, with the text pass against `--no-ocr` (the ONNX export is done beforehand);
                   the reader runs at nice 10 there, so on a busy machine the pass waits for the others
The last printed line is one JSON object with every figure. Speeds depend on the machine's load: it
is printed with them.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from PIL import Image, ImageDraw, ImageFont

from benchmarks.common import TINY_MODEL, bench_cache, emit_json, linked_folder, machine, real_photos, say

TRANSCRIPTION = (
    "Region-based segmentation "
    "Let us first determine markers of the coins and the background. These markers are pixels that we can "
    "label unambiguously as either object or background. Here, the markers are found at the two extreme "
    "parts of the histogram of grey values: >>> markers = np.zeros_like(coins)"
)
PHRASES = (
    "GRAND CENTRAL CAFE",
    "Fresh bread baked daily",
    "PLATFORM 4 Edinburgh",
    "No parking",
    "Welcome to Yosemite National Park",
    "Happy Birthday Emma",
    "EXIT",
    "Pizza Margherita 9.50",
    "Open 7 days a week",
    "Main Street",
    "Hotel Bristol",
    "Caution wet floor",
    "Museum of Modern Art",
    "Free WiFi inside",
    "Gate B12 Boarding",
    "Farmers Market Saturday",
    "Keep calm and carry on",
    "Lost cat reward",
    "Sunset Boulevard",
    "Espresso Cappuccino Latte",
    "Departures",
    "Beach closed today",
    "Library quiet please",
    "Sale 50 percent off",
    "Old Town Hall 1887",
    "Bicycle repair shop",
    "Harbor tours every hour",
    "Ticket office",
    "Wedding of Anna and Tom",
    "Fish and chips",
)
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "moon", "retina", "hubble_deep_field", "brick")
QUICK_PHOTOS = ("astronaut", "coffee", "rocket")


def words(text: str) -> list[str]:
    return [w for w in re.findall(r"[0-9a-z]+", text.casefold()) if len(w) >= 2]


def fonts() -> list[tuple[str, str | None]]:
    """(name, file) of the faces to draw with: Pillow's bundled one, plus DejaVu where installed."""
    found = [("pillow-default", None)]
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/Library/Fonts"):
        for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf"):
            if os.path.isfile(os.path.join(folder, name)):
                found.append((name, os.path.join(folder, name)))
    return found


def _font(choice: tuple[str, str | None], size: int):
    return ImageFont.load_default(size=size) if choice[1] is None else ImageFont.truetype(choice[1], size)


def _cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    scale = max(size[0] / image.width, size[1] / image.height)
    resized = image.resize((round(image.width * scale) + 1, round(image.height * scale) + 1), Image.Resampling.BICUBIC)
    left, top = (resized.width - size[0]) // 2, (resized.height - size[1]) // 2
    return resized.crop((left, top, left + size[0], top + size[1]))


def sign_photo(background: Image.Image, phrase: str, rng: np.random.Generator, size, face) -> Image.Image:
    photo = _cover(background, size).convert("RGB")
    font = _font(face, max(12, int(size[1] * rng.uniform(0.035, 0.09))))
    probe = ImageDraw.Draw(photo)
    left, top, right, bottom = probe.textbbox((0, 0), phrase, font=font)
    while right - left > size[0] * 0.9 and font.size > 12:  # long phrases: smaller type
        font = _font(face, int(font.size * 0.85))
        left, top, right, bottom = probe.textbbox((0, 0), phrase, font=font)
    pad = font.size // 2
    layer = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    light = rng.random() < 0.5
    ink = (20, 20, 25, 255) if light else (245, 245, 240, 255)
    if rng.random() < 0.7:  # a sign board
        board = tuple(int(c) for c in (rng.integers(200, 250, 3) if light else rng.integers(10, 70, 3)))
        draw.rounded_rectangle((0, 0, layer.width - 1, layer.height - 1), radius=pad // 2, fill=(*board, 235))
        draw.text((pad - left, pad - top), phrase, font=font, fill=ink)
    else:  # bare letters with an outline, as on posters and screenshots
        edge = (245, 245, 240, 255) if light else (20, 20, 25, 255)
        draw.text((pad - left, pad - top), phrase, font=font, fill=ink, stroke_width=2, stroke_fill=edge)
    layer = layer.rotate(float(rng.uniform(-7, 7)), expand=True, resample=Image.Resampling.BICUBIC)
    x = int(rng.integers(0, max(1, size[0] - layer.width)))
    y = int(rng.integers(0, max(1, size[1] - layer.height)))
    photo.paste(layer, (x, y), layer)
    return photo


def make_signs(folder: Path, count: int, size, names) -> dict[str, str]:
    from tests.fixtures.copies import skimage_photo

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(12)
    faces = fonts()
    truth = {}
    for i in range(count):
        phrase = PHRASES[i % len(PHRASES)]
        background = skimage_photo(names[i % len(names)])
        path = folder / f"sign_{i:03d}.jpg"
        sign_photo(background, phrase, rng, size, faces[i % len(faces)]).save(path, "JPEG", quality=85)
        truth[str(path)] = phrase
    return truth


def accuracy(truth: dict[str, str], work: Path) -> dict:
    from photosearch.core import ocr
    from photosearch.core.library import Library

    library = Library(work / "acc-library", model=str(TINY_MODEL), pretrained="random")
    for folder in sorted({os.path.dirname(p) for p in truth}):
        library.add_folder(folder)
    library.index()
    found = total = hit1 = hit5 = 0
    misses = []
    for path, phrase in truth.items():
        expected = words(phrase)
        read = set(words(ocr.text_for(library.store, path) or ""))
        found += sum(1 for w in expected if w in read)
        total += len(expected)
        query = max(expected, key=len)
        ranked = list(dict.fromkeys(r.path for r in library.search_captions(query, k=20)))
        # Phrases repeat across photos: "first" means among the photos whose sign has that word.
        relevant = sum(1 for other in truth.values() if query in words(other))
        hit1 += path in ranked[:relevant]
        hit5 += path in ranked[:5]
        if not set(expected) <= read:
            misses.append((os.path.basename(path), phrase, ocr.text_for(library.store, path)))
    library.close()
    return {
        "photos": len(truth),
        "words": total,
        "word_recall": round(found / max(total, 1), 4),
        "search_hit@first": round(hit1 / len(truth), 4),
        "search_hit@5": round(hit5 / len(truth), 4),
        "misread": misses[:12],
    }


def speed(paths: list[Path], nice: int) -> dict:
    from photosearch.core.ocr_engine import TextReader

    reader = TextReader(nice=nice)
    started = time.perf_counter()
    reader.ensure_loaded()
    load_s = time.perf_counter() - started
    (child,) = [psutil.Process(pid) for pid in reader._pool._processes]  # the reader process
    boxes = 0
    cpu = child.cpu_times()
    started = time.perf_counter()
    for path in paths:
        boxes += reader.read(str(path)).boxes
    seconds = time.perf_counter() - started
    after = child.cpu_times()
    reader.close()
    cpu_s = (after.user - cpu.user) + (after.system - cpu.system)  # what the work costs, whatever the load
    return {
        "photos": len(paths),
        "photos_per_s": round(len(paths) / seconds, 3),
        "cpu_s_per_photo": round(cpu_s / len(paths), 3),
        "boxes": boxes,
        "load_s": load_s,
    }


def index_slowdown(folder: Path, model: str, work: Path) -> dict:
    env = {**os.environ, "PHOTOSEARCH_CACHE": str(bench_cache() / "ocr-model-cache"), "HF_HUB_OFFLINE": "1"}
    env["PHOTOSEARCH_CONFIG"] = str(work / "config")

    def run(library: str, *extra: str) -> tuple[float, float]:
        cmd = [sys.executable, "-m", "photosearch", "--library", library, "--model", model,
               "--pretrained", "random", "--json", "index", *extra, str(folder)]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=3600)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CLI and its reader process
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    run(str(work / "warm"), "--no-ocr")  # the one-time ONNX export, not counted
    without, without_cpu = run(str(work / "without"), "--no-ocr")
    with_text, with_cpu = run(str(work / "with"))
    return {
        "model": Path(model).name,
        "photos": len(list(folder.iterdir())),
        "index_no_ocr_s": round(without, 2),
        "index_with_ocr_s": round(with_text, 2),
        "slowdown": round(with_text / without, 2),
        "index_no_ocr_cpu_s": round(without_cpu, 2),
        "index_with_ocr_cpu_s": round(with_cpu, 2),
        "cpu_slowdown": round(with_cpu / max(without_cpu, 1e-9), 2),
    }


def _accuracy_figures(count: int, names, work: Path) -> tuple[dict, dict]:
    say(f"accuracy: {count} signs on real photos, 1600x1200 ...")
    truth = make_signs(work / "signs", count, (1600, 1200), names)
    signs = accuracy(truth, work / "signs-run")
    say(f"  word recall {signs['word_recall']:.3f}, search hit first {signs['search_hit@first']:.3f}, "
        f"hit@5 {signs['search_hit@5']:.3f}")  # fmt: skip
    for miss in signs["misread"]:
        say(f"  misread {miss}")

    import skimage

    page_dir = work / "page"
    page_dir.mkdir()
    Image.open(Path(skimage.__file__).parent / "data" / "page.png").convert("RGB").save(page_dir / "page.png")
    page = accuracy({str(page_dir / "page.png"): TRANSCRIPTION}, work / "page-run")
    say(f"real page photo: word recall {page['word_recall']:.3f} ({page['words']} words); read: {page['misread']}")
    return signs, page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--signs", type=int, default=60)
    parser.add_argument("--speed-photos", type=int, default=10, help="12-MP photos with and without text each")
    parser.add_argument("--skip-accuracy", action="store_true", help="only the speed and index figures")
    parser.add_argument(
        "--nice", type=int, default=0, help="priority of the reader when timing it (the app and CLI use 10)"
    )
    args = parser.parse_args()
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    work = Path(tempfile.mkdtemp(prefix="photosearch-ocr-bench-"))
    count = 6 if args.quick else args.signs
    names = QUICK_PHOTOS if args.quick else PHOTOS

    signs = page = {"word_recall": None, "search_hit@5": None}
    if not args.skip_accuracy:
        signs, page = _accuracy_figures(count, names, work)

    size = (1600, 1200) if args.quick else (4000, 3000)
    n = 2 if args.quick else args.speed_photos
    say(f"speed: {n} + {n} photos at {size[0]}x{size[1]} ...")
    text_paths = list(make_signs(work / "big-signs", n, size, names))
    plain = real_photos(*size)[:n]
    with_text = speed([Path(p) for p in text_paths], args.nice)
    without = speed(plain, args.nice)
    say(f"  with text {with_text['photos_per_s']:.2f} photos/s, without {without['photos_per_s']:.2f} photos/s "
        f"(model load {with_text['load_s']:.1f} s); CPU {with_text['cpu_s_per_photo']:.2f} / "
        f"{without['cpu_s_per_photo']:.2f} core-s per photo")  # fmt: skip

    folder = linked_folder([Path(p) for p in text_paths] + list(plain), "ocr-slowdown")
    model = str(TINY_MODEL) if args.quick else "ViT-B-32"
    say(f"first index of {len(text_paths) + len(plain)} photos with {Path(model).name}, with and without text ...")
    slowdown = index_slowdown(folder, model, work / "slowdown")
    say(f"  {slowdown['index_no_ocr_s']:.1f} s without the text pass, {slowdown['index_with_ocr_s']:.1f} s with it "
        f"({slowdown['slowdown']:.2f}x); CPU {slowdown['index_no_ocr_cpu_s']:.1f} / "
        f"{slowdown['index_with_ocr_cpu_s']:.1f} core-s ({slowdown['cpu_slowdown']:.2f}x)")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
    emit_json(
        {
            "benchmark": "ocr",
            "quick": args.quick,
            "engine": _engine(),
            "fonts": [name for name, _ in fonts()],
            "signs": signs,
            "page": page,
            "word_recall": signs["word_recall"],
            "search_hit@5": signs["search_hit@5"],
            "photos_per_s_with_text": with_text["photos_per_s"],
            "photos_per_s_without_text": without["photos_per_s"],
            "cpu_s_per_photo_with_text": with_text["cpu_s_per_photo"],
            "cpu_s_per_photo_without_text": without["cpu_s_per_photo"],
            "speed_size": list(size),
            "speed_nice": args.nice,
            "boxes_in_plain_photos": without["boxes"],
            "model_load_s": round(with_text["load_s"], 2),
            "index": slowdown,
            "load_average_at_start": load,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
            "machine": machine(),
        }
    )


def _engine() -> str:
    from photosearch.core.ocr_engine import engine_name

    return engine_name()


if __name__ == "__main__":
    main()
