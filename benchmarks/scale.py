"""Scale benchmark: index a library of many small photos with the tiny test model, then rescan it.

    python -m benchmarks.scale                 # 200,000 files in 1,000 folders
    python -m benchmarks.scale --quick         # CI: 2,000 files, well under a minute
    python -m benchmarks.scale --files 50000   # anything in between

Every file is a distinct 8x8 RGB PNG of random pixels (written by hand, a few microseconds each), so
every file has its own fingerprint and its own embedding: copies of one template would share a single
embedding by design and make the run unrealistically cheap. The tiny model keeps the encoder out of
the picture, so what is measured is the app's own per-file cost: scan, fingerprint, decode, thumbnail,
SQLite, and the memory the index needs.

Memory is the process's RSS sampled every 50 ms in a thread. The check: the growth of RSS during
indexing stays below the embedding matrix (float16) plus a bounded overhead of
OVERHEAD_FIXED_MB + OVERHEAD_PER_FILE bytes per file (the scan's per-file records and SQLite's
page cache are allowed to grow with the library, nothing else is). The rescan must be stat-only:
no file is decoded or fingerprinted. The last printed line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import struct
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from benchmarks.common import TINY_MODEL, PeakRSS, bench_cache, emit_json, machine, mib, say

FOLDERS = 1000
SIDE = 8
CORPUS_VERSION = 1
OVERHEAD_FIXED_MB = 400  # decode pool, thread stacks, batch buffers, SQLite cache, allocator slack
OVERHEAD_PER_FILE = 2048  # bytes: scan records, job lists, path strings (Python objects, ~1-2 KB each)

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_IHDR = struct.pack(">IIBBBBB", SIDE, SIDE, 8, 2, 0, 0, 0)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


_HEAD = _PNG_MAGIC + _chunk(b"IHDR", _IHDR)
_TAIL = _chunk(b"IEND", b"")


def tiny_png(pixels: bytes) -> bytes:
    """An 8x8 RGB PNG of these 192 bytes (filter byte 0 on every row)."""
    stride = SIDE * 3
    raw = b"".join(b"\x00" + pixels[i * stride : (i + 1) * stride] for i in range(SIDE))
    return _HEAD + _chunk(b"IDAT", zlib.compress(raw, 1)) + _TAIL


def build_corpus(root: Path, files: int, seed: int = 0) -> float:
    """files distinct PNGs spread over FOLDERS sub-folders; returns seconds (0 when cached)."""
    marker = root / ".complete"
    if marker.exists():
        return 0.0
    if root.exists():
        shutil.rmtree(root)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    folders = min(FOLDERS, max(1, files // 20))
    per_folder = -(-files // folders)
    written = 0
    for f in range(folders):
        folder = root / f"{f // 100:02d}" / f"album_{f:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        count = min(per_folder, files - written)
        if count <= 0:
            break
        block = rng.integers(0, 256, (count, SIDE * SIDE * 3), dtype=np.uint8)
        for i in range(count):
            (folder / f"img_{written + i:06d}.png").write_bytes(tiny_png(block[i].tobytes()))
        written += count
    marker.write_text(str(written))
    return time.perf_counter() - started


class CountingDecode:
    """Wraps the indexer's decode/fingerprint to count calls (the rescan must make none)."""

    def __init__(self) -> None:
        import photosearch.core.indexer as indexer
        import photosearch.core.scanner as scanner

        self.modules = (indexer, scanner)
        self.calls = {"decode": 0, "fingerprint": 0}
        self._saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> CountingDecode:
        for module in self.modules:
            for name in self.calls:
                original = getattr(module, name, None)
                if original is None:
                    continue
                self._saved.append((module, name, original))
                setattr(module, name, self._counted(name, original))
        return self

    def _counted(self, name: str, original):
        def wrapper(*args, **kwargs):
            self.calls[name] += 1
            return original(*args, **kwargs)

        return wrapper

    def __exit__(self, *exc: object) -> None:
        for module, name, original in self._saved:
            setattr(module, name, original)


def run(files: int, corpus_root: Path, library_root: Path) -> dict[str, Any]:
    from photosearch.core.library import Library

    say(f"corpus: {files} distinct 8x8 PNGs under {corpus_root}")
    build_s = build_corpus(corpus_root, files)
    say(f"  built in {build_s:.1f} s" if build_s else "  cached")
    if library_root.exists():
        shutil.rmtree(library_root)
    library = Library(library_root, model=str(TINY_MODEL), pretrained="random")
    library.add_folder(corpus_root)
    library.encoder()  # the model is loaded before the baseline: its size is not the index's
    gc.collect()
    baseline = psutil.Process().memory_info().rss
    say("indexing ...")
    with PeakRSS() as peak:
        started = time.perf_counter()
        summary = library.index(read_text=False)  # the text pass is measured in benchmarks/ocr.py
        index_s = time.perf_counter() - started
    dim = int(getattr(library.encoder(), "dim", 32))
    matrix_bytes = summary.encoded * int(dim) * 2
    growth = peak.peak - baseline
    allowed = matrix_bytes + OVERHEAD_FIXED_MB * 2**20 + OVERHEAD_PER_FILE * files
    say(
        f"  {summary.encoded} encoded in {index_s:.1f} s ({summary.encoded / index_s:.0f} files/s), "
        f"peak RSS {mib(peak.peak)} MiB (+{mib(growth)} MiB over {mib(baseline)} MiB; allowed +{mib(allowed)})"
    )
    say("rescanning ...")
    with CountingDecode() as counts, PeakRSS() as rescan_peak:
        started = time.perf_counter()
        again = library.index()
        rescan_s = time.perf_counter() - started
    say(f"  rescan {rescan_s:.1f} s, decode calls {counts.calls['decode']}, fingerprints {counts.calls['fingerprint']}")
    started = time.perf_counter()
    hits = library.search_text("a red square", k=10)
    search_ms = (time.perf_counter() - started) * 1000
    status = library.status()["photos"]
    integrity = library.store.integrity_ok()
    library.close()
    checks = {
        "all_indexed": status["indexed"] == files and summary.encoded == files and not summary.skipped,
        "memory_bounded": growth <= allowed,
        "rescan_stat_only": counts.calls["decode"] == 0
        and counts.calls["fingerprint"] == 0
        and again.encoded == 0
        and (again.added, again.updated, again.removed, again.moved) == (0, 0, 0, 0),
        "search_works": len(hits) == 10,
        "integrity_ok": integrity,
    }
    return {
        "benchmark": "scale",
        "files": files,
        "folders": min(FOLDERS, max(1, files // 20)),
        "corpus_build_s": round(build_s, 1),
        "index_s": round(index_s, 2),
        "files_per_s": round(summary.encoded / index_s, 1),
        "baseline_rss_mib": mib(baseline),
        "peak_rss_mib": mib(peak.peak),
        "rss_growth_mib": mib(growth),
        "embedding_matrix_mib": mib(matrix_bytes),
        "allowed_growth_mib": mib(allowed),
        "rescan_s": round(rescan_s, 2),
        "rescan_files_per_s": round(files / rescan_s, 1),
        "rescan_peak_rss_mib": mib(rescan_peak.peak),
        "rescan_decode_calls": counts.calls["decode"],
        "rescan_fingerprint_calls": counts.calls["fingerprint"],
        "first_search_ms": round(search_ms, 1),
        "checks": checks,
        "ok": all(checks.values()),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 files (CI)")
    parser.add_argument("--files", type=int, default=None, help="number of files (default 200,000)")
    parser.add_argument("--keep", action="store_true", help="keep the library folder afterwards")
    args = parser.parse_args(argv)
    files = args.files or (2_000 if args.quick else 200_000)
    corpus = bench_cache() / f"scale-v{CORPUS_VERSION}-{files}"
    os.environ.setdefault("PHOTOSEARCH_CACHE", str(bench_cache() / "model-cache"))
    library_root = Path(tempfile.mkdtemp(prefix="photosearch-scale-"))
    try:
        result = run(files, corpus, library_root / "library")
    finally:
        if not args.keep:
            shutil.rmtree(library_root, ignore_errors=True)
    emit_json(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
