"""OpenVINO on the CPU: the cached ONNX export converted once to OpenVINO IR, run in bf16 where
the CPU has bf16 instructions (AVX-512 BF16 or AMX), f32 otherwise.

bf16 keeps float32's exponent range and rounds each value to 8 mantissa bits, so its error does
not depend on what the weights learned (unlike dynamic int8). Before first use, each precision is
checked against ONNX Runtime fp32 on fixed inputs and the verdict cached; a failed check (or no
openvino package) makes the encoder fall back to ONNX Runtime.

Cache: <export dir>/openvino/{image,text}.xml/.bin and check-<precision>.json.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from photosearch.core.backends.base import Progress, min_cosine
from photosearch.core.backends.export import MODEL_FILE, read_json, replace_dir, write_json
from photosearch.core.devices import cpu_cores

TOWERS = ("image", "text")
# Smallest per-row cosine to ONNX Runtime fp32 on the check inputs (bf16 measured 0.99996 on
# ViT-B-32); well inside the 0.999 the stored vectors must keep to open_clip's reference.
MIN_COSINE = 0.9995
CHECK_FORMAT = 1


def _openvino() -> Any:
    """openvino without its model conversion tool (ovc), which the app does not use: importing ovc
    starts OpenVINO's telemetry, which writes a Google Analytics client id and usage counts under
    ~/intel and, unless the user opted out, reports conversions. openvino skips it when absent."""
    sys.modules.setdefault("openvino.tools.ovc", None)
    import openvino

    return openvino


def available() -> bool:
    try:
        _openvino()
    except Exception:  # missing, or a broken install: ONNX Runtime serves instead
        return False
    return True


def version() -> str:
    return str(_openvino().__version__)


def best_precision() -> str:
    """"bf16" when the CPU runs bf16 natively, else "f32"."""
    ov = _openvino()

    try:
        caps = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:
        return "f32"
    return "bf16" if "BF16" in caps else "f32"


def ir_dir(export_dir: Path) -> Path:
    return export_dir / "openvino"


def convert(export_dir: Path, say: Progress) -> Path:
    """OpenVINO IR of both towers, converted once from the ONNX export (f32 weights)."""
    target = ir_dir(export_dir)
    stamp = target / "converted.json"
    if (read_json(stamp) or {}).get("openvino") == version():
        return target
    ov = _openvino()

    say("Converting the model for OpenVINO (one-time)")
    tmp = target.with_name(f"{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        for tower in TOWERS:
            model = _read_onnx(export_dir / tower / MODEL_FILE)
            ov.save_model(model, str(tmp / f"{tower}.xml"), compress_to_fp16=False)
        write_json(tmp / "converted.json", {"openvino": version()})
        replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _read_onnx(path: Path) -> Any:
    """The ONNX file through OpenVINO's ONNX frontend, not openvino.convert_model: that tool (ovc)
    sends usage telemetry to Google Analytics unless the user opted out, and this app stays private."""
    ov = _openvino()

    return ov.Core().read_model(str(path))


def _compile(xml: Path, precision: str) -> Any:
    ov = _openvino()

    config = {
        "INFERENCE_PRECISION_HINT": precision,
        "INFERENCE_NUM_THREADS": cpu_cores(),
        "PERFORMANCE_HINT": "LATENCY",  # one stream: every core on the one batch in flight
    }
    return ov.Core().compile_model(str(xml), "CPU", config)


class OpenVinoBackend:
    """Both towers on OpenVINO's CPU plugin in one precision ("bf16" or "f32")."""

    quant_check: dict[str, Any] | None = None
    check: dict[str, Any] | None = None  # the self-check's verdict against ONNX Runtime fp32

    def __init__(self, folder: Path, precision: str) -> None:
        self.precision = precision
        self.name = f"openvino-{precision}"
        self._compiled = {t: _compile(folder / f"{t}.xml", precision) for t in TOWERS}
        self._requests = {t: c.create_infer_request() for t, c in self._compiled.items()}

    def _run(self, tower: str, batch: np.ndarray) -> np.ndarray:
        request = self._requests[tower]
        request.infer({0: np.ascontiguousarray(batch)})
        return np.array(request.get_output_tensor(0).data, dtype=np.float32)

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        return self._run("image", batch)

    def encode_texts(self, tokens: np.ndarray) -> np.ndarray:
        return self._run("text", tokens)


def check_inputs(image_size: tuple[int, int], probe_tokens: np.ndarray) -> dict[str, np.ndarray]:
    """Fixed inputs for the self-check: smooth, photo-like pixel fields and real sentences."""
    height, width = image_size
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    a, b, c = rng.uniform(0.5, 2, 12), rng.uniform(0.5, 2, 12), rng.uniform(0, 6, 12)
    fields = [np.sin(6 * xx * a[i] + 4 * yy * b[i] + c[i]) for i in range(12)]
    pixels = np.stack(fields).reshape(4, 3, height, width) * 1.5
    return {"image": pixels.astype(np.float32), "text": np.ascontiguousarray(probe_tokens, dtype=np.int64)}


def open_checked(
    export_dir: Path,
    image_size: tuple[int, int],
    probe_tokens: np.ndarray,
    precision: str,
    say: Progress,
) -> OpenVinoBackend | None:
    """An OpenVinoBackend that has passed its check against ONNX Runtime fp32, else None."""
    folder = convert(export_dir, say)
    backend = OpenVinoBackend(folder, precision)
    verdict_path = folder / f"check-{precision}.json"
    verdict = read_json(verdict_path)
    if not verdict or verdict.get("format") != CHECK_FORMAT or verdict.get("openvino") != version():
        verdict = _check(backend, export_dir, check_inputs(image_size, probe_tokens))
        with contextlib.suppress(OSError):
            write_json(verdict_path, verdict)
    if not verdict["used"]:
        say(f"OpenVINO {precision} differs from ONNX Runtime (cosine {verdict['min_cosine']}); not using it")
        return None
    backend.check = verdict
    return backend


def _check(backend: OpenVinoBackend, export_dir: Path, inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    import onnxruntime as ort

    worst = 1.0
    for tower in TOWERS:
        session = ort.InferenceSession(str(export_dir / tower / MODEL_FILE), providers=["CPUExecutionProvider"])
        reference = session.run(None, {session.get_inputs()[0].name: inputs[tower]})[0]
        cosine = min_cosine(reference, backend._run(tower, inputs[tower]))
        worst = min(worst, 0.0 if cosine is None else cosine)
    return {
        "format": CHECK_FORMAT,
        "openvino": version(),
        "precision": backend.precision,
        "min_cosine": round(worst, 6),
        "used": worst >= MIN_COSINE,
    }


def open_cached(export_dir: Path, precision: str) -> OpenVinoBackend | None:
    """The torch-free start: a converted IR whose check for this precision passed, else None."""
    folder = ir_dir(export_dir)
    if not available() or (read_json(folder / "converted.json") or {}).get("openvino") != version():
        return None
    verdict = read_json(folder / f"check-{precision}.json") or {}
    if verdict.get("format") != CHECK_FORMAT or verdict.get("openvino") != version() or not verdict.get("used"):
        return None
    backend = OpenVinoBackend(folder, precision)
    backend.check = verdict
    return backend
