"""Browse benchmark: the first screen of the timeline (no query) at 100,000 photos, from a search
engine that has loaded nothing yet, and scrolling further pages once loaded.

    python -m benchmarks.browse              # 100,000 photos (the library of benchmarks.fused_query)
    python -m benchmarks.browse --quick      # CI: 2,000 photos

First screen = what the app does when it opens with an empty search box: the first page of 200
photos newest first with their paths, dates and captions (no vectors, no photo table in memory).
The month list behind the year list is measured on its own (the app builds it right after), then pages
at random positions (a jump) and page after page from a deep position (scrolling). The last printed
line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

from benchmarks.common import bench_cache, emit_json, machine, say
from benchmarks.fused_query import MODEL_ID, build_library
from benchmarks.query import percentiles
from photosearch.core.filters import Filters
from photosearch.core.search import SearchEngine

PAGE = 200


def run(n: int, dim: int, repeats: int) -> dict[str, Any]:
    store = build_library(bench_cache() / f"fused-{n}-{dim}", n, dim)
    first, months_ms = [], []
    for _ in range(repeats):
        engine = SearchEngine(store, MODEL_ID)  # nothing loaded: the app's first view
        t0 = time.perf_counter()
        page = engine.browse(PAGE)
        first.append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        months = engine.months()  # the year list: the app builds it just after the first screen
        months_ms.append((time.perf_counter() - t0) * 1e3)
        assert len(page) == min(PAGE, n) and months
    rng = np.random.default_rng(0)
    scroll = []
    for offset in rng.integers(0, max(n - PAGE, 1), 50).tolist():
        t0 = time.perf_counter()
        engine.browse(PAGE, offset)
        scroll.append((time.perf_counter() - t0) * 1e3)
    engine = SearchEngine(store, MODEL_ID)  # scrolling on from a deep position, as the timeline does
    start = int(rng.integers(n // 2, max(n - 51 * PAGE, n // 2 + 1)))
    engine.browse(PAGE, start)
    next_page = []
    for page in range(1, max(2, min(51, (n - start) // PAGE))):  # full pages only
        t0 = time.perf_counter()
        engine.browse(PAGE, start + page * PAGE)
        next_page.append((time.perf_counter() - t0) * 1e3)
    filtered = []
    for year in range(2000, 2020):
        t0 = time.perf_counter()
        engine.browse(PAGE, filters=Filters.from_text(after=str(year), before=str(year + 5)))
        filtered.append((time.perf_counter() - t0) * 1e3)
    store.close()
    return {
        "photos": n,
        "page": PAGE,
        "first_screen_ms": percentiles(first),
        "months_ms": percentiles(months_ms),
        "scroll_page_ms": percentiles(scroll),
        "next_page_ms": percentiles(next_page),
        "new_date_filter_page_ms": percentiles(filtered),
        "months": len(months),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.browse", description=__doc__.split("\n")[0])
    p.add_argument("--photos", type=int, default=100_000)
    p.add_argument("--dim", type=int, default=512, help="vector size of the synthetic library")
    p.add_argument("--repeats", type=int, default=7, help="first screens measured, each from a fresh engine")
    p.add_argument("--quick", action="store_true", help="2,000 photos (CI)")
    args = p.parse_args(argv)
    if args.quick:
        args.photos, args.dim, args.repeats = 2_000, 32, 3
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    row = run(args.photos, args.dim, args.repeats)
    say(
        f"browse, {row['photos']:,} photos: first screen ({PAGE} photos, nothing loaded before) "
        f"{row['first_screen_ms']['p50']:.1f} ms p50 / {row['first_screen_ms']['p95']:.1f} p95; "
        f"month list {row['months_ms']['p50']:.1f} ms p50; a page at a random position "
        f"{row['scroll_page_ms']['p50']:.1f} ms p50; the next page while scrolling "
        f"{row['next_page_ms']['p50']:.1f} ms p50; "
        f"a new date filter "
        f"{row['new_date_filter_page_ms']['p50']:.1f} ms p50"
        + (f"; load average at start {load[0]:.2f}" if load else "")
    )
    report = {"benchmark": "browse", "quick": args.quick, "machine": machine(), "load_average": load, **row}
    emit_json(report)
    return report


if __name__ == "__main__":
    main()
