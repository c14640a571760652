"""The Backend protocol and the row checks every backend's output goes through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

Progress = Callable[[str], None]


def no_progress(_: str) -> None:
    pass


class Backend(Protocol):
    """Runs the two towers; returns raw (unnormalised) float32 embeddings.

    name: what status shows, e.g. "openvino-bf16", "onnx-int8", "torch-cuda-fp16".
    Every row of an output must depend on its own input only (never on its batch-mates).
    """

    name: str
    quant_check: dict[str, Any] | None

    def encode_images(self, batch: np.ndarray) -> np.ndarray: ...

    def encode_texts(self, tokens: np.ndarray) -> np.ndarray: ...


def valid_rows(emb: np.ndarray) -> np.ndarray:
    """Boolean mask of rows that are finite and unit length (within 1e-3)."""
    emb = np.asarray(emb)
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.linalg.norm(emb.astype(np.float64), axis=1)
    return np.isfinite(emb).all(axis=1) & (np.abs(norms - 1.0) <= 1e-3)


def normalize_rows(raw: np.ndarray) -> np.ndarray:
    """L2-normalise rows in float32; rows that are not finite or have zero norm become NaN."""
    raw = np.asarray(raw, dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        norms = np.linalg.norm(raw.astype(np.float64), axis=1, keepdims=True)
        out = (raw / norms).astype(np.float32)
    bad = ~np.isfinite(raw).all(axis=1) | ~np.isfinite(norms[:, 0]) | (norms[:, 0] == 0)
    out[bad] = np.nan
    return out


def min_cosine(reference: np.ndarray, candidate: np.ndarray) -> float | None:
    """Smallest cosine over rows the reference embeds (a broken candidate row counts as 0)."""
    ref, cand = normalize_rows(reference), normalize_rows(candidate)
    ok = valid_rows(ref)
    if not ok.any():
        return None
    return float(np.min(np.nan_to_num(np.sum(ref[ok] * cand[ok], axis=1), nan=0.0)))
