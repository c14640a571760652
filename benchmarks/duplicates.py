"""Duplicate finder accuracy on real photos copied the way people copy them.

    python -m benchmarks.duplicates            # every real photo scikit-image ships (21), 6 copies each
    python -m benchmarks.duplicates --quick    # CI: 5 photos

Corpus: scikit-image's own photographs (shipped in its wheel: no download), each saved as a JPEG
(quality 92) plus six copies: downscaled to 50% and 25%, JPEG quality 60, a 5% crop, pixels stored
sideways with an EXIF orientation tag, and a PNG round trip. All are indexed with the tiny model
(`--pretrained random`: the perceptual hash does not depend on the model) and grouped with
`Library.duplicates()` (exact + near; CLIP "similar" needs trained weights, not measured here).
  recall            copies that land in their original's group / all copies (and per kind)
  false_group_rate  pairs of distinct originals put in one group / all pairs of distinct originals
  pairs_per_s       speed of the blocked Hamming search on random hashes (how far it scales)
The last printed line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import TINY_MODEL, emit_json, machine, say

# scikit-image's photographs (not its drawings, charts or phantoms).
PHOTOS = (
    "astronaut",
    "brick",
    "camera",
    "cell",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "microaneurysms",
    "moon",
    "motorcycle_left",
    "motorcycle_right",
    "page",
    "retina",
    "rocket",
    "text",
)
QUICK = ("astronaut", "coffee", "chelsea", "rocket", "camera")


def _load(name: str):
    import skimage.data
    from PIL import Image

    from tests.fixtures.copies import skimage_photo

    if name.startswith("motorcycle_"):  # shipped as a stereo pair under one function
        left, right, _ = skimage.data.stereo_motorcycle()
        return Image.fromarray(left if name.endswith("left") else right).convert("RGB")
    return skimage_photo(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    from photosearch.core import duplicates
    from photosearch.core.library import Library
    from tests.fixtures.copies import COPY_KINDS, save_copy, save_original

    names = QUICK if args.quick else PHOTOS
    work = Path(tempfile.mkdtemp(prefix="photosearch-dup-bench-"))
    try:
        folder = work / "photos"
        origin: dict[str, str] = {}  # path -> original's name
        kind_of: dict[str, str] = {}
        for name in names:
            image = _load(name)
            origin[str(save_original(image, folder / f"{name}.jpg"))] = name
            for kind in COPY_KINDS:
                path = str(save_copy(image, kind, folder / "copies" / name, name))
                origin[path], kind_of[path] = name, kind
        say(f"{len(names)} photos, {len(kind_of)} copies; indexing with the tiny model ...")
        library = Library(work / "library", model=str(TINY_MODEL), pretrained="random")
        library.add_folder(folder)
        started = time.perf_counter()
        library.index(read_text=False)
        index_s = time.perf_counter() - started
        started = time.perf_counter()
        groups = library.duplicates()
        group_s = time.perf_counter() - started
        group_of = {p.path: i for i, g in enumerate(groups) for p in g.photos}
        originals = {n: str(folder / f"{n}.jpg") for n in names}
        found = {kind: 0 for kind in COPY_KINDS}
        missed = []
        for path, kind in kind_of.items():
            home = group_of.get(originals[origin[path]])
            if home is not None and group_of.get(path) == home:
                found[kind] += 1
            else:
                missed.append(os.path.relpath(path, folder))
        per_kind = {kind: found[kind] / len(names) for kind in COPY_KINDS}
        recall = sum(found.values()) / len(kind_of)
        pairs = list(itertools.combinations(names, 2))
        merged = [
            (a, b)
            for a, b in pairs
            if group_of.get(originals[a]) is not None and group_of.get(originals[a]) == group_of.get(originals[b])
        ]
        false_rate = len(merged) / len(pairs)
        library.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rng = np.random.default_rng(0)
    n = 2000 if args.quick else 20000
    hashes = rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, n, dtype=np.uint64)
    started = time.perf_counter()
    sum(1 for _ in duplicates._near_pairs(hashes, duplicates.NEAR_BITS))
    pairs_per_s = n * (n - 1) / 2 / max(time.perf_counter() - started, 1e-9)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    say(
        f"recall {recall:.3f} ({sum(found.values())}/{len(kind_of)}); per kind "
        + ", ".join(f"{k} {v:.2f}" for k, v in per_kind.items())
    )
    say(f"false groups: {len(merged)} of {len(pairs)} pairs of distinct photos ({false_rate:.4f}): {merged}")
    say(f"missed copies: {missed}")
    say(f"grouping {len(group_of)} photos took {group_s * 1000:.0f} ms; hash search {pairs_per_s / 1e6:.0f} M pairs/s")
    emit_json(
        {
            "benchmark": "duplicates",
            "quick": args.quick,
            "photos": len(names),
            "copies": len(kind_of),
            "near_bits": duplicates.NEAR_BITS,
            "recall": round(recall, 4),
            "recall_by_kind": {k: round(v, 4) for k, v in per_kind.items()},
            "false_group_rate": round(false_rate, 5),
            "false_groups": merged,
            "missed": missed,
            "groups": len(groups),
            "index_seconds": round(index_s, 2),
            "group_ms": round(group_s * 1000, 1),
            "hash_pairs_per_s": round(pairs_per_s),
            "load_average_1min": load,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
