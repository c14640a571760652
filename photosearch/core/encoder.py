"""CLIP image/text encoder: model loading, preprocessing and backends (torch, ONNX Runtime).

torch and open_clip are imported lazily so that importing this module (for ModelSpec,
valid_rows, ...) stays cheap for CLI commands that never touch the model.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import importlib.util
import json
import logging
import os
import re
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from PIL import Image

from photosearch.core.errors import PhotoSearchError

if TYPE_CHECKING:
    import torch

DEFAULT_MODEL = "ViT-B-32"
DEFAULT_PRETRAINED = "laion2b_s34b_b79k"
RANDOM = "random"
CHECKPOINT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
QUANTIZE_MODES = ("auto", "always", "never")
# Chosen by measurement on a 2-core CPU (ViT-B-32, ORT int8): larger batches gained nothing
# while making progress coarser; GPUs need big batches to be busy.
CPU_BATCH_SIZE = 16
GPU_BATCH_SIZE = 64
_FINGERPRINT_CHUNK = 1 << 20

Progress = Callable[[str], None]


def _no_progress(_: str) -> None:
    pass


# --------------------------------------------------------------------------- model spec


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checkpoint_fingerprint(path: str | os.PathLike[str]) -> str:
    """12 hex of sha256(first MiB + last MiB + size): cheap for GB files, unchanged by moves."""
    p = Path(path)
    size = p.stat().st_size
    digest = hashlib.sha256()
    with p.open("rb") as f:
        digest.update(f.read(_FINGERPRINT_CHUNK))
        if size > _FINGERPRINT_CHUNK:
            f.seek(max(size - _FINGERPRINT_CHUNK, _FINGERPRINT_CHUNK))
            digest.update(f.read(_FINGERPRINT_CHUNK))
    digest.update(str(size).encode())
    return digest.hexdigest()[:12]


def _is_config_path(model: str) -> bool:
    return model.lower().endswith(".json") or Path(model).is_file()


def _is_checkpoint_path(pretrained: str) -> bool:
    if pretrained == RANDOM:
        return False
    return (
        pretrained.lower().endswith(CHECKPOINT_SUFFIXES)
        or "/" in pretrained
        or os.sep in pretrained
        or Path(pretrained).is_file()
    )


def _clean_tag(tag: str) -> str:
    # Same normalisation as open_clip, so "LAION2B-s34b-b79k" and the canonical tag share a key.
    return tag.lower().replace("-", "_")


@dataclass(frozen=True)
class ModelSpec:
    """Which CLIP to use: an open_clip architecture (or config JSON) plus its weights."""

    model: str = DEFAULT_MODEL
    pretrained: str = DEFAULT_PRETRAINED

    @property
    def model_id(self) -> str:
        """Stable database key: embeddings from different ids must never be mixed."""
        return f"{self._model_part()}/{self._pretrained_part()}"

    def _model_part(self) -> str:
        if not _is_config_path(self.model):
            return self.model
        path = _existing_file(self.model, "model config")
        return f"{path.stem}-{_sha256_file(path)[:10]}"

    def _pretrained_part(self) -> str:
        if self.pretrained == RANDOM:
            return RANDOM
        if _is_checkpoint_path(self.pretrained):
            path = _existing_file(self.pretrained, "checkpoint")
            return f"{path.name}-{checkpoint_fingerprint(path)}"
        return _clean_tag(self.pretrained)

    def describe(self) -> str:
        """One line for humans, e.g. 'ViT-B-32 with laion2b_s34b_b79k weights'."""
        model = self.model
        if _is_config_path(model):
            model = f"{Path(model).stem} (config {model})"
        if self.pretrained == RANDOM:
            weights = "random weights (for testing only)"
        elif _is_checkpoint_path(self.pretrained):
            weights = f"weights from {self.pretrained}"
        else:
            weights = f"{self.pretrained} weights"
        return f"{model} with {weights}"


def _existing_file(path: str, what: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        raise PhotoSearchError(f"The {what} file {path} does not exist")
    return p


# --------------------------------------------------------------------------- devices, rows


def resolve_device(name: str) -> str:
    """'auto' picks cuda, then mps, then cpu; an explicit device must be available.

    "cpu", and "auto" on a machine that cannot have a GPU, never import torch (seconds of
    start-up, during which the import holds the GIL).
    """
    wanted = name.strip().lower()
    if wanted == "cpu":
        return "cpu"
    if wanted == "auto" and "torch" not in sys.modules and not _gpu_possible():
        return "cpu"
    import torch

    cuda_ok = torch.cuda.is_available()
    mps_ok = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if wanted == "auto":
        return "cuda" if cuda_ok else "mps" if mps_ok else "cpu"
    if wanted == "cuda":
        if not cuda_ok:
            raise PhotoSearchError("CUDA was requested but no CUDA device is available; use --device cpu or auto")
        return "cuda"
    if wanted == "mps":
        if not mps_ok:
            raise PhotoSearchError("MPS (Apple GPU) was requested but is not available; use --device cpu or auto")
        return "mps"
    raise PhotoSearchError(f"Unknown device '{name}'; choose auto, cpu, cuda or mps")


def _gpu_possible() -> bool:
    """False only when torch could not find a CUDA/ROCm (or MPS) device here; cheap, no torch.

    macOS always says True (MPS is up to torch). Elsewhere a GPU needs a driver: NVIDIA's
    (its /proc entry, or libcuda / nvcuda.dll, which is also how WSL exposes it) or AMD ROCm's
    /dev/kfd. A torch build without CUDA and HIP cannot use one either way.
    """
    if sys.platform == "darwin":
        return True
    if os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/kfd"):
        return True
    if _torch_build_has_no_gpu():
        return False
    import ctypes.util  # runs ldconfig on Linux: only when the cheaper checks can't tell

    return ctypes.util.find_library("nvcuda" if sys.platform == "win32" else "cuda") is not None


def _torch_build_has_no_gpu() -> bool:
    """True for a CPU-only torch build, read from torch/version.py as text (no import)."""
    try:
        spec = importlib.util.find_spec("torch")
        folders = list(spec.submodule_search_locations or []) if spec else []
        text = (Path(folders[0]) / "version.py").read_text(encoding="utf-8")
    except (ImportError, ValueError, IndexError, OSError):
        return False
    return _version_file_says_cpu_only(text)


def _version_file_says_cpu_only(text: str) -> bool:
    """torch/version.py of a build without CUDA and without HIP (ROCm) says cuda = hip = None."""
    found = dict(re.findall(r"^(cuda|hip)\b[^=\n]*=\s*(.+?)\s*$", text, flags=re.MULTILINE))
    return found.get("cuda") == "None" and found.get("hip") == "None"


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


# --------------------------------------------------------------------------- preprocessing


class Preprocessor:
    """open_clip's eval transform (resize, center crop, normalise) in PIL + numpy.

    Avoids torch per image so decode threads can run it concurrently; PIL releases
    the GIL while resizing.
    """

    def __init__(self, cfg: dict[str, Any]) -> None:
        size = cfg.get("size", 224)
        self.height, self.width = (size, size) if isinstance(size, int) else tuple(size)
        self.resize_mode = cfg.get("resize_mode", "shortest")
        self.fill = int(cfg.get("fill_color", 0))
        bilinear = cfg.get("interpolation") == "bilinear"
        self.resample = Image.Resampling.BILINEAR if bilinear else Image.Resampling.BICUBIC
        mean = np.asarray(cfg.get("mean"), dtype=np.float32).reshape(1, 1, -1)
        std = np.asarray(cfg.get("std"), dtype=np.float32).reshape(1, 1, -1)
        self._scale = 1.0 / (255.0 * std)
        self._offset = mean / std

    def __call__(self, img: Image.Image) -> np.ndarray:
        img = img if img.mode == "RGB" else img.convert("RGB")
        if self.resize_mode == "squash":
            img = img.resize((self.width, self.height), self.resample)
        elif self.resize_mode == "longest":
            img = self._fit_inside(img)
        else:
            img = self._center_crop(self._resize_shortest(img))
        pixels = np.asarray(img, dtype=np.float32)
        return np.ascontiguousarray((pixels * self._scale - self._offset).transpose(2, 0, 1))

    def _resize_shortest(self, img: Image.Image) -> Image.Image:
        w, h = img.size
        if self.width == self.height:
            # Same arithmetic as torchvision's Resize(int): the long side is truncated.
            short, long = (w, h) if w <= h else (h, w)
            new_long = int(self.width * long / short)
            size = (self.width, new_long) if w <= h else (new_long, self.width)
        else:
            scale = max(self.width / w, self.height / h)
            size = (max(self.width, round(w * scale)), max(self.height, round(h * scale)))
        return img if size == img.size else img.resize(size, self.resample)

    def _center_crop(self, img: Image.Image) -> Image.Image:
        w, h = img.size
        top = round((h - self.height) / 2.0)
        left = round((w - self.width) / 2.0)
        return img.crop((left, top, left + self.width, top + self.height))

    def _fit_inside(self, img: Image.Image) -> Image.Image:
        w, h = img.size
        scale = min(self.width / w, self.height / h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        canvas = Image.new("RGB", (self.width, self.height), (self.fill,) * 3)
        offset = ((self.width - size[0]) // 2, (self.height - size[1]) // 2)
        canvas.paste(img.resize(size, self.resample), offset)
        return canvas


# --------------------------------------------------------------------------- backends


class Backend(Protocol):
    """Runs the two towers; returns raw (unnormalised) float32 embeddings."""

    name: str
    quant_check: dict[str, Any] | None

    def encode_images(self, batch: np.ndarray) -> np.ndarray: ...

    def encode_texts(self, tokens: np.ndarray) -> np.ndarray: ...


class TorchBackend:
    """PyTorch on cpu/mps in fp32, or cuda in fp16 (outputs cast back to float32)."""

    quant_check: dict[str, Any] | None = None

    def __init__(self, model: torch.nn.Module, device: str) -> None:
        import torch

        self._torch = torch
        self.dtype = torch.float16 if device == "cuda" else torch.float32
        self.name = "torch-fp16" if device == "cuda" else "torch"
        self.device = device
        self.model = model.to(device=device, dtype=self.dtype).eval()

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        x = self._torch.from_numpy(batch).to(self.device, self.dtype)
        with self._torch.inference_mode():
            return self.model.encode_image(x).float().cpu().numpy()

    def encode_texts(self, tokens: np.ndarray) -> np.ndarray:
        t = self._torch.from_numpy(tokens).to(self.device)
        with self._torch.inference_mode():
            return self.model.encode_text(t).float().cpu().numpy()


# --------------------------------------------------------------------------- encoder


class Encoder:
    """Turns preprocessed images and texts into unit-length CLIP embeddings.

    encode_images/encode_texts return float32 [N, dim]. A row whose model output is not
    finite or has zero norm (e.g. a NaN input) is returned as all-NaN so the caller can
    drop it with `valid_rows`; it never raises for bad pixel values.
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
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return self._impl.name

    @property
    def quant_check(self) -> dict[str, Any] | None:
        return self._impl.quant_check

    @property
    def text_quant_check(self) -> dict[str, Any] | None:
        return getattr(self._impl, "text_quant_check", None)

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


# --------------------------------------------------------------------------- loading


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence open_clip's root-logger warnings and library warnings while loading."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


def _set_offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    # huggingface_hub reads the variable once at import time; update the live value too.
    with contextlib.suppress(ImportError):
        import huggingface_hub.constants as hf_constants

        hf_constants.HF_HUB_OFFLINE = True


def _register_model(model: str) -> tuple[str, dict[str, Any]]:
    """Return the open_clip model name (registering a config JSON) and its preprocess override."""
    import open_clip

    if not _is_config_path(model):
        if model in open_clip.list_models():
            return model, {}
        raise PhotoSearchError(_unknown_model_message(model, open_clip.list_models()))
    return _register_config_file(_existing_file(model, "model config"))


def _unknown_model_message(model: str, known: list[str]) -> str:
    close = difflib.get_close_matches(model, known, n=4, cutoff=0.6)
    hints = close or [m for m in ("ViT-B-32", "ViT-B-16", "ViT-L-14") if m in known]
    return (
        f"Unknown model '{model}'; try {', '.join(hints)} "
        f"(or a model-config .json path; {len(known)} architectures are known)"
    )


def _register_config_file(path: Path) -> tuple[str, dict[str, Any]]:
    """Register a copy named '<stem>-<hash>' so it can never shadow a built-in config."""
    import open_clip

    from photosearch.core.paths import cache_dir

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PhotoSearchError(f"Can't read model config {path}: {exc}") from None
    # Hugging Face style open_clip_config.json wraps the model config.
    model_cfg = raw.get("model_cfg", raw) if isinstance(raw, dict) else None
    if not isinstance(model_cfg, dict) or not {"embed_dim", "vision_cfg", "text_cfg"} <= set(model_cfg):
        raise PhotoSearchError(f"{path} is not an open_clip model config (needs embed_dim, vision_cfg and text_cfg)")
    name = ModelSpec(model=str(path))._model_part()
    if name not in open_clip.list_models():
        target = cache_dir() / "configs" / f"{name}.json"
        _atomic_write_text(target, json.dumps(model_cfg, indent=2))
        open_clip.add_model_config(target)
    return name, dict(raw.get("preprocess_cfg", {}))


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _build_model(name: str, spec: ModelSpec, pp_override: dict[str, Any]) -> torch.nn.Module:
    """Create the torch model on CPU with the weights the spec asks for."""
    if spec.pretrained == RANDOM:
        return _create_random(name, pp_override)
    if _is_checkpoint_path(spec.pretrained):
        return _create_from_checkpoint(name, _existing_file(spec.pretrained, "checkpoint"), pp_override)
    return _create_from_tag(name, spec, pp_override)


def _create(name: str, pp_override: dict[str, Any], **kwargs: Any) -> torch.nn.Module:
    import open_clip

    try:
        with quiet():
            model = open_clip.create_model(
                name, force_preprocess_cfg=pp_override or None, pretrained_text=False, **kwargs
            )
    except PhotoSearchError:
        raise
    except Exception as exc:  # open_clip raises assorted types; the user needs one line
        raise PhotoSearchError(f"Could not build model {name}: {_one_line(exc)}") from None
    return model.eval()


def _create_random(name: str, pp_override: dict[str, Any]) -> torch.nn.Module:
    import torch

    # Seeded so every run (and every test) gets the same weights; the caller's RNG is restored.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return _create(name, pp_override)


def _create_from_tag(name: str, spec: ModelSpec, pp_override: dict[str, Any]) -> torch.nn.Module:
    import open_clip

    tag = spec.pretrained
    cfg = open_clip.get_pretrained_cfg(name, tag)
    if not cfg:
        raise PhotoSearchError(_unknown_tag_message(name, tag))
    from photosearch.core.weights import cache_only_when_unreachable

    unreachable = None
    try:
        # No network: use the cache or fail now, not after a minute of the hub's retries.
        with quiet(), cache_only_when_unreachable() as unreachable:
            weights = open_clip.download_pretrained(cfg)
    except Exception:  # network, offline mode, HF errors: all mean "not available here"
        weights = ""
    if not weights or not Path(weights).is_file():
        why = f" ({unreachable})" if unreachable else ""
        raise PhotoSearchError(
            f"The weights for {name} ({tag}) are not on disk and can't be downloaded{why}; "
            f"use --pretrained PATH to load a local checkpoint file"
        )
    tag_pp = {k: cfg[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in cfg}
    # open_clip loads a file path with weights_only=True / safetensors, so this is safe too.
    # Tags trained with QuickGELU (e.g. openai) need it even on the plain architecture name.
    quick_gelu = bool(cfg.get("quick_gelu", False))
    return _create(name, {**tag_pp, **pp_override}, pretrained=weights, force_quick_gelu=quick_gelu)


def _unknown_tag_message(name: str, tag: str) -> str:
    import open_clip

    tags = open_clip.list_pretrained_tags_by_model(name)
    if not tags:
        return (
            f"'{tag}' is not a known pretrained tag: {name} has no published weights; "
            f"use --pretrained PATH (a checkpoint file) or random"
        )
    return (
        f"'{tag}' is not a known pretrained tag for {name}; valid tags: {', '.join(tags)} (or a checkpoint file path)"
    )


def _create_from_checkpoint(name: str, path: Path, pp_override: dict[str, Any]) -> torch.nn.Module:
    state = read_state_dict(path)
    model = _create(name, pp_override)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise PhotoSearchError(f"The checkpoint {path.name} does not fit model {name}: {_one_line(exc)}") from None
    return model


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Load tensors only: never unpickle arbitrary objects from a user-supplied file."""
    import torch

    suffix = path.suffix.lower()
    if suffix not in CHECKPOINT_SUFFIXES:
        raise PhotoSearchError(f"Unsupported checkpoint type {path.name}; use one of {', '.join(CHECKPOINT_SUFFIXES)}")
    try:
        if suffix == ".safetensors":
            from safetensors.torch import load_file

            obj: Any = load_file(str(path), device="cpu")
        else:
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise PhotoSearchError(
                f"Refusing to load {path.name}: it contains Python objects, not just weights "
                f"(convert it to .safetensors)"
            ) from None
        raise PhotoSearchError(f"Can't read checkpoint {path.name}: {_one_line(exc)}") from None
    return _unwrap_state_dict(obj, path)


def _unwrap_state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    import torch

    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not obj:
        raise PhotoSearchError(f"{path.name} does not contain a model state dict")
    tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise PhotoSearchError(f"{path.name} does not contain any weight tensors")
    # DataParallel / DDP checkpoints prefix every key with "module."
    if all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module.") :]: v for k, v in tensors.items()}
    return tensors


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("..." if len(text) > 300 else "")


def _embed_dim(name: str) -> int:
    import open_clip

    return int(open_clip.get_model_config(name)["embed_dim"])


def _tokenizer(name: str) -> Callable[[list[str]], Any]:
    import open_clip

    try:
        with quiet():
            return open_clip.get_tokenizer(name)
    except Exception as exc:
        raise PhotoSearchError(f"Could not load the tokenizer for {name}: {_one_line(exc)}") from None


def _check_choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise PhotoSearchError(f"Unknown {what} '{value}'; choose {', '.join(allowed)}")
    return value


def load_encoder(
    spec: ModelSpec,
    device: str = "auto",
    backend: str = "auto",
    offline: bool = False,
    quantize: str = "auto",
    calibration_images: list[Image.Image] | None = None,
    progress: Progress | None = None,
) -> Encoder:
    """Load a CLIP encoder. On CPU the default backend is ONNX Runtime (int8 if it checks out).

    backend: "auto", "torch" (force PyTorch) or "onnx" (CPU only).
    quantize: "auto" (int8 when its self-check passes), "always" or "never".
    All user mistakes (unknown model or tag, missing weights, bad checkpoint) raise
    PhotoSearchError with a one-line message.
    """
    say = progress or _no_progress
    _check_choice(backend, ("auto", "torch", "onnx"), "backend")
    _check_choice(quantize, QUANTIZE_MODES, "quantize mode")
    if offline:
        _set_offline()
    dev = resolve_device(device)
    if backend == "onnx" and dev != "cpu":
        raise PhotoSearchError("The ONNX backend runs on the CPU only; use --device cpu")
    if dev == "cpu" and backend in ("auto", "onnx"):
        fast = _load_cached_onnx(spec, quantize, say)
        if fast is not None:
            _calibrate(fast, calibration_images)
            return fast
    name, pp_override = _register_model(spec.model)
    model_id = spec.model_id
    _check_tag(name, spec.pretrained)
    tokenizer = _tokenizer(name)
    built: list[torch.nn.Module] = []  # the torch model, built at most once

    def build() -> torch.nn.Module:
        if not built:
            say(f"Loading {spec.describe()}")
            built.append(_build_model(name, spec, pp_override))
        return built[0]

    if dev == "cpu" and backend in ("auto", "onnx"):
        encoder = _load_onnx(spec, model_id, build, tokenizer, quantize, say, backend)
        if encoder is not None:
            _calibrate(encoder, calibration_images)
            return encoder
    model = build()
    impl = TorchBackend(model, dev)
    say(f"Using PyTorch ({impl.name}) on {dev}")
    return Encoder(spec, model_id, dev, impl, _preprocess_cfg(model), tokenizer, _embed_dim(name))


def _check_tag(name: str, pretrained: str) -> None:
    """Validate a tag up front, before any (possibly cached) export is looked up."""
    import open_clip

    if pretrained == RANDOM or _is_checkpoint_path(pretrained):
        return
    if not open_clip.get_pretrained_cfg(name, pretrained):
        raise PhotoSearchError(_unknown_tag_message(name, pretrained))


def _preprocess_cfg(model: torch.nn.Module) -> dict[str, Any]:
    visual = getattr(model, "visual", model)
    return dict(visual.preprocess_cfg)


def _load_onnx(
    spec: ModelSpec,
    model_id: str,
    build: Callable[[], torch.nn.Module],
    tokenizer: Callable[[list[str]], Any],
    quantize: str,
    say: Progress,
    backend: str,
) -> Encoder | None:
    """ONNX Runtime encoder, exporting once per model_id; None means 'fall back to torch'."""
    from photosearch.core import onnx_backend

    probe = np.asarray(tokenizer(list(onnx_backend.TEXT_PROBE)), dtype=np.int64)
    try:
        impl, meta = onnx_backend.open_backend(model_id, build, probe, quantize, say)
    except PhotoSearchError:
        raise
    except Exception as exc:
        if backend == "onnx":
            raise PhotoSearchError(f"ONNX export failed: {_one_line(exc)}") from None
        say(f"ONNX export failed ({_one_line(exc)}); using PyTorch instead")
        return None
    if onnx_backend.read_fast_info(impl.directory, model_id) is None:  # first load of this export
        onnx_backend.write_fast_info(impl.directory, model_id, _tokenizer_info(tokenizer))
    return Encoder(spec, model_id, "cpu", impl, meta["preprocess_cfg"], tokenizer, meta["dim"])


def _load_cached_onnx(spec: ModelSpec, quantize: str, say: Progress) -> Encoder | None:
    """The cold-start path: a cached export on ONNX Runtime without importing torch or open_clip.

    Taken when the export for this model id is complete and current, was opened by the full
    path before (which recorded the tokenizer in fastload.json), its tokenizer is CLIP's BPE
    and every file the backend opens is already there (no int8 copy to make). The model was
    validated when it was exported: the model id pins the config file's content, the
    checkpoint's fingerprint or the weights tag. None means 'take the full path'.
    """
    try:
        model_id = spec.model_id
    except PhotoSearchError:
        return None  # the full path reports it
    from photosearch.core import onnx_backend

    directory = onnx_backend.model_dir(model_id)
    found = onnx_backend.read_fast_info(directory, model_id)
    if found is None:
        return None
    meta, tokenizer_info = found
    if tokenizer_info.get("kind") != "clip-bpe" or not onnx_backend.cached_towers_ready(directory, quantize):
        return None
    try:
        from photosearch.core.tokenizer import ClipTokenizer

        tokenizer = ClipTokenizer(int(tokenizer_info["context_length"]))
        probe = tokenizer(list(onnx_backend.TEXT_PROBE))
        impl = onnx_backend.OnnxBackend(directory, quantize, probe, say)
        return Encoder(spec, model_id, "cpu", impl, meta["preprocess_cfg"], tokenizer, int(meta["dim"]))
    except Exception as exc:  # damaged cache, missing vocabulary, ...: the full path copes
        logging.getLogger(__name__).debug("fast ONNX load failed: %s", exc)
        return None


# Texts whose token ids must match open_clip's before the fast path may use our tokenizer.
_TOKENIZER_CHECK = (
    "",
    "A Photo of a DOG &amp; a cat, at 5:30pm!!",
    "naïve café — “quotes” ＦＵＬＬＷＩＤＴＨ 😀🐶 日本語のテキスト",
    "don't we'll they've I'M <end_of_text> x²",
    "word " * 100,
)


def _tokenizer_info(tokenizer: Any) -> dict[str, Any]:
    """{"kind": "clip-bpe", ...} when photosearch's own tokenizer gives this model's ids."""
    try:
        import open_clip.tokenizer as oc_tok

        from photosearch.core.onnx_backend import TEXT_PROBE
        from photosearch.core.tokenizer import ClipTokenizer

        simple = (
            type(tokenizer) is oc_tok.SimpleTokenizer
            and tokenizer.reduction_fn is None
            and tokenizer.clean_fn is oc_tok.get_clean_fn("lower")
        )
        if simple:
            ours = ClipTokenizer(int(tokenizer.context_length))
            texts = [*TEXT_PROBE, *_TOKENIZER_CHECK]
            if np.array_equal(ours(texts), np.asarray(tokenizer(texts), dtype=np.int64)):
                return {"kind": "clip-bpe", "context_length": ours.context_length}
    except Exception as exc:  # no fast path, nothing worse
        logging.getLogger(__name__).debug("tokenizer check failed: %s", exc)
    return {"kind": "open_clip"}


def _calibrate(encoder: Encoder, images: list[Image.Image] | None) -> None:
    """Run the int8 self-check now on the user's own photos, when we were given some."""
    check = getattr(encoder._impl, "calibrate", None)
    if not images or check is None:
        return
    batch = np.stack([encoder.preprocess(img) for img in images])
    check(batch)
