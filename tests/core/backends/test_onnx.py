"""ONNX export and caching, ONNX Runtime fp32 and row-by-row int8 (tiny model)."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from photosearch.core import encoder as enc_mod
from photosearch.core.backends import export
from photosearch.core.backends import onnx as onnx_mod
from photosearch.core.backends.onnx import int8_towers
from photosearch.core.devices import cpu_cores
from photosearch.core.encoder import load_encoder
from photosearch.core.errors import PhotoSearchError
from tests.core.onnx_helpers import SPEC, TINY, _batch, _cache, _count_calls, _export_dir  # noqa: F401


def test_onnx_fp32_matches_torch() -> None:
    torch_enc = load_encoder(SPEC, backend="torch")
    onnx_enc = load_encoder(SPEC, backend="onnx", quantize="never")
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
    exports = _count_calls(monkeypatch, onnx_mod, "export_model")
    first = load_encoder(SPEC, quantize="never")
    assert len(exports) == 1
    stamp = json.loads((_export_dir() / "stamp.json").read_text())
    assert stamp["model_id"] == SPEC.model_id
    assert {"torch", "open_clip", "onnxruntime"} <= set(stamp)

    def no_build(*_args, **_kwargs):
        raise AssertionError("a cached export must not rebuild the torch model")

    monkeypatch.setattr(enc_mod, "build_model", no_build)
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
    exports = _count_calls(monkeypatch, onnx_mod, "export_model")
    load_encoder(SPEC, quantize="never")
    assert len(exports) == 1


def test_crash_during_export_leaves_no_usable_half_export(monkeypatch) -> None:
    original = export._export_tower

    def crash_on_text(module, sample, input_name, target):
        if input_name == "tokens":
            raise RuntimeError("simulated crash")
        original(module, sample, input_name, target)

    monkeypatch.setattr(export, "_export_tower", crash_on_text)
    with pytest.raises(PhotoSearchError, match="ONNX export failed: simulated crash"):
        load_encoder(SPEC, backend="onnx")
    assert not (_export_dir() / "stamp.json").exists()
    assert not [p for p in _export_dir().iterdir() if ".tmp" in p.name]

    messages: list[str] = []
    fallback = load_encoder(SPEC, progress=messages.append)
    assert fallback.backend == "torch-cpu-fp32"
    assert any("ONNX export failed" in m for m in messages)

    monkeypatch.setattr(export, "_export_tower", original)
    assert load_encoder(SPEC, backend="onnx", quantize="never").backend == "onnx-fp32"


def test_auto_int8_only_for_towers_the_library_accepted() -> None:
    assert int8_towers("auto", None) == set()  # not decided yet: full precision
    assert int8_towers("auto", {"image": {"used": True}, "text": {"used": False}}) == {"image"}
    assert int8_towers("never", {"image": {"used": True}}) == set()
    assert int8_towers("always", None) == {"image", "text"}
    undecided = load_encoder(SPEC, backend="onnx")
    assert undecided.backend == "onnx-fp32" and undecided.needs_quant_check and undecided.quant_check is None
    assert not (_export_dir() / "image-int8").exists()  # nothing quantised before a check asks for it
    verdict = {"image": {"used": True}, "text": {"used": False}}
    accepted = load_encoder(SPEC, backend="onnx", quant_verdict=verdict)
    assert accepted.backend == "onnx-int8" and not accepted.needs_quant_check
    assert accepted.quant_check == verdict
    reference = load_encoder(SPEC, backend="onnx", quantize="never")
    np.testing.assert_allclose(accepted.encode_texts(["a cat"]), reference.encode_texts(["a cat"]), atol=1e-6)


def test_quantize_always_is_an_approximation_of_fp32() -> None:
    encoder = load_encoder(SPEC, backend="onnx", quantize="always")
    assert encoder.backend == "onnx-int8" and encoder.quant_check is None
    reference = load_encoder(SPEC, backend="onnx", quantize="never")
    batch = _batch(6)
    cosines = np.sum(encoder.encode_images(batch) * reference.encode_images(batch), axis=1)
    assert cosines.min() > 0.95  # int8 is an approximation, not a different model


@pytest.mark.parametrize("quantize", ["never", "always"])
def test_a_vector_does_not_depend_on_its_batch_mates(quantize) -> None:
    encoder = load_encoder(SPEC, backend="onnx", quantize=quantize)
    batch = _batch(8, seed=11)
    batch[1:] *= 4.0  # loud batch-mates: a per-batch activation scale would shift photo 0
    together = encoder.encode_images(batch)
    alone = encoder.encode_images(batch[:1])
    np.testing.assert_allclose(alone[0], together[0], atol=1e-6)
    texts = ["a cat", "WORD " * 70, "two dogs on a beach at sunset, long and loud and many words"]
    np.testing.assert_allclose(encoder.encode_texts(texts[:1])[0], encoder.encode_texts(texts)[0], atol=1e-6)


def test_sessions_use_all_cores_sequentially() -> None:
    load_encoder(SPEC, backend="onnx", quantize="never")
    session = onnx_mod.make_session(_export_dir() / "image" / export.MODEL_FILE)
    opts = session.get_session_options()
    assert opts.intra_op_num_threads == cpu_cores()
    assert opts.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert opts.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL


def test_model_dir_is_one_safe_folder(_cache) -> None:  # noqa: F811 (the imported fixture)
    path = export.model_dir("ViT-B-32/weights v2.pt-0123456789ab")
    assert path.parent == _cache / "onnx"
    assert " " not in path.name and "/" not in path.name
    assert export.model_dir("a/b") != export.model_dir("a_b")
