"""ONNX export, caching and the int8 self-check (tiny model)."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from photosearch.core import encoder as enc_mod
from photosearch.core import onnx_backend
from photosearch.core.encoder import load_encoder, valid_rows
from photosearch.core.errors import PhotoSearchError
from tests.core.onnx_helpers import SPEC, TINY, _batch, _cache, _count_calls, _export_dir, _photos  # noqa: F401


def test_onnx_fp32_matches_torch() -> None:
    torch_enc = load_encoder(SPEC, backend="torch")
    onnx_enc = load_encoder(SPEC, quantize="never")
    assert onnx_enc.backend == "onnx-fp32" and onnx_enc.quant_check is None
    for n in (1, 5):  # other batch sizes than the export sample: the batch axis is dynamic
        batch = _batch(n, seed=n)
        diff = np.abs(onnx_enc.encode_images(batch) - torch_enc.encode_images(batch)).max()
        assert diff < 1e-4
    texts = ["a cat", "two dogs on a beach at sunset", "word " * 300]
    diff = np.abs(onnx_enc.encode_texts(texts) - torch_enc.encode_texts(texts)).max()
    assert diff < 1e-4
    assert not (_export_dir() / "image-int8").exists()  # never: no quantisation work


def test_export_is_cached_and_stamped(monkeypatch) -> None:
    exports = _count_calls(monkeypatch, onnx_backend, "export_model")
    first = load_encoder(SPEC, quantize="never")
    assert len(exports) == 1
    stamp = json.loads((_export_dir() / "stamp.json").read_text())
    assert stamp["model_id"] == SPEC.model_id
    assert {"torch", "open_clip", "onnxruntime"} <= set(stamp)

    def no_build(*_args, **_kwargs):
        raise AssertionError("a cached export must not rebuild the torch model")

    monkeypatch.setattr(enc_mod, "_build_model", no_build)
    second = load_encoder(SPEC, quantize="never")
    assert len(exports) == 1
    batch = _batch(3)
    np.testing.assert_array_equal(first.encode_images(batch), second.encode_images(batch))
    assert second.preprocess_cfg["mean"] == first.preprocess_cfg["mean"]


def test_stale_stamp_triggers_a_new_export(monkeypatch) -> None:
    load_encoder(SPEC, quantize="never")
    stamp_path = _export_dir() / "stamp.json"
    stamp = json.loads(stamp_path.read_text())
    stamp["open_clip"] = "0.0.1"
    stamp_path.write_text(json.dumps(stamp))
    exports = _count_calls(monkeypatch, onnx_backend, "export_model")
    load_encoder(SPEC, quantize="never")
    assert len(exports) == 1


def test_crash_during_export_leaves_no_usable_half_export(monkeypatch) -> None:
    original = onnx_backend._export_tower

    def crash_on_text(module, sample, input_name, target):
        if input_name == "tokens":
            raise RuntimeError("simulated crash")
        original(module, sample, input_name, target)

    monkeypatch.setattr(onnx_backend, "_export_tower", crash_on_text)
    with pytest.raises(PhotoSearchError, match="ONNX export failed: simulated crash"):
        load_encoder(SPEC, backend="onnx")
    assert not (_export_dir() / "stamp.json").exists()
    assert not [p for p in _export_dir().iterdir() if ".tmp" in p.name]

    messages: list[str] = []
    fallback = load_encoder(SPEC, progress=messages.append)
    assert fallback.backend == "torch"
    assert any("ONNX export failed" in m for m in messages)

    monkeypatch.setattr(onnx_backend, "_export_tower", original)
    assert load_encoder(SPEC, quantize="never").backend == "onnx-fp32"


def test_int8_self_check_on_calibration_photos(monkeypatch) -> None:
    encoder = load_encoder(SPEC, calibration_images=_photos())
    check = encoder.quant_check
    assert check is not None and isinstance(check["cosine"], float)
    assert check["used"] == (check["cosine"] >= onnx_backend.QUANT_MIN_COSINE)
    assert encoder.backend == ("onnx-int8" if check["used"] else "onnx-fp32")
    text_check = encoder.text_quant_check
    assert text_check is not None
    assert text_check["used"] == (text_check["cosine"] >= onnx_backend.QUANT_MIN_COSINE)
    assert valid_rows(encoder.encode_images(_batch(3))).all()

    # The verdict is cached per model: a later run neither re-checks nor changes its mind.
    def no_check(*_args):
        raise AssertionError("the cached verdict must be reused")

    monkeypatch.setattr(onnx_backend, "_mean_cosine", no_check)
    again = load_encoder(SPEC, calibration_images=_photos())
    assert again.quant_check == check and again.backend == encoder.backend


def test_int8_check_runs_lazily_on_the_first_batch() -> None:
    encoder = load_encoder(SPEC)
    assert encoder.quant_check is None and encoder.backend == "onnx-fp32"
    out = encoder.encode_images(_batch(4))
    assert valid_rows(out).all()
    assert encoder.quant_check is not None
    assert encoder.backend == ("onnx-int8" if encoder.quant_check["used"] else "onnx-fp32")


def test_int8_is_rejected_when_the_cosine_is_too_low(monkeypatch) -> None:
    reference = load_encoder(SPEC, quantize="never")
    monkeypatch.setattr(onnx_backend, "_mean_cosine", lambda *_: 0.5)
    encoder = load_encoder(SPEC, calibration_images=_photos())
    assert encoder.quant_check == {"cosine": 0.5, "used": False}
    assert encoder.text_quant_check == {"cosine": 0.5, "used": False}
    assert encoder.backend == "onnx-fp32"
    batch = _batch(3)
    np.testing.assert_allclose(encoder.encode_images(batch), reference.encode_images(batch), atol=1e-6)
    np.testing.assert_allclose(encoder.encode_texts(["a cat"]), reference.encode_texts(["a cat"]), atol=1e-6)


def test_all_nan_first_batch_postpones_the_check() -> None:
    encoder = load_encoder(SPEC)
    out = encoder.encode_images(np.full((2, 3, 32, 32), np.nan, np.float32))
    assert np.isnan(out).all()
    assert encoder.quant_check is None
    encoder.encode_images(_batch(2))
    assert encoder.quant_check is not None


def test_quantize_always_skips_the_check() -> None:
    encoder = load_encoder(SPEC, quantize="always")
    assert encoder.backend == "onnx-int8" and encoder.quant_check is None
    reference = load_encoder(SPEC, quantize="never")
    batch = _batch(6)
    cosines = np.sum(encoder.encode_images(batch) * reference.encode_images(batch), axis=1)
    assert cosines.min() > 0.95  # int8 is an approximation, not a different model


def test_mean_cosine_penalises_rows_int8_breaks() -> None:
    ref = np.array([[1.0, 0.0], [0.0, 2.0], [np.nan, 0.0]], np.float32)
    cand = np.array([[1.0, 0.0], [np.nan, 1.0], [1.0, 0.0]], np.float32)
    assert onnx_backend._mean_cosine(ref, cand) == pytest.approx(0.5)
    assert onnx_backend._mean_cosine(ref[2:], cand[2:]) is None


def test_sessions_use_all_cores_sequentially() -> None:
    load_encoder(SPEC, quantize="never")
    session = onnx_backend.make_session(_export_dir() / "image" / onnx_backend.MODEL_FILE)
    opts = session.get_session_options()
    assert opts.intra_op_num_threads == onnx_backend._cores()
    assert opts.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert opts.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL


def test_model_dir_is_one_safe_folder(_cache) -> None:  # noqa: F811 (the imported fixture)
    path = onnx_backend.model_dir("ViT-B-32/weights v2.pt-0123456789ab")
    assert path.parent == _cache / "onnx"
    assert " " not in path.name and "/" not in path.name
    assert onnx_backend.model_dir("a/b") != onnx_backend.model_dir("a_b")
