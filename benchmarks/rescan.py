"""Rescan of an unchanged library: how long `Library.index()` takes when nothing changed.

    python -m benchmarks.rescan                # 100,000 tiny photos in 1000 folders
    python -m benchmarks.rescan --count 20000
    python -m benchmarks.rescan --quick        # CI: 2,000 photos

Builds N tiny PNGs (a few hundred bytes each, every one with distinct pixels so none is a copy of
another) across ~1000 subfolders, indexes them once through the real path (Library.index with the
tiny test model: decode, preprocess, encode, thumbnail, store) and reports that time, then times
rescans of the unchanged library with a fresh Library object (model not loaded). During the rescans
the decode and fingerprint functions and every open() of a file under the photo folder are
counted: all must stay at 0 and the model must never load. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import builtins
import io
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

from benchmarks.common import TINY_MODEL, PeakRSS, bench_cache, emit_json, machine, mib, say

FOLDERS = 1000
GOAL_S = 5.0


def tiny_png(i: int) -> bytes:
    """An 8x8 PNG whose pixels encode i (distinct content per file), ~100-300 bytes."""
    pixels = bytes((i >> (8 * (k % 3)) & 0xFF) ^ (k * 37 & 0xFF) for k in range(8 * 8 * 3))
    buf = io.BytesIO()
    Image.frombytes("RGB", (8, 8), pixels).save(buf, "PNG")
    return buf.getvalue()


def build_tree(root: Path, count: int) -> float:
    """count files in min(1000, count // 100) folders; returns seconds taken."""
    started = time.perf_counter()
    folders = max(1, min(FOLDERS, count // 100))
    for f in range(folders):
        (root / f"{f:04d}").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"{i % folders:04d}" / f"photo_{i:06d}.png").write_bytes(tiny_png(i))
    return time.perf_counter() - started


@contextmanager
def counting(photo_root: Path):
    """Count calls of the indexer's decode and fingerprint functions and open()s of photo files."""
    from photosearch.core import indexer, scanner

    counts = {"decode": 0, "fingerprint": 0, "open_photo_files": 0}
    prefix = str(photo_root)
    real = {"decode": indexer.decode, "ifp": indexer.fingerprint, "sfp": scanner.fingerprint, "open": builtins.open}

    def decode(*a: Any, **k: Any):
        counts["decode"] += 1
        return real["decode"](*a, **k)

    def fingerprint(*a: Any, **k: Any):
        counts["fingerprint"] += 1
        return real["ifp"](*a, **k)

    def opener(file: Any, *a: Any, **k: Any):
        if isinstance(file, (str, os.PathLike)) and os.fspath(file).startswith(prefix):
            counts["open_photo_files"] += 1
        return real["open"](file, *a, **k)

    indexer.decode, indexer.fingerprint, scanner.fingerprint, builtins.open = decode, fingerprint, fingerprint, opener
    try:
        yield counts
    finally:
        indexer.decode, indexer.fingerprint = real["decode"], real["ifp"]
        scanner.fingerprint, builtins.open = real["sfp"], real["open"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI: 2,000 photos")
    parser.add_argument("--count", type=int, default=100_000, help="photos in the library (default 100,000)")
    parser.add_argument("--rescans", type=int, default=3, help="timed rescans (default 3)")
    args = parser.parse_args(argv)
    if args.quick:
        args.count = 2000
    work = Path(tempfile.mkdtemp(prefix="photosearch-bench-rescan-", dir=bench_cache()))
    os.environ.update({"PHOTOSEARCH_CACHE": str(work / "cache"), "HF_HUB_OFFLINE": "1"})
    from photosearch.core.library import Library

    photos, lib_root = work / "photos", work / "library"
    try:
        say(f"writing {args.count} tiny PNGs in {max(1, min(FOLDERS, args.count // 100))} folders ...")
        build_s = build_tree(photos, args.count)
        say(f"  {build_s:.1f} s")

        say("first index (real path, tiny test model) ...")
        library = Library(lib_root, model=str(TINY_MODEL), pretrained="random", device="cpu")
        library.add_folder(photos)
        started = time.perf_counter()
        first = library.index(read_text=False)  # the text pass is measured in benchmarks/ocr.py
        first_s = time.perf_counter() - started
        library.close()
        say(f"  {first_s:.1f} s: encoded {first.encoded}, skipped {len(first.skipped)} "
            f"({args.count / first_s:.0f} photos/s)")  # fmt: skip

        times: list[float] = []
        cpu: list[float] = []
        with PeakRSS() as mem, counting(photos) as counts:
            for n in range(max(1, args.rescans)):
                library = Library(lib_root, device="cpu")  # fresh: nothing cached in memory
                started, cpu0 = time.perf_counter(), time.process_time()
                summary = library.index()
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu0)
                loaded = library.model_loaded
                library.close()
                say(f"rescan {n + 1}: {times[-1]:.2f} s, encoded {summary.encoded}, added {summary.added}, "
                    f"updated {summary.updated}, removed {summary.removed}, model loaded: {loaded}")  # fmt: skip
        nothing = (counts["decode"] == 0 and counts["fingerprint"] == 0 and counts["open_photo_files"] == 0
                   and summary.encoded == 0 and not loaded)  # fmt: skip
        say(
            f"during rescans: decode calls {counts['decode']}, fingerprint calls {counts['fingerprint']}, "
            f"photo files opened {counts['open_photo_files']} -> {'nothing decoded' if nothing else 'WORK DONE'}"
        )
        best = min(times)
        say(
            f"rescan of {args.count} unchanged photos: best {best:.2f} s, first {times[0]:.2f} s "
            f"(goal <= {GOAL_S:.0f} s at 100k)"
        )
        emit_json({
            "benchmark": "rescan",
            "quick": args.quick,
            "machine": machine(),
            "photos": args.count,
            "build_seconds": round(build_s, 2),
            "first_index_seconds": round(first_s, 2),
            "first_index_encoded": first.encoded,
            "first_index_skipped": len(first.skipped),
            "rescan_seconds": [round(t, 3) for t in times],
            "rescan_best_seconds": round(best, 3),
            "rescan_cpu_seconds": [round(t, 3) for t in cpu],
            "load_average": round(os.getloadavg()[0], 2),
            "rescan_goal_seconds": GOAL_S,
            "rescan_encoded": summary.encoded,
            "decode_calls": counts["decode"],
            "fingerprint_calls": counts["fingerprint"],
            "photo_files_opened": counts["open_photo_files"],
            "model_loaded": loaded,
            "nothing_decoded": nothing,
            "rescan_peak_rss_mib": mib(mem.peak),
        })  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
