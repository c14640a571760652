"""int8 only when ranking survives it: the top-10 agreement rule, decided per library."""

from __future__ import annotations

import json

import numpy as np
import pytest

from photosearch.core import quant_check
from photosearch.core.backends.base import normalize_rows
from photosearch.core.encoder import load_encoder
from photosearch.core.library import Library
from tests.conftest import TINY_MODEL, make_photos
from tests.core.onnx_helpers import SPEC, _batch, _cache  # noqa: F401


def _unit(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    return normalize_rows(np.random.default_rng(seed).normal(size=(n, dim)))


def test_agreement_is_one_for_the_same_vectors_and_drops_with_noise() -> None:
    gallery, queries = _unit(200), _unit(30, seed=1)
    assert quant_check.agreement(gallery, gallery, queries, queries) == 1.0
    assert quant_check.agreement(gallery, gallery, gallery, gallery, exclude_self=True) == 1.0
    rng = np.random.default_rng(2)
    slightly = normalize_rows(gallery + rng.normal(scale=0.01, size=gallery.shape))
    very = normalize_rows(gallery + rng.normal(scale=0.5, size=gallery.shape))
    near = quant_check.agreement(gallery, slightly, queries, queries)
    far = quant_check.agreement(gallery, very, queries, queries)
    assert 1.0 >= near > far and far < quant_check.MIN_AGREEMENT


class _Fake:
    """The full-precision encoder with a chosen int8 stand-in (noise of a given size)."""

    def __init__(self, noise: float) -> None:
        self.inner = load_encoder(SPEC, backend="onnx", quantize="never")
        self.noise = noise

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def int8_candidate(self, tower: str):
        rng = np.random.default_rng(0)
        encode = self.inner._impl.encode_images if tower == "image" else self.inner._impl.encode_texts
        return lambda x: encode(x) + rng.normal(scale=self.noise, size=(len(x), self.inner.dim))


@pytest.mark.parametrize(("noise", "used"), [(0.0, True), (5.0, False)])
def test_check_accepts_only_what_keeps_the_rankings(noise, used) -> None:
    fake = _Fake(noise)
    verdict = quant_check.check(fake, _batch(60, seed=4), list(quant_check.BUILTIN_TEXTS), "built-in")
    assert verdict is not None
    assert verdict["photos"] == 60 and verdict["texts"] == len(set(quant_check.BUILTIN_TEXTS))
    for tower in ("image", "text"):
        assert verdict[tower]["used"] is used
        assert verdict[tower]["used"] == (verdict[tower]["agreement"] >= quant_check.MIN_AGREEMENT)


def test_too_few_photos_decide_nothing() -> None:
    fake = _Fake(0.0)
    assert quant_check.check(fake, _batch(quant_check.MIN_PHOTOS - 1), ["a cat"], "built-in") is None


def test_the_decision_is_per_library_and_visible_in_status(tmp_path) -> None:
    photos = tmp_path / "photos"
    make_photos(photos, quant_check.MIN_PHOTOS + 5)
    first = Library(tmp_path / "one", model=TINY_MODEL, pretrained="random", backend="onnx")
    first.add_folder(photos)
    first.index()
    status = first.status()
    verdict = status["quantization"]
    assert verdict["rule"] == quant_check.RULE and verdict["photos"] == quant_check.MIN_PHOTOS + 5
    assert verdict["text_source"] == "built-in"
    expected = "onnx-int8" if verdict["image"]["used"] else "onnx-fp32"
    assert status["backend"] == first.backend_name == expected
    first.close()

    # The same library keeps its verdict (no new check); another library has none yet.
    again = Library(tmp_path / "one", backend="onnx")
    assert again.quant_verdict() == verdict and again.encoder().quant_check == verdict
    assert not again.encoder().needs_quant_check
    assert again.backend_name == expected
    again.close()
    other = Library(tmp_path / "two", model=TINY_MODEL, pretrained="random", backend="onnx")
    assert other.quant_verdict() is None and other.status()["quantization"] is None
    other.close()


def test_a_small_library_stays_full_precision(tmp_path) -> None:
    photos = tmp_path / "photos"
    make_photos(photos, 5)
    library = Library(tmp_path / "lib", model=TINY_MODEL, pretrained="random", backend="onnx")
    library.add_folder(photos)
    library.index()
    assert library.quant_verdict() is None and library.backend_name == "onnx-fp32"
    assert json.dumps(library.status())  # still plain JSON
    library.close()
