"""Load weights exactly as they were trained: the preprocessing (mean/std, interpolation, resize
mode) and activation (QuickGELU) of the open_clip pretrained tag they come from.

A published tag brings its own config. A local checkpoint file gets its tag from --tag, else
from recognising the file (a Hugging Face repo or OpenAI file name, the sha256 in an OpenAI URL).
When neither says and the architecture's published tags disagree on how they were trained, the
load fails with one line asking for --tag, rather than guessing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photosearch.core.errors import PhotoSearchError
from photosearch.core.models import (
    RANDOM,
    ModelSpec,
    clean_tag,
    existing_file,
    is_checkpoint_path,
    quiet,
    unknown_tag_message,
)

# What a tag's training fixes about the image transform (open_clip's PreprocessCfg field names).
TAG_PREPROCESS_KEYS = ("mean", "std", "interpolation", "resize_mode")


@dataclass(frozen=True)
class Weights:
    """Where the weights are and how they were trained."""

    path: Path | None  # None: seeded random weights
    tag: str | None
    preprocess: dict[str, Any] = field(default_factory=dict)
    quick_gelu: bool = False


def tag_training(cfg: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(preprocess overrides, quick_gelu) that an open_clip pretrained cfg prescribes."""
    preprocess = {k: _plain(cfg[k]) for k in TAG_PREPROCESS_KEYS if cfg.get(k) is not None}
    return preprocess, bool(cfg.get("quick_gelu", False))


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def resolve_weights(name: str, spec: ModelSpec) -> Weights:
    """The weights file (downloading a tag's if allowed) and its training config."""
    import open_clip

    if spec.pretrained == RANDOM:
        if spec.tag:
            preprocess, quick = _tag_cfg(name, spec.tag)
            return Weights(None, spec.tag, preprocess, quick)
        return Weights(None, None)
    if not is_checkpoint_path(spec.pretrained):
        cfg = open_clip.get_pretrained_cfg(name, spec.pretrained)
        if not cfg:
            raise PhotoSearchError(unknown_tag_message(name, spec.pretrained))
        preprocess, quick = tag_training(cfg)
        return Weights(_download(name, spec.pretrained, cfg), clean_tag(spec.pretrained), preprocess, quick)
    path = existing_file(spec.pretrained, "checkpoint")
    recognised = recognise_checkpoint(name, path)
    tag = spec.tag
    if tag:
        _tag_cfg(name, tag)  # a tag the architecture does not have is a one-line error
        if recognised and clean_tag(recognised) != clean_tag(tag):
            raise PhotoSearchError(
                f"The checkpoint {path.name} is {name} '{recognised}' (recognised by its name or hash), not '{tag}'; "
                f"drop --tag or give the right one"
            )
    tag = tag or recognised
    if tag:
        preprocess, quick = _tag_cfg(name, tag)
        return Weights(path, clean_tag(tag), preprocess, quick)
    _require_unambiguous(name, path)
    return Weights(path, None)


def _tag_cfg(name: str, tag: str) -> tuple[dict[str, Any], bool]:
    import open_clip

    cfg = open_clip.get_pretrained_cfg(name, tag)
    if not cfg:
        raise PhotoSearchError(unknown_tag_message(name, tag).replace("(or a checkpoint file path)", "(for --tag)"))
    return tag_training(cfg)


def _require_unambiguous(name: str, path: Path) -> None:
    """An unrecognised file on an architecture whose tags were trained differently: ask for --tag."""
    import open_clip

    tags = open_clip.list_pretrained_tags_by_model(name)
    trainings = {repr(tag_training(open_clip.get_pretrained_cfg(name, t))) for t in tags}
    if len(trainings) > 1:
        raise PhotoSearchError(
            f"Can't tell which {name} weights {path.name} holds, and they were trained with different "
            f"preprocessing or activation; add --tag with one of: {', '.join(tags)}"
        )


def recognise_checkpoint(name: str, path: Path) -> str | None:
    """The open_clip tag of a published checkpoint file, from its path or (OpenAI files) its sha256."""
    import open_clip

    text = str(path.resolve()).lower().replace("--", "/")
    hashed: str | None = None
    for tag in open_clip.list_pretrained_tags_by_model(name):
        cfg = open_clip.get_pretrained_cfg(name, tag)
        repo = str(cfg.get("hf_hub") or "").strip("/").lower()
        if repo and repo in text:
            return tag
        url = str(cfg.get("url") or "")
        parts = url.rstrip("/").split("/")
        if len(parts) >= 2 and len(parts[-2]) == 64 and parts[-1].lower() == path.name.lower():
            hashed = hashed or _sha256(path)
            if hashed == parts[-2]:
                return tag
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(name: str, tag: str, cfg: dict[str, Any]) -> Path:
    import open_clip

    from photosearch.core.weights import cache_only_when_unreachable, not_available_message

    unreachable = None
    try:
        # No network: use the cache or fail now, not after a minute of the hub's retries.
        with quiet(), cache_only_when_unreachable() as unreachable:
            weights = open_clip.download_pretrained(cfg)
    except Exception:  # network, offline mode, HF errors: all mean "not available here"
        weights = ""
    if not weights or not Path(weights).is_file():
        raise PhotoSearchError(not_available_message(name, tag, unreachable))
    return Path(weights)


def preprocess_cfg(name: str, tag: str | None) -> dict[str, Any]:
    """The full image transform config the app uses for an architecture and tag (no weights needed)."""
    import open_clip

    model_cfg = open_clip.get_model_config(name) or {}
    size = model_cfg.get("vision_cfg", {}).get("image_size", 224)
    cfg: dict[str, Any] = {
        "size": size,
        "mode": "RGB",
        "mean": list(open_clip.OPENAI_DATASET_MEAN),
        "std": list(open_clip.OPENAI_DATASET_STD),
        "interpolation": "bicubic",
        "resize_mode": "shortest",
        "fill_color": 0,
    }
    cfg.update({k: _plain(v) for k, v in (model_cfg.get("preprocess_cfg") or {}).items() if k in cfg})
    if tag:
        cfg.update(_tag_cfg(name, tag)[0])
    return cfg
