"""Which CLIP to load: ModelSpec, checkpoint fingerprints and open_clip's model registry.

open_clip is imported only inside the functions that need it, so importing this module (for
ModelSpec, model ids, ...) stays cheap for commands that never touch the model.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import logging
import os
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photosearch.core.errors import PhotoSearchError

DEFAULT_MODEL = "ViT-B-32"
DEFAULT_PRETRAINED = "laion2b_s34b_b79k"
RANDOM = "random"
CHECKPOINT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
_FINGERPRINT_CHUNK = 1 << 20


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


def is_config_path(model: str) -> bool:
    return model.lower().endswith(".json") or Path(model).is_file()


def is_checkpoint_path(pretrained: str) -> bool:
    if pretrained == RANDOM:
        return False
    return (
        pretrained.lower().endswith(CHECKPOINT_SUFFIXES)
        or "/" in pretrained
        or os.sep in pretrained
        or Path(pretrained).is_file()
    )


def clean_tag(tag: str) -> str:
    # Same normalisation as open_clip, so "LAION2B-s34b-b79k" and the canonical tag share a key.
    return tag.lower().replace("-", "_")


@dataclass(frozen=True)
class ModelSpec:
    """Which CLIP to use: an open_clip architecture (or config JSON) plus its weights.

    tag: for a local checkpoint file, the open_clip pretrained tag it holds (its preprocessing
    and activation then follow that tag; part of the model id).
    """

    model: str = DEFAULT_MODEL
    pretrained: str = DEFAULT_PRETRAINED
    tag: str | None = None

    @property
    def model_id(self) -> str:
        """Stable database key: embeddings from different ids must never be mixed."""
        return f"{self._model_part()}/{self._pretrained_part()}"

    def _model_part(self) -> str:
        if not is_config_path(self.model):
            return self.model
        path = existing_file(self.model, "model config")
        return f"{path.stem}-{_sha256_file(path)[:10]}"

    def _pretrained_part(self) -> str:
        if self.pretrained == RANDOM:
            return RANDOM
        if is_checkpoint_path(self.pretrained):
            path = existing_file(self.pretrained, "checkpoint")
            # The tag decides preprocessing, so the same file under another tag is another model.
            tag = f"@{clean_tag(self.tag)}" if self.tag else ""
            return f"{path.name}-{checkpoint_fingerprint(path)}{tag}"
        return clean_tag(self.pretrained)

    def describe(self) -> str:
        """One line for humans, e.g. 'ViT-B-32 with laion2b_s34b_b79k weights'."""
        model = self.model
        if is_config_path(model):
            model = f"{Path(model).stem} (config {model})"
        if self.pretrained == RANDOM:
            weights = "random weights (for testing only)"
        elif is_checkpoint_path(self.pretrained):
            weights = f"weights from {self.pretrained}" + (f" ({self.tag})" if self.tag else "")
        else:
            weights = f"{self.pretrained} weights"
        return f"{model} with {weights}"


def existing_file(path: str, what: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        raise PhotoSearchError(f"The {what} file {path} does not exist")
    return p


# --------------------------------------------------------------------------- helpers


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


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("..." if len(text) > 300 else "")


def set_offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    # huggingface_hub reads the variable once at import time; update the live value too.
    with contextlib.suppress(ImportError):
        import huggingface_hub.constants as hf_constants

        hf_constants.HF_HUB_OFFLINE = True


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- open_clip registry


def register_model(model: str) -> tuple[str, dict[str, Any]]:
    """Return the open_clip model name (registering a config JSON) and its preprocess override."""
    import open_clip

    if not is_config_path(model):
        if model in open_clip.list_models():
            return model, {}
        raise PhotoSearchError(unknown_model_message(model, open_clip.list_models()))
    return _register_config_file(existing_file(model, "model config"))


def unknown_model_message(model: str, known: list[str]) -> str:
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
        atomic_write_text(target, json.dumps(model_cfg, indent=2))
        open_clip.add_model_config(target)
    return name, dict(raw.get("preprocess_cfg", {}))


def unknown_tag_message(name: str, tag: str) -> str:
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


def check_tag(name: str, pretrained: str) -> None:
    """Validate a tag up front, before any (possibly cached) export is looked up."""
    import open_clip

    if pretrained == RANDOM or is_checkpoint_path(pretrained):
        return
    if not open_clip.get_pretrained_cfg(name, pretrained):
        raise PhotoSearchError(unknown_tag_message(name, pretrained))


def embed_dim(name: str) -> int:
    import open_clip

    return int(open_clip.get_model_config(name)["embed_dim"])
