"""Query latency benchmark: text encoding + vector search over synthetic photo libraries.

    python -m benchmarks.query                      # 100k and 1M photos, 200 queries
    python -m benchmarks.query --quick              # CI: 2k and 20k photos, seconds

The library (512-d) is a mixture of Gaussian clusters on the unit sphere (not uniform
noise, which makes ANN look unrealistically hard or easy); queries are perturbed library
rows (a random-weight text embedding would say nothing about search quality). Text encoding
runs the real CLIP text tower with random weights, through the app's encoder (ONNX on CPU)
when it loads, else open_clip in torch. Each query's total is the wall time of
encoding its text and searching. The last printed line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from photosearch.core.vector_index import VectorIndex

TextEncoder = Callable[[list[str]], np.ndarray]
K = 10
TINY_MODEL = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tiny_clip.json"
N_CLUSTERS = 1000
GEN_CHUNK = 50_000  # rows generated at a time: the float32 scratch stays ~100 MB at 512-d

SUBJECTS = ["a dog", "two children", "a red car", "my grandmother", "a birthday cake",
            "the mountains", "a sailing boat", "a cat asleep", "fireworks", "a wedding"]
PLACES = ["on the beach", "in the snow", "at night", "in the kitchen", "in Paris",
          "under a tree", "by the lake", "at the station", "in the rain", "at sunset"]


def query_texts(n: int) -> list[str]:
    """Varied photo-search phrases, so tokenisation and lengths are not all identical."""
    return [f"{SUBJECTS[i % 10]} {PLACES[(i // 10) % 10]}, photo {i}" for i in range(n)]


# ------------------------------------------------------------------------- data


def clustered_library(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """n unit rows as float16: clusters of varying size and spread around a shared mean.

    The shared direction mimics CLIP's narrow cone of image embeddings.
    """
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((N_CLUSTERS, dim), dtype=np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    mean = rng.standard_normal(dim, dtype=np.float32)
    centers += 0.6 * mean / np.linalg.norm(mean)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    spread = rng.uniform(0.5, 1.5, N_CLUSTERS).astype(np.float32) / math.sqrt(dim)
    weights = rng.dirichlet(np.full(N_CLUSTERS, 2.0))
    out = np.empty((n, dim), dtype=np.float16)
    for start in range(0, n, GEN_CHUNK):
        m = min(GEN_CHUNK, n - start)
        labels = rng.choice(N_CLUSTERS, m, p=weights)
        block = rng.standard_normal((m, dim), dtype=np.float32)
        block *= spread[labels, None]
        block += centers[labels]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + m] = block
    return out


def perturbed_queries(library: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    """Library rows plus noise of 0.8x their norm (cosine ~0.78 to the source row)."""
    rng = np.random.default_rng(seed)
    rows = library[rng.choice(library.shape[0], n, replace=False)].astype(np.float32)
    rows += 0.8 * rng.standard_normal(rows.shape, dtype=np.float32) / math.sqrt(rows.shape[1])
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def exact_top_k(library: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    """Ground truth: float32 brute force over the library in chunks, ids [Q, k]."""
    best_s = np.full((queries.shape[0], k), -np.inf, dtype=np.float32)
    best_i = np.full((queries.shape[0], k), -1, dtype=np.int64)
    for start in range(0, library.shape[0], GEN_CHUNK):
        scores = queries @ library[start : start + GEN_CHUNK].astype(np.float32).T
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        all_s = np.concatenate([best_s, np.take_along_axis(scores, part, 1)], axis=1)
        all_i = np.concatenate([best_i, part + start], axis=1)
        order = np.argsort(-all_s, axis=1)[:, :k]
        best_s = np.take_along_axis(all_s, order, 1)
        best_i = np.take_along_axis(all_i, order, 1)
    return best_i


# ------------------------------------------------------------------------- text encoders


def load_text_encoder(model: str, which: str) -> tuple[str, TextEncoder]:
    """The app's encoder (ONNX on CPU) when it loads and which allows, else open_clip torch."""
    if which in ("auto", "app"):
        try:
            from photosearch.core.encoder import ModelSpec, load_encoder

            enc = load_encoder(ModelSpec(model, "random"), device="cpu")
            return f"app:{enc.backend}", enc.encode_texts
        except ImportError:
            if which == "app":
                raise
    return "torch:open_clip", _torch_text_encoder(model)


def _torch_text_encoder(model_name: str) -> TextEncoder:
    import open_clip
    import torch

    torch.manual_seed(0)  # random weights, but the same ones every run
    model = open_clip.create_model(model_name, pretrained=None).eval()
    tokenizer = open_clip.get_tokenizer(model_name)

    def encode(texts: list[str]) -> np.ndarray:
        with torch.inference_mode():
            emb = model.encode_text(tokenizer(texts)).float()
        return torch.nn.functional.normalize(emb, dim=-1).numpy()

    return encode


# ------------------------------------------------------------------------- measuring


def rss() -> int:
    return psutil.Process().memory_info().rss


def peak_rss() -> int:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    scale = 1 if platform.system() == "Darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def percentiles(ms: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(ms, 50)), 3), "p95": round(float(np.percentile(ms, 95)), 3)}


def bench_size(
    n: int, dim: int, n_queries: int, encode: TextEncoder, ann_threshold: int
) -> dict[str, Any]:
    base = rss()
    t0 = time.perf_counter()
    library = clustered_library(n, dim)
    gen_s = time.perf_counter() - t0
    queries = perturbed_queries(library, n_queries)
    truth = exact_top_k(library, queries)
    index = VectorIndex(dim, ann_threshold=ann_threshold)
    t0 = time.perf_counter()
    index.add(np.arange(n, dtype=np.int64), library)
    build_s = time.perf_counter() - t0
    del library
    gc.collect()
    rss_delta = rss() - base
    texts = query_texts(n_queries)
    for i in range(min(3, n_queries)):  # warm caches and lazy init
        encode([texts[i]])
        index.search(queries[i], K)
    enc_ms, search_ms, total_ms, hits = [], [], [], 0
    for text, q, want in zip(texts, queries, truth, strict=True):
        t0 = time.perf_counter()
        encode([text])
        t1 = time.perf_counter()
        got, _ = index.search(q, K)
        t2 = time.perf_counter()
        enc_ms.append((t1 - t0) * 1e3)
        search_ms.append((t2 - t1) * 1e3)
        total_ms.append((t2 - t0) * 1e3)
        hits += np.intersect1d(got, want).size
    return {
        "photos": n,
        "mode": "exact" if index.exact else "ann",
        "nlist": index.nlist,
        "nprobe": index.nprobe,
        "generate_s": round(gen_s, 2),
        "build_s": round(build_s, 2),
        "encode_ms": percentiles(enc_ms),
        "search_ms": percentiles(search_ms),
        "total_ms": percentiles(total_ms),
        "recall_at_10": round(hits / (K * n_queries), 4),
        "index_bytes_per_photo": round(index.memory_bytes() / n, 1),
        "rss_delta_bytes_per_photo": round(rss_delta / n, 1),
        "peak_rss_mb": round(peak_rss() / 2**20),
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (f"{'photos':>9} {'mode':>5} {'build s':>8} {'enc p50/p95':>13} {'search p50/p95':>15}"
            f" {'total p50/p95':>15} {'recall@10':>9} {'B/photo':>8} {'RSS B/photo':>11}")
    print(head)
    for r in rows:
        pair = lambda d: f"{d['p50']:.1f}/{d['p95']:.1f}"  # noqa: E731
        print(f"{r['photos']:>9} {r['mode']:>5} {r['build_s']:>8.1f} {pair(r['encode_ms']):>13}"
              f" {pair(r['search_ms']):>15} {pair(r['total_ms']):>15} {r['recall_at_10']:>9.4f}"
              f" {r['index_bytes_per_photo']:>8.0f} {r['rss_delta_bytes_per_photo']:>11.0f}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.query", description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--quick", action="store_true", help="tiny sizes and few queries (CI)")
    p.add_argument("--model", default=None,
                   help="open_clip text tower, random weights (default ViT-B-32; with --quick"
                   " the tiny test config, so CI need not export ViT-B-32 to ONNX)")
    p.add_argument("--dim", type=int, default=512, help="library embedding dimension")
    p.add_argument("--encoder", choices=["auto", "app", "torch"], default="auto")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for faiss and torch")
    p.add_argument("--ann-threshold", type=int, default=None,
                   help="VectorIndex ann_threshold (default: the index's; 10000 with --quick)")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.queries = [2_000, 20_000], min(args.queries, 20)
        args.ann_threshold = args.ann_threshold or 10_000  # so CI also runs the ANN path
        if args.model is None and TINY_MODEL.is_file():
            args.model = str(TINY_MODEL)
    args.model = args.model or "ViT-B-32"
    return args


def set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)
    try:
        import faiss

        faiss.omp_set_num_threads(n)
    except ImportError:
        pass


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    set_threads(args.threads)
    t0 = time.perf_counter()
    encoder_name, encode = load_text_encoder(args.model, args.encoder)
    load_s = time.perf_counter() - t0
    text_dim = encode(["probe"]).shape[1]
    threshold = args.ann_threshold or VectorIndex(args.dim).ann_threshold
    rows = [bench_size(n, args.dim, args.queries, encode, threshold) for n in args.sizes]
    report = {
        "benchmark": "query",
        "machine": {"cpus": os.cpu_count(), "threads": args.threads, "cpu": platform.processor()
                    or platform.machine(), "python": platform.python_version()},
        "model": args.model,
        "encoder": encoder_name,
        "encoder_load_s": round(load_s, 2),
        "dim": args.dim,
        "text_dim": text_dim,
        "queries": args.queries,
        "ann_threshold": threshold,
        "results": rows,
    }
    print(f"encoder {encoder_name} ({args.model}, random weights), loaded in {load_s:.1f} s;"
          f" {args.queries} queries per size, {args.threads} threads")
    print_table(rows)
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
