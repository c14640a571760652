"""Distances of the near-identical image check: true copies against distinct photos of one layout.

    python -m benchmarks.near_check                  # 300 generated title cards, as the QA set
    python -m benchmarks.near_check --cards-dir DIR  # or a folder of such photos (any JPEGs)
    python -m benchmarks.near_check --quick          # 60 cards

True copies: scikit-image's photos and a plain sky, each saved as a JPEG (quality 92) and copied the ways
of tests/fixtures/copies.py (50% and 25% size, JPEG 60/75/95, PNG, 5% crops centred, on one side and at
a corner, EXIF rotation). Distinct: motorcycle_left / motorcycle_right, text pages of other words in one
font and layout (36, 24 and 18 px on a 1000x1300 page), a sky shifted by 4 to 15 levels, and every pair
of title cards whose perceptual hashes are within NEAR_BITS (the pairs pHash alone calls near-identical).
Thumbnails are made as the indexer makes them. Prints, per measure, the largest distance of a copy and
the smallest of a distinct pair; the last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import emit_json, machine, say

PHOTOS = (
    *("astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins", "colorwheel", "grass"),
    *("gravel", "horse", "hubble_deep_field", "immunohistochemistry", "logo", "moon", "motorcycle_left"),
    *("page", "retina", "rocket", "text"),
)
WORDS = ("BICYCLE", "BRIDGE", "CASTLE", "FOREST", "GARDEN", "HARBOR", "LIGHTHOUSE", "MARKET", "SNOW", "TRAIN")
SKY_SHIFTS = ((4, 4, 4), (6, 6, 6), (10, 10, 10), (0, 0, -10), (12, -6, 0), (5, 0, 5), (15, 15, 15))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cards-dir", type=Path, help="use these photos as the title cards")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="photosearch-nearcheck-bench-"))
    try:
        _run(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, args: argparse.Namespace) -> None:
    from PIL import Image

    from photosearch.core import near_check, phash
    from photosearch.core.duplicates import NEAR_BITS
    from photosearch.core.images import decode
    from photosearch.core.thumbnails import THUMB_SIZE, ThumbnailCache
    from tests.fixtures.copies import COPY_KINDS, MORE_COPY_KINDS, save_copy, save_original, skimage_photo
    from tests.fixtures.layouts import sky, text_page, title_card

    cache = ThumbnailCache(work / "library")
    made: dict[str, near_check.Source] = {}

    def source(path: Path) -> near_check.Source:
        if str(path) not in made:
            made[str(path)] = near_check.Source(cache.ensure(str(path), f"t{len(made):06d}"), str(path))
        return made[str(path)]

    smalls: dict[str, near_check.Small] = {}

    def small(s: near_check.Source) -> near_check.Small:
        if s.photo not in smalls:
            smalls[s.photo] = near_check.small_image(near_check.load_image(s))
        return smalls[s.photo]

    def measure(a: Path, b: Path) -> dict:
        sa, sb = source(a), source(b)
        small_a, small_b = small(sa), small(sb)
        cast, colour, detail = near_check.distances(
            small_a, small_b, lambda: (near_check.load_native(sa), near_check.load_native(sb))
        )
        centre = float(np.abs(small_a.centre - small_b.centre).max())
        same = centre <= near_check.CENTRE_MAX and near_check.same_picture(
            small_a, small_b, lambda: (near_check.load_native(sa), near_check.load_native(sb))
        )
        return {"cast": cast, "colour": colour, "detail": detail, "centre": centre, "same": same}

    copies, distinct = [], []
    kinds = COPY_KINDS + MORE_COPY_KINDS
    for name in (*PHOTOS, "sky"):
        image = Image.open(sky((0, 0, 0), work / "sky.jpg")).convert("RGB") if name == "sky" else skimage_photo(name)
        original = save_original(image, work / "originals" / f"{name}.jpg")
        for kind in kinds:
            copies.append((f"{name} {kind}", measure(original, save_copy(image, kind, work / "copies", name))))
    say(f"{len(copies)} copies of {len(PHOTOS) + 1} photos measured")

    left = save_original(skimage_photo("motorcycle_left"), work / "d" / "left.jpg")
    right = save_original(skimage_photo("motorcycle_right"), work / "d" / "right.jpg")
    distinct.append(("content", "motorcycle left/right", measure(left, right)))
    for size in (36, 24, 18):
        pages = [text_page(seed, work / "d" / f"page{size}_{seed}.jpg", font_size=size) for seed in range(4)]
        for a, b in itertools.combinations(pages, 2):
            distinct.append(("content", f"text pages {size}px {a.stem}/{b.stem}", measure(a, b)))
    base = sky((0, 0, 0), work / "d" / "sky.jpg")
    for shift in SKY_SHIFTS:
        distinct.append(("colour", f"sky {shift}", measure(base, sky(shift, work / "d" / f"sky{shift}.jpg", seed=1))))

    cards = _cards(work / "cards", args, title_card)
    hashes = {c: phash.phash(decode(c, min_side=THUMB_SIZE).image) for c in cards}  # as the indexer does
    started = time.perf_counter()
    pairs = [(a, b) for a, b in itertools.combinations(cards, 2) if phash.hamming(hashes[a], hashes[b]) <= NEAR_BITS]
    for a, b in pairs:
        kind = "colour" if _word(a) == _word(b) else "content"  # one word: only the colour can differ
        distinct.append((kind, f"cards {a.name}/{b.name}", measure(a, b)))
    say(f"{len(pairs)} card pairs within {NEAR_BITS} bits of {len(cards)} cards, {time.perf_counter() - started:.0f} s")
    _report(copies, distinct, len(cards), len(pairs), args.quick)


def _cards(folder: Path, args: argparse.Namespace, title_card) -> list[Path]:
    if args.cards_dir:
        return sorted(p for p in args.cards_dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    count = 60 if args.quick else 300
    rng = np.random.default_rng(7)
    out = []
    for i in range(count):
        word, colour = WORDS[i % len(WORDS)], tuple(int(c) for c in rng.integers(20, 236, 3))
        out.append(title_card(word, colour, folder / f"{word.lower()}_{i:03d}.jpg", i))
    return out


def _word(path: Path) -> str:
    return path.stem.split("_")[0]


def _report(copies: list, distinct: list, cards: int, card_pairs: int, quick: bool) -> None:
    from photosearch.core import near_check

    rules = {
        "cast": near_check.CAST_MAX,
        "colour": near_check.COLOUR_MAX,
        "detail": near_check.DETAIL_MAX,
        "centre": near_check.CENTRE_MAX,
    }
    # A measure must separate the pairs it is for: colour the ones that differ only in colour (a shifted
    # sky, one word on two colours), detail the ones with other content.
    meant = {"cast": "colour", "colour": "colour", "detail": "content", "centre": None}
    figures = {}
    say(f"{'measure':8s} {'copies, largest':40s} {'distinct, smallest':48s} rule")
    for key, limit in rules.items():
        worst = max(copies, key=lambda c: c[1][key])
        pool = [d for d in distinct if meant[key] in (None, d[0])]
        closest = min(pool, key=lambda d: d[2][key])
        say(f"{key:8s} {worst[1][key]:7.2f} {worst[0]:32s} {closest[2][key]:7.2f} {closest[1]:40s} <= {limit:g}")
        figures[key] = {
            "copies_max": round(worst[1][key], 3),
            "copies_max_of": worst[0],
            "distinct_min": round(closest[2][key], 3),
            "distinct_min_of": closest[1],
            "rule": limit,
        }
    missed = [name for name, d in copies if not d["same"]]
    merged = [name for _, name, d in distinct if d["same"]]
    say(f"copies taken for other photos: {len(missed)} of {len(copies)} {missed}")
    say(f"distinct pairs taken for copies: {len(merged)} of {len(distinct)} {merged[:20]}")
    emit_json(
        {
            "benchmark": "near_check",
            "quick": quick,
            "copies": len(copies),
            "distinct_pairs": len(distinct),
            "cards": cards,
            "card_pairs_within_near_bits": card_pairs,
            "figures": figures,
            "copies_missed": missed,
            "distinct_merged": merged,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
