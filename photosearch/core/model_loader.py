"""Build the torch model with the weights a ModelSpec names: a published tag, a local checkpoint
or seeded random weights. torch and open_clip are imported inside the functions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photosearch.core.errors import PhotoSearchError
from photosearch.core.models import CHECKPOINT_SUFFIXES, ModelSpec, is_checkpoint_path, one_line, quiet
from photosearch.core.pretrained import Weights

if TYPE_CHECKING:
    import torch


def build_model(name: str, spec: ModelSpec, pp_override: dict[str, Any], weights: Weights) -> torch.nn.Module:
    """Create the torch model on CPU with the weights the spec asks for, configured as they were
    trained (the tag's preprocessing; QuickGELU where the tag says, even on the plain name)."""
    pp = {**weights.preprocess, **pp_override}
    quick = {"force_quick_gelu": True} if weights.quick_gelu else {}
    if weights.path is None:
        return _create_random(name, pp, **quick)
    if is_checkpoint_path(spec.pretrained):
        return _create_from_checkpoint(name, weights.path, pp, **quick)
    # open_clip loads a file path with weights_only=True / safetensors, so this is safe too.
    return _create(name, pp, pretrained=str(weights.path), **quick)


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
        raise PhotoSearchError(f"Could not build model {name}: {one_line(exc)}") from None
    return model.eval()


def _create_random(name: str, pp_override: dict[str, Any], **kwargs: Any) -> torch.nn.Module:
    import torch

    # Seeded so every run (and every test) gets the same weights; the caller's RNG is restored.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return _create(name, pp_override, **kwargs)


def _create_from_checkpoint(name: str, path: Path, pp_override: dict[str, Any], **kwargs: Any) -> torch.nn.Module:
    state = read_state_dict(path)
    model = _create(name, pp_override, **kwargs)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise PhotoSearchError(f"The checkpoint {path.name} does not fit model {name}: {one_line(exc)}") from None
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
        raise PhotoSearchError(f"Can't read checkpoint {path.name}: {one_line(exc)}") from None
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


def open_clip_tokenizer(name: str) -> Callable[[list[str]], Any]:
    import open_clip

    try:
        with quiet():
            return open_clip.get_tokenizer(name)
    except Exception as exc:
        raise PhotoSearchError(f"Could not load the tokenizer for {name}: {one_line(exc)}") from None


def preprocess_cfg_of(model: torch.nn.Module) -> dict[str, Any]:
    visual = getattr(model, "visual", model)
    return dict(visual.preprocess_cfg)
