"""Timeline benchmark (GUI, offscreen Qt): what a page of the browse timeline costs the GUI thread now
that pages are read on a pool thread, and how long a date-scrubber jump takes at 100,000 photos.

    python -m benchmarks.timeline_gui            # the 100,000-photo library of benchmarks.fused_query
    python -m benchmarks.timeline_gui --quick    # 2,000 photos

The library must exist (python -m benchmarks.fused_query builds it); it is opened read-only here.
Per page: `read` is the pool thread's SQLite work (browse: paths, dates, captions), `gui` the GUI
thread's share (turning the page into rows with month headers and inserting them). A jump is the
wall time from releasing the scrubber on a month to its first page on screen. Last line: JSON.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.common import bench_cache, emit_json, machine, say
from benchmarks.fused_query import BUILD_VERSION, MODEL_ID
from benchmarks.query import percentiles


class _NoThumbs:
    """No thumbnails: the figure is the timeline's own work, not image decoding."""

    def __init__(self) -> None:
        from PySide6.QtCore import QObject, Signal

        class Ready(QObject):
            ready = Signal(str)

        self._signals = Ready()
        self.ready = self._signals.ready

    def pixmap(self, path, fingerprint=None):
        return None

    def failed(self, path):
        return False

    def settled(self, path):
        return True


def run(n: int, dim: int, jumps: int) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    from photosearch.core.search import SearchEngine
    from photosearch.core.store import Store
    from photosearch.ui.timeline import TimelinePanel

    root = bench_cache() / f"fused-{n}-{dim}"
    if not (root / f"built-{BUILD_VERSION}").exists():
        raise SystemExit(f"no benchmark library at {root}: run python -m benchmarks.fused_query first")
    app = QApplication.instance() or QApplication([])
    store = Store(root, readonly=True)
    engine = SearchEngine(store, MODEL_ID)
    reads: list[float] = []

    def fetch(offset: int, k: int):
        t0 = time.perf_counter()
        page = engine.browse(k, offset)
        reads.append((time.perf_counter() - t0) * 1e3)
        return page

    panel = TimelinePanel(_NoThumbs(), tile=160)
    panel.resize(1000, 700)
    panel.show()
    gui: list[float] = []
    model = panel.model
    add_page = model._add_page

    def timed_add(generation, page):
        t0 = time.perf_counter()
        add_page(generation, page)
        gui.append((time.perf_counter() - t0) * 1e3)

    model._add_page = timed_add

    def settle() -> None:
        while model.loading or panel.reads.busy:
            app.processEvents()

    panel.load(fetch, engine.months)
    settle()
    while not panel.scrubber.months():
        app.processEvents()
    months = panel.scrubber.months()
    for _ in range(5):  # scrolling on: the next pages
        model.fetchMore()
        settle()
    jump_ms = []
    step = max(len(months) // max(jumps, 1), 1)
    for month in [*months[::step][:jumps], months[-1]]:
        t0 = time.perf_counter()
        panel.jump_to(month.start)
        settle()
        app.processEvents()
        jump_ms.append((time.perf_counter() - t0) * 1e3)
        assert model.start == month.start and model.photo_count() > 0
    store.close()
    return {
        "photos": n,
        "months": len(months),
        "page_read_ms": percentiles(reads),
        "page_gui_ms": percentiles(gui),
        "jump_ms": percentiles(jump_ms),
        "deepest_jump_offset": months[-1].start,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.timeline_gui", description=__doc__.split("\n")[0])
    p.add_argument("--photos", type=int, default=100_000)
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--jumps", type=int, default=20)
    p.add_argument("--quick", action="store_true", help="2,000 photos")
    args = p.parse_args(argv)
    if args.quick:
        args.photos, args.dim, args.jumps = 2_000, 32, 5
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    row = run(args.photos, args.dim, args.jumps)
    say(
        f"timeline, {row['photos']:,} photos: a page of 200 costs the GUI thread "
        f"{row['page_gui_ms']['p50']:.1f} ms p50 "
        f"(the read, on the pool thread: {row['page_read_ms']['p50']:.1f} ms p50); a scrubber jump "
        f"{row['jump_ms']['p50']:.1f} ms p50 / {row['jump_ms']['p95']:.1f} p95 (deepest at photo "
        f"{row['deepest_jump_offset']:,})" + (f"; load average at start {load[0]:.2f}" if load else "")
    )
    report = {"benchmark": "timeline_gui", "quick": args.quick, "machine": machine(), "load_average": load, **row}
    emit_json(report)
    return report


if __name__ == "__main__":
    main()
