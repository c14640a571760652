"""Export the open_clip towers to ONNX once per model id and cache them (shared by the ONNX
Runtime and OpenVINO backends).

Cache layout, per model id (under cache_dir()/onnx/<safe id>/):
    image/model.onnx, text/model.onnx            fp32 exports
    image-int8/model.onnx, text-int8/model.onnx  dynamic int8 (weights QInt8), made on demand
    openvino/                                    OpenVINO IR of both towers and its self-check
    stamp.json                                   written last: marks a complete export
    fastload.json                                what a torch-free load needs (tokenizer, ...)
Every tower folder is written under a temporary name and renamed into place, so a crash
never leaves a half-written model that a later run would use.

torch is imported only to export: opening a cached export needs neither torch nor open_clip.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from photosearch.core.backends.base import normalize_rows
from photosearch.core.models import quiet
from photosearch.core.paths import cache_dir

if TYPE_CHECKING:
    import torch

EXPORT_FORMAT = 1
OPSET = 17
MODEL_FILE = "model.onnx"
FAST_FILE = "fastload.json"
FAST_FORMAT = 1
TOWER_DIRS = ("image", "text", "image-int8", "text-int8", "openvino")
# Fixed sentences for export samples and backend self-checks.
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
    return {**{package: _package_version(package) for package in _DISTRIBUTIONS}, "onnxruntime": _onnxruntime_version()}


def _onnxruntime_version() -> str | None:
    # Imported already by any caller that opens a session; it ships as onnxruntime, -gpu, ...
    try:
        import onnxruntime

        return str(onnxruntime.__version__)
    except ImportError:
        return None


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


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def read_stamp(directory: Path, model_id: str) -> dict[str, Any] | None:
    """The export's metadata if it is complete and made by the same library versions."""
    meta = read_json(directory / "stamp.json")
    if not meta or meta.get("format") != EXPORT_FORMAT or meta.get("model_id") != model_id:
        return None
    if not _stamp_is_current(meta):
        return None
    if not all((directory / tower / MODEL_FILE).is_file() for tower in ("image", "text")):
        return None
    return meta


def replace_dir(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    os.replace(src, dst)


def _clear_export(directory: Path) -> None:
    """Drop the stamp first so that a crash mid-way leaves 'no export', never a mixed one."""
    (directory / FAST_FILE).unlink(missing_ok=True)
    (directory / "stamp.json").unlink(missing_ok=True)
    (directory / "quant_check.json").unlink(missing_ok=True)
    for tower in TOWER_DIRS:
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
    if read_json(directory / FAST_FILE) == data:
        return
    with contextlib.suppress(OSError):  # read-only cache: we just take the full path next time
        write_json(directory / FAST_FILE, data)


def read_fast_info(directory: Path, model_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(stamp, tokenizer info) when the export is complete and current and fastload.json fits it.

    Imports neither torch nor open_clip.
    """
    fast = read_json(directory / FAST_FILE)
    if not fast or fast.get("format") != FAST_FORMAT or fast.get("model_id") != model_id:
        return None
    meta = read_stamp(directory, model_id)
    if meta is None or fast.get("stamp") != meta or not isinstance(fast.get("tokenizer"), dict):
        return None
    return meta, fast["tokenizer"]


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
        replace_dir(tmp, target)
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
    write_json(directory / "stamp.json", meta)
    return meta


def _verify(expected: np.ndarray, tower_dir: Path, sample: np.ndarray) -> int:
    """Refuse an export whose outputs drift from torch (the caller then falls back to torch)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(tower_dir / MODEL_FILE), providers=["CPUExecutionProvider"])
    got = np.asarray(session.run(None, {session.get_inputs()[0].name: sample})[0], dtype=np.float32)
    diff = float(np.nanmax(np.abs(normalize_rows(expected) - normalize_rows(got))))
    if not diff < 1e-3:
        raise RuntimeError(f"the ONNX {tower_dir.name} tower differs from PyTorch by {diff:.2g}")
    return int(got.shape[1])
