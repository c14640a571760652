"""OpenVINO: converted once from the ONNX export, bf16 where the CPU has it, checked against ONNX
Runtime fp32, and ONNX Runtime as the fallback (tiny model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from photosearch.core.backends import openvino as ov_backend
from photosearch.core.encoder import load_encoder
from photosearch.core.errors import PhotoSearchError
from tests.core.onnx_helpers import SPEC, _batch, _cache, _count_calls, _export_dir  # noqa: F401

pytest.importorskip("openvino")
TEXTS = ["a cat", "two dogs on a beach at sunset", "word " * 300]


def test_openvino_matches_onnx_runtime_fp32() -> None:
    encoder = load_encoder(SPEC, backend="openvino")
    precision = ov_backend.best_precision()
    assert encoder.backend == f"openvino-{precision}"
    reference = load_encoder(SPEC, backend="onnx", quantize="never")
    batch = _batch(5, seed=2)
    cosines = np.sum(encoder.encode_images(batch) * reference.encode_images(batch), axis=1)
    assert cosines.min() > ov_backend.MIN_COSINE
    text_cosines = np.sum(encoder.encode_texts(TEXTS) * reference.encode_texts(TEXTS), axis=1)
    assert text_cosines.min() > ov_backend.MIN_COSINE
    assert (ov_backend.ir_dir(_export_dir()) / f"check-{precision}.json").is_file()


def test_auto_prefers_openvino_bf16_where_the_cpu_has_it(monkeypatch) -> None:
    monkeypatch.setattr(ov_backend, "best_precision", lambda: "bf16")
    assert load_encoder(SPEC).backend == "openvino-bf16"
    monkeypatch.setattr(ov_backend, "best_precision", lambda: "f32")
    assert load_encoder(SPEC).backend == "openvino-f32"


def test_conversion_happens_once(monkeypatch) -> None:
    load_encoder(SPEC, backend="openvino")
    calls = _count_calls(monkeypatch, ov_backend, "_read_onnx")
    load_encoder(SPEC, backend="openvino")
    assert calls == []


def test_conversion_sends_no_telemetry(monkeypatch, tmp_path) -> None:
    # openvino.convert_model (the ovc tool) reports to Google Analytics unless a consent file says no:
    # on a user's first run, with network, converting the model sent events. PhotoSearch is private.
    telemetry = pytest.importorskip("openvino_telemetry")
    sent: list[tuple] = []
    monkeypatch.setattr(telemetry.Telemetry, "send_event", lambda self, *a, **k: sent.append(a))
    monkeypatch.setattr(telemetry.Telemetry, "start_session", lambda self, *a, **k: sent.append(a))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no consent file: ovc would assume yes
    monkeypatch.delenv("CI", raising=False)
    calls = _count_calls(monkeypatch, ov_backend, "_read_onnx")
    load_encoder(SPEC, backend="openvino")
    assert calls, "the test must convert the model"
    assert sent == []


def test_onnx_runtime_serves_when_openvino_is_missing(monkeypatch) -> None:
    monkeypatch.setattr(ov_backend, "available", lambda: False)
    assert load_encoder(SPEC).backend == "onnx-fp32"
    with pytest.raises(PhotoSearchError, match="OpenVINO is not installed"):
        load_encoder(SPEC, backend="openvino")


def test_onnx_runtime_serves_when_openvino_fails_its_check(monkeypatch) -> None:
    monkeypatch.setattr(ov_backend, "MIN_COSINE", 1.5)  # nothing can pass
    messages: list[str] = []
    encoder = load_encoder(SPEC, progress=messages.append)
    assert encoder.backend == "onnx-fp32"
    assert any("differs from ONNX Runtime" in m for m in messages)
    with pytest.raises(PhotoSearchError, match="failed its check"):
        load_encoder(SPEC, backend="openvino")


def test_a_vector_does_not_depend_on_its_batch_mates() -> None:
    encoder = load_encoder(SPEC, backend="openvino")
    batch = _batch(8, seed=11)
    batch[1:] *= 4.0
    alone, together = encoder.encode_images(batch[:1])[0], encoder.encode_images(batch)[0]
    assert float(alone @ together) > 0.99999
    texts = ["a cat", "WORD " * 70, "two dogs on a beach at sunset"]
    assert float(encoder.encode_texts(texts[:1])[0] @ encoder.encode_texts(texts)[0]) > 0.99999


def test_int8_is_a_candidate_only_without_bf16(monkeypatch) -> None:
    monkeypatch.setattr(ov_backend, "best_precision", lambda: "bf16")
    assert not load_encoder(SPEC).needs_quant_check  # bf16 is as fast, with an error independent of the weights
    monkeypatch.setattr(ov_backend, "best_precision", lambda: "f32")
    encoder = load_encoder(SPEC)
    assert encoder.backend == "openvino-f32" and encoder.needs_quant_check
    encoder.use_int8({"image"})  # what an accepting ranking check does
    assert encoder.backend == "onnx-int8"
    assert not load_encoder(SPEC, backend="openvino").needs_quant_check


def test_loading_openvino_leaves_no_analytics_id_in_home(tmp_path) -> None:
    # `import openvino` imports its conversion tool, whose telemetry writes a Google Analytics client
    # id and usage counts under ~/intel on import. A fresh process with a fresh HOME must leave none.
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    code = (
        "from photosearch.core.encoder import load_encoder\n"
        "from tests.core.onnx_helpers import SPEC\n"
        "print(load_encoder(SPEC, backend='openvino').backend)\n"
    )
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PHOTOSEARCH_CACHE": str(tmp_path / "cache")}
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("openvino-")
    assert not (home / "intel").exists(), sorted(p.name for p in (home / "intel").rglob("*"))
