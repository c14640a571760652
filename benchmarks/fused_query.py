"""Fused text query benchmark: text encoding + CLIP search + text evidence (captions, keywords, file
and folder names through FTS5) over a synthetic library in a real SQLite database.

    python -m benchmarks.fused_query                 # 100,000 photos and 100,000 captions, 200 queries
    python -m benchmarks.fused_query --quick         # CI: 2,000 photos, the tiny model, seconds

The library is built once per size in the benchmark cache: clustered unit vectors (as in
benchmarks.query), a date taken per photo, a caption per photo drawn from a 2,000-word vocabulary
(Zipf-like word frequencies, so some query words hit thousands of photos and some a handful), every
tenth photo with a keyword row, and file names such as 2019/beach/dog-sunset-123.jpg. Each query's
total is the wall time of parsing and encoding its text and SearchEngine.search_fused (k=50),
the same call the CLI and the app make. The last printed line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import bench_cache, emit_json, machine, say
from benchmarks.query import clustered_library, load_text_encoder, percentiles, set_threads
from photosearch.core.query import parse_query
from photosearch.core.search import SearchEngine
from photosearch.core.store import Store, vector_to_blob

MODEL_ID = "bench-model"
BUILD_VERSION = 3  # 3: the partial photos_date index
SUBJECTS = ["dog", "cat", "children", "car", "grandmother", "cake", "mountains", "boat", "fireworks", "wedding"]
PLACES = ["beach", "snow", "night", "kitchen", "paris", "tree", "lake", "station", "rain", "sunset"]


def vocabulary(n: int = 2000) -> list[str]:
    """The scene words first (the frequent ones), then made-up but pronounceable rarer words."""
    rng = np.random.default_rng(7)
    syllables = ["ka", "lo", "mi", "ra", "tu", "ne", "so", "vi", "da", "pe", "zo", "ri", "ga", "fu"]
    words = SUBJECTS + PLACES
    while len(words) < n:
        words.append("".join(rng.choice(syllables, 3)))
    return list(dict.fromkeys(words))[:n]


def build_library(root: Path, n: int, dim: int) -> Store:
    """A library of n indexed photos with vectors, dates, captions, keywords and named files."""
    marker = root / f"built-{BUILD_VERSION}"
    if marker.exists():
        return Store(root)
    if root.exists():
        shutil.rmtree(root)  # an older build: start again
    store = Store(root)
    rng = np.random.default_rng(3)
    words = vocabulary()
    zipf = 1.0 / np.arange(1, len(words) + 1)
    zipf /= zipf.sum()
    vectors = clustered_library(n, dim)
    years = rng.integers(2000, 2025, n)
    taken = (years - 1970) * 365.25 * 86400 + rng.uniform(0, 365 * 86400, n)
    folder = "/bench/photos"
    with store.write() as conn:
        conn.execute("INSERT INTO folders(path, added) VALUES (?, 0)", (folder,))
        photos, captions, embeddings = [], [], []
        for i in range(n):
            picks = rng.choice(len(words), 6, p=zipf)
            name = f"{folder}/{years[i]}/{words[picks[0]]}/{words[picks[1]]}-{words[picks[2]]}-{i}.jpg"
            photos.append((i + 1, name, 1, 1000, int(taken[i] * 1e9), f"fp{i}", 640, 480, float(taken[i])))
            captions.append((name, "csv", f"a {words[picks[3]]} with the {words[picks[4]]} by the {words[picks[5]]}"))
            if i % 10 == 0:
                captions.append((name, "keyword", f"{words[picks[5]]}, {words[picks[0]]}"))
            embeddings.append((i + 1, f"fp{i}", MODEL_ID, vector_to_blob(vectors[i])))
        conn.executemany(
            "INSERT INTO photos(id, path, folder_id, size, mtime_ns, fingerprint, width, height, taken, state) "
            "VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, 'indexed')",
            [(p[0], p[1], p[2], p[4], p[5], p[6], p[7], p[8]) for p in photos],
        )
        conn.executemany("INSERT INTO captions(path, source, text) VALUES (?, ?, ?)", captions)
        conn.executemany("INSERT INTO embeddings(id, fingerprint, model_id, vector) VALUES (?, ?, ?, ?)", embeddings)
    marker.write_text("ok")
    return store


def query_texts(n: int) -> list[str]:
    """Two scene words, sometimes a third: every photo library query shape from "dog beach" to "cake"."""
    rng = np.random.default_rng(11)
    out = []
    for i in range(n):
        parts = [SUBJECTS[i % 10], PLACES[(i // 10) % 10]]
        if rng.random() < 0.3:
            parts = parts[:1]
        out.append(("a " if i % 2 else "") + " ".join(parts))
    return out


def run(n: int, queries: int, model: str, which: str) -> dict[str, Any]:
    encoder_name, encode = load_text_encoder(model, which)
    dim = encode(["probe"]).shape[1]
    root = bench_cache() / f"fused-{n}-{dim}"
    t0 = time.perf_counter()
    store = build_library(root, n, dim)
    build_s = time.perf_counter() - t0
    engine = SearchEngine(store, MODEL_ID)
    t0 = time.perf_counter()
    engine.refresh()
    load_s = time.perf_counter() - t0
    texts = query_texts(queries)
    for text in texts[:3]:  # warm caches and lazy init
        engine.search_fused(encode([text])[0], parse_query(text), 50)
    enc_ms, search_ms, total_ms, evidence = [], [], [], []
    for text in texts:
        t0 = time.perf_counter()
        parsed = parse_query(text)
        vector = encode([parsed.text])[0]
        t1 = time.perf_counter()
        results = engine.search_fused(vector, parsed, 50)
        t2 = time.perf_counter()
        enc_ms.append((t1 - t0) * 1e3)
        search_ms.append((t2 - t1) * 1e3)
        total_ms.append((t2 - t0) * 1e3)
        evidence.append(sum(1 for r in results if set(r.why) - {"image"}))
    (caption_rows,) = store.query("SELECT COUNT(*) FROM captions")[0]
    store.close()
    return {
        "photos": n,
        "captions": caption_rows,
        "encoder": encoder_name,
        "model": model,
        "build_s": round(build_s, 2),
        "engine_load_s": round(load_s, 2),
        "encode_ms": percentiles(enc_ms),
        "fused_search_ms": percentiles(search_ms),
        "total_ms": percentiles(total_ms),
        "results_with_text_evidence_mean": round(float(np.mean(evidence)), 1),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fused_query", description=__doc__.split("\n")[0])
    p.add_argument("--photos", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--model", default=None, help="open_clip text tower, random weights (default ViT-B-32)")
    p.add_argument("--encoder", choices=["auto", "app", "torch"], default="auto")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="2,000 photos, 20 queries, the tiny model (CI)")
    args = p.parse_args(argv)
    tiny = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tiny_clip.json"
    if args.quick:
        args.photos, args.queries = 2_000, min(args.queries, 20)
        args.model = args.model or str(tiny)
    args.model = args.model or "ViT-B-32"
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    set_threads(args.threads)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    row = run(args.photos, args.queries, args.model, args.encoder)
    say(
        f"fused text query, {row['photos']:,} photos / {row['captions']:,} caption rows, {row['encoder']}: "
        f"total {row['total_ms']['p50']:.1f} ms p50 / {row['total_ms']['p95']:.1f} p95 "
        f"(encode {row['encode_ms']['p50']:.1f}, fused search {row['fused_search_ms']['p50']:.1f}); "
        f"load average at start {load[0]:.2f}" if load else ""
    )
    report = {"benchmark": "fused_query", "quick": args.quick, "machine": machine(), "load_average": load, **row}
    emit_json(report)
    return report


if __name__ == "__main__":
    main()
