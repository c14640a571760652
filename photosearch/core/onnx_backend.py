"""ONNX Runtime backend for CPU: export the open_clip towers once, cache them, optionally int8.

Cache layout, per model id (under cache_dir()/onnx/<safe id>/):
    image/model.onnx, text/model.onnx            fp32 exports
    image-int8/model.onnx, text-int8/model.onnx  dynamic int8 (weights QInt8)
    stamp.json                                   written last: marks a complete export
    quant_check.json                             int8 self-check verdicts
    fastload.json                                what a torch-free load needs (tokenizer, ...)
Every tower folder is written under a temporary name and renamed into place, so a crash
never leaves a half-written model that a later run would use.

torch is imported only to export: opening a cached export needs ONNX Runtime alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime as ort

from photosearch.core.encoder import normalize_rows, quiet, valid_rows
from photosearch.core.paths import cache_dir

if TYPE_CHECKING:
    import torch

EXPORT_FORMAT = 1
OPSET = 17
QUANT_MIN_COSINE = 0.99
MODEL_FILE = "model.onnx"
FAST_FILE = "fastload.json"
FAST_FORMAT = 1
# Fixed sentences for the text tower's int8 self-check (and a realistic export sample).
TEXT_PROBE = (
    "a photo of a dog playing in the park",
    "a red car parked on a city street",
    "two people walking on a beach at sunset",
    "a plate of pasta on a wooden table",
    "snowy mountains under a blue sky",
    "a close-up of a yellow flower",
    "a birthday cake with candles",
    "a cat sleeping on a sofa",
)
# quantize_dynamic must write weights to a side file beyond protobuf's 2 GB limit.
_EXTERNAL_DATA_BYTES = 1_500_000_000

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- cache files


def model_dir(model_id: str) -> Path:
    """Cache folder for one model id; readable, but made unique since '/' etc. are replaced."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._")[:80]
    digest = hashlib.sha256(model_id.encode()).hexdigest()[:8]
    return cache_dir() / "onnx" / f"{safe}-{digest}"


# Distribution names: what importlib.metadata knows the packages by.
_DISTRIBUTIONS = {"torch": "torch", "open_clip": "open_clip_torch"}


def _versions() -> dict[str, str | None]:
    """Installed versions of the exporting libraries; None for one that is not installed."""
    # onnxruntime is imported already, and ships under several distribution names (-gpu, ...).
    return {**{package: _package_version(package) for package in _DISTRIBUTIONS}, "onnxruntime": ort.__version__}


def _package_version(package: str) -> str | None:
    """The installed version from the package metadata, never by importing the package.

    Importing torch or open_clip takes seconds and a GB; a frozen app may not even have a
    version.py to read. None when the package (or its metadata) is absent.
    """
    from importlib import metadata

    try:
        return metadata.version(_DISTRIBUTIONS.get(package, package))
    except metadata.PackageNotFoundError:
        return None


def _stamp_is_current(meta: dict[str, Any]) -> bool:
    """Same versions as the export's; a library that is absent here (torch in a torch-free
    app, which could not re-export anyway) cannot disagree."""
    return all(meta.get(k) == v for k, v in _versions().items() if v is not None)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def read_stamp(directory: Path, model_id: str) -> dict[str, Any] | None:
    """The export's metadata if it is complete and made by the same library versions."""
    meta = _read_json(directory / "stamp.json")
    if not meta or meta.get("format") != EXPORT_FORMAT or meta.get("model_id") != model_id:
        return None
    if not _stamp_is_current(meta):
        return None
    if not all((directory / tower / MODEL_FILE).is_file() for tower in ("image", "text")):
        return None
    return meta


def _replace_dir(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    os.replace(src, dst)


def _clear_export(directory: Path) -> None:
    """Drop the stamp first so that a crash mid-way leaves 'no export', never a mixed one."""
    (directory / FAST_FILE).unlink(missing_ok=True)
    (directory / "stamp.json").unlink(missing_ok=True)
    (directory / "quant_check.json").unlink(missing_ok=True)
    for tower in ("image", "text", "image-int8", "text-int8"):
        shutil.rmtree(directory / tower, ignore_errors=True)


def write_fast_info(directory: Path, model_id: str, tokenizer: dict[str, Any]) -> None:
    """Record, next to a complete export, what a torch-free load needs besides the stamp.

    tokenizer: {"kind": "clip-bpe", "context_length": N} when photosearch.core.tokenizer gives
    the model's token ids, else {"kind": "open_clip"} (loading then needs open_clip).
    The stamp is copied in, so a re-export (or a changed stamp) invalidates this file.
    """
    meta = read_stamp(directory, model_id)
    if meta is None:
        return
    data = {"format": FAST_FORMAT, "model_id": model_id, "stamp": meta, "tokenizer": tokenizer}
    if _read_json(directory / FAST_FILE) == data:
        return
    with contextlib.suppress(OSError):  # read-only cache: we just take the full path next time
        _write_json(directory / FAST_FILE, data)


def read_fast_info(directory: Path, model_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(stamp, tokenizer info) when the export is complete and current and fastload.json fits it.

    Imports neither torch nor open_clip.
    """
    fast = _read_json(directory / FAST_FILE)
    if not fast or fast.get("format") != FAST_FORMAT or fast.get("model_id") != model_id:
        return None
    meta = read_stamp(directory, model_id)
    if meta is None or fast.get("stamp") != meta or not isinstance(fast.get("tokenizer"), dict):
        return None
    return meta, fast["tokenizer"]


def cached_towers_ready(directory: Path, quantize: str) -> bool:
    """Whether OnnxBackend can open this export as is, without making an int8 copy first."""
    verdicts = _read_json(directory / "quant_check.json") or {}
    for tower in ("image", "text"):
        if (
            _wants_int8(quantize, _verdict(verdicts, tower))
            and not (directory / f"{tower}-int8" / MODEL_FILE).is_file()
        ):
            return False
    return True


def _wants_int8(quantize: str, verdict: dict[str, Any] | None) -> bool:
    return quantize == "always" or (quantize == "auto" and (verdict is None or verdict["used"]))


# --------------------------------------------------------------------------- export


def _towers(model: torch.nn.Module) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The image and text towers as separate modules (for export)."""
    import torch

    class ImageTower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            return self.model.encode_image(pixels)

    class TextTower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.model.encode_text(tokens)

    return ImageTower().eval(), TextTower().eval()


def _export_tower(module: torch.nn.Module, sample: torch.Tensor, input_name: str, target: Path) -> None:
    import torch

    tmp = target.with_name(f"{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        # Not under no_grad: there nn.MultiheadAttention takes a fused fast path that the
        # exporter cannot translate.
        with quiet():
            # The TorchScript exporter (dynamo=False): several times faster to export than
            # the dynamo exporter here and produces plain MatMul graphs that quantise well.
            torch.onnx.export(
                module,
                (sample,),
                str(tmp / MODEL_FILE),
                dynamo=False,
                input_names=[input_name],
                output_names=["embedding"],
                dynamic_axes={input_name: {0: "batch"}, "embedding": {0: "batch"}},
                opset_version=OPSET,
                do_constant_folding=True,
            )
        _replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _image_size(model: torch.nn.Module) -> tuple[int, int]:
    size = model.visual.preprocess_cfg.get("size", 224)
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def export_model(model: torch.nn.Module, directory: Path, model_id: str, probe_tokens: np.ndarray) -> dict[str, Any]:
    """Export both towers to ONNX, check them against torch, then write the stamp."""
    import torch

    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    _clear_export(directory)
    model = model.float().eval().cpu()
    height, width = _image_size(model)
    generator = torch.Generator().manual_seed(0)
    pixels = torch.randn(2, 3, height, width, generator=generator)
    tokens = torch.from_numpy(np.ascontiguousarray(probe_tokens[:2]))
    image, text = _towers(model)
    _export_tower(image, pixels, "pixels", directory / "image")
    _export_tower(text, tokens, "tokens", directory / "text")
    with torch.no_grad():
        dim = _verify(image(pixels).numpy(), directory / "image", pixels.numpy())
        _verify(text(tokens).numpy(), directory / "text", tokens.numpy())
    meta = {
        "format": EXPORT_FORMAT,
        "model_id": model_id,
        **_versions(),
        "opset": OPSET,
        "dim": dim,
        "preprocess_cfg": dict(model.visual.preprocess_cfg),
        "export_seconds": round(time.perf_counter() - started, 2),
    }
    _write_json(directory / "stamp.json", meta)
    return meta


def _verify(expected: np.ndarray, tower_dir: Path, sample: np.ndarray) -> int:
    """Refuse an export whose outputs drift from torch (the caller then falls back to torch)."""
    got = run(make_session(tower_dir / MODEL_FILE), sample)
    diff = float(np.nanmax(np.abs(normalize_rows(expected) - normalize_rows(got))))
    if not diff < 1e-3:
        raise RuntimeError(f"the ONNX {tower_dir.name} tower differs from PyTorch by {diff:.2g}")
    return int(got.shape[1])


# --------------------------------------------------------------------------- sessions, int8


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def make_session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = _cores()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3  # errors only: keep loading quiet
    # Idle ORT threads otherwise spin after each run, stealing one of two cores from decode threads,
    # the vector search and the GUI.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run(session: ort.InferenceSession, batch: np.ndarray) -> np.ndarray:
    name = session.get_inputs()[0].name
    return np.asarray(session.run(None, {name: batch})[0], dtype=np.float32)


def quantized_model(directory: Path, tower: str) -> Path:
    """Dynamic int8 copy of a tower (QInt8 weights), made once and cached."""
    target = directory / f"{tower}-int8"
    if (target / MODEL_FILE).is_file():
        return target / MODEL_FILE
    from onnxruntime.quantization import QuantType, quantize_dynamic  # ~0.5 s to import

    source = directory / tower
    big = sum(f.stat().st_size for f in source.iterdir()) > _EXTERNAL_DATA_BYTES
    tmp = target.with_name(f"{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        with quiet():
            quantize_dynamic(
                source / MODEL_FILE,
                tmp / MODEL_FILE,
                weight_type=QuantType.QInt8,
                use_external_data_format=big,
            )
        _replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target / MODEL_FILE


def _mean_cosine(reference: np.ndarray, candidate: np.ndarray) -> float | None:
    """Mean cosine over rows the fp32 model embeds; None when there are none to compare."""
    ref, cand = normalize_rows(reference), normalize_rows(candidate)
    ok = valid_rows(ref)
    if not ok.any():
        return None
    # A row int8 breaks (NaN) while fp32 does not counts as cosine 0.
    cos = np.nan_to_num(np.sum(ref[ok] * cand[ok], axis=1), nan=0.0)
    return float(np.mean(cos))


class _Tower:
    """One tower's fp32 session, its int8 candidate and the int8 decision."""

    def __init__(self, directory: Path, name: str, quantize: str, verdict: dict | None, say: Progress) -> None:
        self.name = name
        self.check: dict[str, Any] | None = verdict if quantize == "auto" else None
        self.int8 = False
        self.pending = False
        self.candidate: ort.InferenceSession | None = None
        int8_session = self._int8_session(directory, say) if _wants_int8(quantize, verdict) else None
        if int8_session is not None and (quantize == "always" or verdict):
            self.session, self.int8 = int8_session, True
            return
        self.session = make_session(directory / name / MODEL_FILE)
        if int8_session is not None:  # auto, never checked: keep both until the self-check decides
            self.candidate, self.pending = int8_session, True

    def _int8_session(self, directory: Path, say: Progress) -> ort.InferenceSession | None:
        try:
            if not (directory / f"{self.name}-int8" / MODEL_FILE).is_file():
                say(f"Quantising the {self.name} encoder to int8 (one-time)")
            return make_session(quantized_model(directory, self.name))
        except Exception as exc:  # int8 is an optimisation: fp32 still works
            say(f"int8 quantisation of the {self.name} encoder failed ({exc}); using fp32")
            return None

    def run(self, batch: np.ndarray) -> np.ndarray:
        return run(self.session, batch)

    def self_check(self, batch: np.ndarray) -> tuple[np.ndarray, bool]:
        """Compare int8 to fp32 on this batch; returns the chosen output and whether decided."""
        assert self.candidate is not None
        reference = run(self.session, batch)
        candidate = run(self.candidate, batch)
        cosine = _mean_cosine(reference, candidate)
        if cosine is None:  # nothing usable in this batch: decide on a later one
            return reference, False
        used = cosine >= QUANT_MIN_COSINE
        self.check = {"cosine": round(cosine, 6), "used": bool(used)}
        if used:
            self.session, self.int8 = self.candidate, True
        self.candidate = None  # frees the losing model's memory (the fp32 one if int8 won)
        self.pending = False
        return (candidate if used else reference), True


def _verdict(verdicts: dict[str, Any], tower: str) -> dict[str, Any] | None:
    found = verdicts.get(tower)
    ok = isinstance(found, dict) and isinstance(found.get("used"), bool)
    return found if ok else None


class OnnxBackend:
    """Image and text towers on ONNX Runtime; int8 per tower when its self-check passes.

    With quantize="auto" and no cached verdict, the image tower is checked on the first
    real batch (calibrate() or the first encode_images call); until then `name` reports
    onnx-fp32.
    """

    def __init__(self, directory: Path, quantize: str, text_probe: np.ndarray, say: Progress) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        verdicts = _read_json(directory / "quant_check.json") or {}
        self._image = _Tower(directory, "image", quantize, _verdict(verdicts, "image"), say)
        self._text = _Tower(directory, "text", quantize, _verdict(verdicts, "text"), say)
        if self._text.pending:
            self._decide(self._text, text_probe)

    @property
    def name(self) -> str:
        return "onnx-int8" if self._image.int8 else "onnx-fp32"

    @property
    def quant_check(self) -> dict[str, Any] | None:
        return self._image.check

    @property
    def text_quant_check(self) -> dict[str, Any] | None:
        return self._text.check

    def calibrate(self, batch: np.ndarray) -> None:
        """Run the image int8 self-check now on these (preprocessed) photos."""
        if self._image.pending:
            self._decide(self._image, batch)

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        if self._image.pending:
            return self._decide(self._image, batch)
        return self._image.run(batch)

    def encode_texts(self, tokens: np.ndarray) -> np.ndarray:
        return self._text.run(tokens)

    def _decide(self, tower: _Tower, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            if not tower.pending:
                return tower.run(batch)
            out, decided = tower.self_check(batch)
            if decided:
                self._save_verdict(tower)
            return out

    def _save_verdict(self, tower: _Tower) -> None:
        path = self.directory / "quant_check.json"
        verdicts = _read_json(path) or {}
        verdicts[tower.name] = tower.check
        with contextlib.suppress(OSError):  # read-only cache: we simply check again next time
            _write_json(path, verdicts)


def open_backend(
    model_id: str,
    build_model: Callable[[], torch.nn.Module],
    probe_tokens: np.ndarray,
    quantize: str,
    say: Progress,
) -> tuple[OnnxBackend, dict[str, Any]]:
    """The cached export for model_id (exporting it first if needed) on ONNX Runtime."""
    directory = model_dir(model_id)
    meta = read_stamp(directory, model_id)
    if meta is not None:
        try:
            return OnnxBackend(directory, quantize, probe_tokens, say), meta
        except Exception as exc:  # damaged cache: export again below
            say(f"The cached ONNX model could not be opened ({exc}); exporting it again")
    model = build_model()
    say("Exporting the model to ONNX for faster CPU encoding (one-time)")
    meta = export_model(model, directory, model_id, probe_tokens)
    del model
    return OnnxBackend(directory, quantize, probe_tokens, say), meta
