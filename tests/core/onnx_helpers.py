"""Shared by the ONNX test modules: the tiny model, a private export cache per test, sample inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photosearch.core.backends import export
from photosearch.core.encoder import ModelSpec

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_clip.json"
SPEC = ModelSpec(str(TINY), "random")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch) -> Path:
    """Each test exports into its own cache, so cache hits and misses are the test's own doing."""
    root = tmp_path / "cache"
    monkeypatch.setenv("PHOTOSEARCH_CACHE", str(root))
    return root


def _batch(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 3, 32, 32)).astype(np.float32)


def _photos(n: int = 4) -> list[Image.Image]:
    rng = np.random.default_rng(7)
    return [Image.fromarray(rng.integers(0, 256, (48, 64, 3), np.uint8)) for _ in range(n)]


def _export_dir() -> Path:
    return export.model_dir(SPEC.model_id)


def _count_calls(monkeypatch, module, name: str) -> list[int]:
    """Patch module.name with a pass-through that records each call."""
    calls: list[int] = []
    original = getattr(module, name)

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls
