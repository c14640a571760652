"""Memory of `evaluate` (the CLI's `eval`): extra RSS while 25,000 captions are encoded and ranked.

    python -m benchmarks.eval_memory                # ViT-B-32 (random weights), 25,000 captions
    python -m benchmarks.eval_memory --quick        # tiny model, 2,000 captions

A library of a few small photos is indexed first; the model is loaded, the search engine built and
one small text batch encoded before the baseline RSS is taken, so "extra" is what evaluating costs (the goal: <= 1 GB at
25,000 captions; encoding them in one batch took 9.7 GB for 5,000). Python allocations are traced
with tracemalloc too. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from benchmarks.common import TINY_MODEL, PeakRSS, emit_json, machine, mib, say

WORDS = ("dog", "cat", "beach", "red", "car", "mountain", "snow", "two", "people", "walking", "sunset",
         "old", "bridge", "river", "city", "night", "plate", "pasta", "flower", "child", "ball", "garden")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--captions", type=int, default=25_000)
    parser.add_argument("--model", default="ViT-B-32")
    args = parser.parse_args(argv)
    if args.quick:
        args.captions, args.model = 2_000, str(TINY_MODEL)
    work = Path(tempfile.mkdtemp(prefix="photosearch-bench-eval-"))
    os.environ.update({"PHOTOSEARCH_CACHE": str(work / "cache"), "HF_HUB_OFFLINE": "1"})
    from photosearch.core.library import Library
    from photosearch.core.library_search import EVAL_BATCH
    from tests.conftest import make_photos

    photos = make_photos(work / "photos", 24, ext=".jpg")
    library = Library(work / "lib", model=args.model, pretrained="random", device="cpu")
    library.add_folder(work / "photos")
    library.index()
    csv_path = work / "captions.csv"
    with csv_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("image", "description"))
        for i in range(args.captions):
            words = " ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(3 + i % 9))
            writer.writerow((f"photos/{photos[i % len(photos)].name}", f"a photo of {words} {i}"))
    library.encoder()
    library.engine()
    library.encoder().encode_texts(["warm-up"] * 4)  # first-call allocations of the text tower
    tracemalloc.start()
    with PeakRSS(interval=0.02) as mem:
        base = mem.peak
        started = time.perf_counter()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 5 or done == total:
                last[0] = time.perf_counter()
                say(f"  {done}/{total} captions, RSS {mib(mem.proc.memory_info().rss)} MiB")

        result = library.evaluate(csv_path, progress=progress)
        seconds = time.perf_counter() - started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    extra = mem.peak - base
    say(f"{args.captions} captions in {seconds:.1f} s ({library.backend_name}, batches of {EVAL_BATCH}): "
        f"extra RSS {mib(extra)} MiB over {mib(base)} MiB, Python allocations peak {mib(traced_peak)} MiB")  # fmt: skip
    emit_json({
        "benchmark": "eval_memory",
        "model": Path(args.model).name,
        "machine": machine(),
        "load_average": round(os.getloadavg()[0], 2),
        "captions": args.captions,
        "batch": EVAL_BATCH,
        "backend": library.backend_name,
        "seconds": round(seconds, 1),
        "baseline_rss_mib": mib(base),
        "extra_rss_mib": mib(extra),
        "tracemalloc_peak_mib": mib(traced_peak),
        "queries": result["queries"],
    })
    library.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
