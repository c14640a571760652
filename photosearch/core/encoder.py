"""load_encoder and Encoder: pick a backend for the device and wrap it with preprocessing, the
tokenizer and row checks. The pieces live in their own modules (models, devices, preprocess,
weights, backends/*); the names other modules import from here are re-exported.

torch and open_clip are imported lazily: a cached export opens without either.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from photosearch.core.backends import openvino as ov_backend
from photosearch.core.backends.base import Backend, Progress, no_progress, normalize_rows, valid_rows
from photosearch.core.backends.export import (
    TEXT_PROBE,
    model_dir,
    read_fast_info,
    write_fast_info,
)
from photosearch.core.devices import DEVICES, resolve_device
from photosearch.core.errors import PhotoSearchError
from photosearch.core.model_loader import build_model, open_clip_tokenizer, preprocess_cfg_of, read_state_dict
from photosearch.core.models import (
    CHECKPOINT_SUFFIXES,
    DEFAULT_MODEL,
    DEFAULT_PRETRAINED,
    RANDOM,
    ModelSpec,
    check_tag,
    checkpoint_fingerprint,
    embed_dim,
    one_line,
    quiet,
    register_model,
    set_offline,
)
from photosearch.core.preprocess import Preprocessor
from photosearch.core.tokenizer import fast_tokenizer_info

if TYPE_CHECKING:
    import torch

__all__ = [
    "BACKENDS",
    "CHECKPOINT_SUFFIXES",
    "DEFAULT_MODEL",
    "DEFAULT_PRETRAINED",
    "DEVICES",
    "QUANTIZE_MODES",
    "RANDOM",
    "Backend",
    "Encoder",
    "ModelSpec",
    "Preprocessor",
    "checkpoint_fingerprint",
    "load_encoder",
    "normalize_rows",
    "quiet",
    "read_state_dict",
    "resolve_device",
    "valid_rows",
]

QUANTIZE_MODES = ("auto", "always", "never")
BACKENDS = ("auto", "torch", "onnx", "openvino")
# Chosen by measurement on a 2-core CPU (ViT-B-32): larger batches gained nothing while making
# progress coarser; GPUs need big batches to be busy.
CPU_BATCH_SIZE = 16
GPU_BATCH_SIZE = 64


class Encoder:
    """Turns preprocessed images and texts into unit-length CLIP embeddings.

    encode_images/encode_texts return float32 [N, dim]. A row whose model output is not
    finite or has zero norm (e.g. a NaN input) is returned as all-NaN so the caller can
    drop it with `valid_rows`; it never raises for bad pixel values. Each row depends on its
    own input only, whatever else is in the batch.
    """

    def __init__(
        self,
        spec: ModelSpec,
        model_id: str,
        device: str,
        impl: Backend,
        preprocess_cfg: dict[str, Any],
        tokenizer: Callable[[list[str]], Any],
        dim: int,
        export_dir: Path | None = None,
    ) -> None:
        self.spec = spec
        self.model_id = model_id
        self.device = device
        self.dim = dim
        # JSON round trip: the same plain lists whether it came from the model or the cache.
        self.preprocess_cfg: dict[str, Any] = json.loads(json.dumps(preprocess_cfg))
        self._impl = impl
        self._tokenizer = tokenizer
        self._preprocessor = Preprocessor(preprocess_cfg)
        self.image_size = self._preprocessor.height
        self.batch_size = GPU_BATCH_SIZE if device == "cuda" else CPU_BATCH_SIZE
        self.export_dir = export_dir
        # The library's int8 verdict (photosearch.core.quant_check), and whether it is still due.
        self.quant_check: dict[str, Any] | None = None
        self.needs_quant_check = False
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        """e.g. "openvino-bf16", "onnx-int8", "onnx-fp32", "torch-cuda-fp16"."""
        return self._impl.name

    def int8_candidate(self, tower: str) -> Callable[[np.ndarray], np.ndarray] | None:
        """A raw int8 encoder of one tower ("image" or "text") for the ranking check; None when
        there is no ONNX export to quantise (torch) or quantisation fails."""
        if self.export_dir is None:
            return None
        from photosearch.core.backends.onnx import OnnxBackend

        onnx = self._impl if isinstance(self._impl, OnnxBackend) else OnnxBackend(self.export_dir, set(), no_progress)
        return onnx.int8_candidate(tower)

    def use_int8(self, towers: set[str]) -> None:
        """Run these towers in int8 from now on (the ranking check accepted them)."""
        if not towers or self.export_dir is None:
            return
        from photosearch.core.backends.onnx import OnnxBackend

        with self._lock:
            if isinstance(self._impl, OnnxBackend):
                self._impl.use_int8(towers)
            else:
                self._impl = OnnxBackend(self.export_dir, towers, no_progress)

    def preprocess(self, img: Image.Image) -> np.ndarray:
        """float32 [3, S, S], identical (to ~1e-6) to open_clip's eval transform."""
        return self._preprocessor(img)

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        """[N, 3, S, S] float32 -> [N, dim] unit rows (NaN rows for failed inputs)."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        expected = (3, self._preprocessor.height, self._preprocessor.width)
        if batch.ndim != 4 or batch.shape[1:] != expected:
            raise ValueError(f"expected a batch of shape [N, {expected}], got {batch.shape}")
        if len(batch) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        with self._lock:  # backends (and the lazy int8 check) are not re-entrant
            return normalize_rows(self._impl.encode_images(batch))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Texts -> [N, dim] unit rows; the tokenizer truncates long texts."""
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        tokens = self.tokenize(texts)
        with self._lock:
            return normalize_rows(self._impl.encode_texts(tokens))

    def tokenize(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._tokenizer(list(texts)), dtype=np.int64)



# --------------------------------------------------------------------------- choosing a CPU backend


def _check_choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise PhotoSearchError(f"Unknown {what} '{value}'; choose {', '.join(allowed)}")
    return value


def _cpu_plan(backend: str, quantize: str, verdict: dict[str, Any] | None) -> tuple[str, set[str]]:
    """("openvino", {}) or ("onnx", int8 towers), decided without torch.

    bf16 on OpenVINO is as fast as int8 on these CPUs and its error does not depend on the
    weights, so int8 is only considered without it (or when asked for with "always").
    """
    from photosearch.core.backends.onnx import int8_towers

    int8 = int8_towers(quantize, verdict)
    if backend == "onnx":
        return "onnx", int8
    ov_ok = ov_backend.available()
    if backend == "openvino":
        if not ov_ok:
            raise PhotoSearchError("OpenVINO is not installed (pip install openvino); use --backend onnx")
        return "openvino", set()
    if ov_ok and ov_backend.best_precision() == "bf16" and quantize != "always":
        return "openvino", set()
    if int8:
        return "onnx", int8
    return ("openvino" if ov_ok else "onnx"), set()


def _image_size(preprocess_cfg: dict[str, Any]) -> tuple[int, int]:
    size = preprocess_cfg.get("size", 224)
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def _open_cpu_backend(
    plan: tuple[str, set[str]],
    directory: Path,
    meta: dict[str, Any],
    probe: np.ndarray,
    say: Progress,
    strict: bool,
) -> Backend:
    """The planned backend on a complete export; OpenVINO falls back to ONNX Runtime unless strict."""
    from photosearch.core.backends.onnx import OnnxBackend

    kind, int8 = plan
    if kind == "openvino":
        precision = ov_backend.best_precision()
        try:
            found = ov_backend.open_checked(directory, _image_size(meta["preprocess_cfg"]), probe, precision, say)
        except Exception as exc:
            if strict:
                raise PhotoSearchError(f"OpenVINO failed: {one_line(exc)}") from None
            say(f"OpenVINO failed ({one_line(exc)}); using ONNX Runtime")
            found = None
        if found is not None:
            return found
        if strict:
            raise PhotoSearchError("OpenVINO failed its check against ONNX Runtime; use --backend onnx")
    return OnnxBackend(directory, int8, say)


# --------------------------------------------------------------------------- loading


def load_encoder(
    spec: ModelSpec,
    device: str = "auto",
    backend: str = "auto",
    offline: bool = False,
    quantize: str = "auto",
    quant_verdict: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> Encoder:
    """Load a CLIP encoder. On a CPU it runs an ONNX export on OpenVINO (bf16 where the CPU has
    it) or ONNX Runtime; int8 towers only where the library's ranking check accepted them.

    backend: "auto", "torch" (force PyTorch), "onnx" or "openvino" (CPU only).
    quantize: "auto" (int8 where quant_verdict, the library's ranking check, accepted it),
    "always" or "never". All user mistakes (unknown model or tag, missing weights, bad
    checkpoint) raise PhotoSearchError with a one-line message.
    """
    say = progress or no_progress
    _check_choice(backend, BACKENDS, "backend")
    _check_choice(quantize, QUANTIZE_MODES, "quantize mode")
    if offline:
        set_offline()
    from photosearch.core.weights import refusal_before_import

    refusal = refusal_before_import(spec)  # before torch and open_clip: no weights here, say so in seconds
    if refusal:
        raise PhotoSearchError(refusal)
    dev = resolve_device(device)
    if backend in ("onnx", "openvino") and dev != "cpu":
        raise PhotoSearchError(f"The {backend} backend runs on the CPU only; use --device cpu")
    on_export = dev == "cpu" and backend != "torch"
    plan = _cpu_plan(backend, quantize, quant_verdict) if on_export else ("torch", set())
    if on_export:
        fast = _load_cached_export(spec, plan, say)
        if fast is not None:
            return _finish(fast, backend, quantize, quant_verdict)
    from photosearch.core.pretrained import resolve_weights

    name, pp_override = register_model(spec.model)
    check_tag(name, spec.pretrained)
    tokenizer = open_clip_tokenizer(name)
    built: list[torch.nn.Module] = []  # the torch model, built at most once

    def build() -> torch.nn.Module:
        # Only when there is no cached export: finding (or downloading) the weights can take a while.
        if not built:
            weights = resolve_weights(name, spec)
            say(f"Loading {spec.describe()}")
            built.append(build_model(name, spec, pp_override, weights))
        return built[0]

    if on_export:
        encoder = _load_export(spec, plan, build, tokenizer, say, strict=backend != "auto")
        if encoder is not None:
            return _finish(encoder, backend, quantize, quant_verdict)
    from photosearch.core.backends.torch import TorchBackend

    model = build()
    impl = TorchBackend(model, dev)
    say(f"Using PyTorch ({impl.name}) on {dev}")
    return Encoder(spec, spec.model_id, dev, impl, preprocess_cfg_of(model), tokenizer, embed_dim(name))


def _finish(encoder: Encoder, backend: str, quantize: str, verdict: dict[str, Any] | None) -> Encoder:
    """Record the library's verdict, and whether a ranking check is still due: int8 is a candidate
    in "auto" unless OpenVINO was asked for or runs bf16 (as fast, and its error is not the weights')."""
    encoder.quant_check = verdict
    encoder.needs_quant_check = (
        quantize == "auto" and verdict is None and backend in ("auto", "onnx") and encoder.backend != "openvino-bf16"
    )
    return encoder


def _load_export(
    spec: ModelSpec,
    plan: tuple[str, set[str]],
    build: Callable[[], torch.nn.Module],
    tokenizer: Callable[[list[str]], Any],
    say: Progress,
    strict: bool,
) -> Encoder | None:
    """An encoder on the cached export (exporting it once per model id); None: fall back to torch."""
    from photosearch.core.backends import onnx as onnx_mod

    model_id = spec.model_id
    probe = np.asarray(tokenizer(list(TEXT_PROBE)), dtype=np.int64)
    try:
        directory, meta = onnx_mod.ensure_export(model_id, build, probe, say)
        try:
            impl = _open_cpu_backend(plan, directory, meta, probe, say, strict)
        except PhotoSearchError:
            raise
        except Exception as exc:  # damaged cache: export again
            say(f"The cached ONNX model could not be opened ({one_line(exc)}); exporting it again")
            (directory / "stamp.json").unlink(missing_ok=True)
            directory, meta = onnx_mod.ensure_export(model_id, build, probe, say)
            impl = _open_cpu_backend(plan, directory, meta, probe, say, strict)
    except PhotoSearchError:
        raise
    except Exception as exc:
        if strict:
            raise PhotoSearchError(f"ONNX export failed: {one_line(exc)}") from None
        say(f"ONNX export failed ({one_line(exc)}); using PyTorch instead")
        return None
    if read_fast_info(directory, model_id) is None:  # first load of this export
        write_fast_info(directory, model_id, fast_tokenizer_info(tokenizer))
    return Encoder(spec, model_id, "cpu", impl, meta["preprocess_cfg"], tokenizer, meta["dim"], directory)


def _load_cached_export(spec: ModelSpec, plan: tuple[str, set[str]], say: Progress) -> Encoder | None:
    """The cold-start path: a cached export opened without importing torch or open_clip.

    Taken when the export for this model id is complete and current, was opened by the full
    path before (which recorded the tokenizer in fastload.json), its tokenizer is CLIP's BPE
    and every file the backend opens is already there (no int8 copy or OpenVINO conversion to
    make, OpenVINO's check already passed). The model was validated when it was exported: the
    model id pins the config file's content, the checkpoint's fingerprint or the weights tag.
    None means 'take the full path'.
    """
    try:
        model_id = spec.model_id
    except PhotoSearchError:
        return None  # the full path reports it
    from photosearch.core.backends import onnx as onnx_mod

    directory = model_dir(model_id)
    found = read_fast_info(directory, model_id)
    if found is None:
        return None
    meta, tokenizer_info = found
    kind, int8 = plan
    if tokenizer_info.get("kind") != "clip-bpe" or not onnx_mod.cached_towers_ready(directory, int8):
        return None
    try:
        from photosearch.core.tokenizer import ClipTokenizer

        tokenizer = ClipTokenizer(int(tokenizer_info["context_length"]))
        impl: Backend | None
        if kind == "openvino":
            impl = ov_backend.open_cached(directory, ov_backend.best_precision())
            if impl is None:
                return None
        else:
            impl = onnx_mod.OnnxBackend(directory, int8, say)
        return Encoder(spec, model_id, "cpu", impl, meta["preprocess_cfg"], tokenizer, int(meta["dim"]), directory)
    except Exception as exc:  # damaged cache, missing vocabulary, ...: the full path copes
        logging.getLogger(__name__).debug("fast load failed: %s", exc)
        return None


def planned_backend(device: str, backend: str = "auto", quant_verdict: dict[str, Any] | None = None) -> str:
    """The backend name load_encoder would pick on a resolved device, without loading anything."""
    if device != "cpu" or backend == "torch":
        return f"torch-{device}-fp16" if device == "cuda" else f"torch-{device}-fp32"
    kind, int8 = _cpu_plan(backend, "auto", quant_verdict)
    if kind == "openvino":
        return f"openvino-{ov_backend.best_precision()}"
    return "onnx-int8" if "image" in int8 else "onnx-fp32"
