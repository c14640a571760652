"""Can model weights be fetched right now? Decided in seconds, not after a minute of retries.

Without a network, huggingface_hub retries each request with back-off (about a minute before the
model load gives up). A quick TCP connect to the hub (or the configured proxy) tells at once; when it
fails, the download runs in the hub's offline mode, which loads cached weights or fails immediately.

For the published weights the app offers, the decision comes before torch and open_clip are
imported (tens of seconds on a busy machine): their files in the hub cache are looked up by name.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

from photosearch.core.models import RANDOM, ModelSpec, clean_tag, is_checkpoint_path

HUB_URL = "https://huggingface.co"
REACH_TIMEOUT_S = 3.0

# Where open_clip 3.x downloads the presets' weights from (its pretrained cfg's "hf_hub": repo id, then
# a file name or "" for its default file); tests check each entry against open_clip itself.
HUB_FILES: dict[tuple[str, str], str] = {
    ("ViT-B-32", "laion2b_s34b_b79k"): "laion/CLIP-ViT-B-32-laion2B-s34B-b79K/",
    ("ViT-B-16", "laion2b_s34b_b88k"): "laion/CLIP-ViT-B-16-laion2B-s34B-b88K/",
    ("ViT-L-14", "laion2b_s32b_b82k"): "laion/CLIP-ViT-L-14-laion2B-s32B-b82K/",
}
HF_WEIGHTS_NAME = "open_clip_pytorch_model.bin"  # open_clip's default file; its .safetensors twin comes first
HF_SAFE_WEIGHTS_NAME = "open_clip_model.safetensors"


def _target() -> tuple[str, int]:
    """Where a download would connect first: the HTTPS proxy if one is set, else the hub itself."""
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        proxy = os.environ.get(name)
        if proxy:
            parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            if parts.hostname:
                return parts.hostname, parts.port or 8080
    parts = urlsplit(os.environ.get("HF_ENDPOINT") or HUB_URL)
    return parts.hostname or "huggingface.co", parts.port or (80 if parts.scheme == "http" else 443)


def hub_unreachable(timeout: float = REACH_TIMEOUT_S) -> str | None:
    """None when a connection to the hub opens within timeout; else a one-line reason."""
    host, port = _target()
    outcome: dict[str, str | None] = {}

    def attempt() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            outcome["reason"] = None
        except OSError as exc:
            outcome["reason"] = f"cannot connect to {host} ({exc.strerror or type(exc).__name__})"

    # A thread bounds name resolution too, which create_connection's timeout does not cover.
    worker = threading.Thread(target=attempt, name="photosearch-hub-check", daemon=True)
    worker.start()
    worker.join(timeout)
    if "reason" not in outcome:
        return f"no answer from {host} within {timeout:.0f} s"
    return outcome["reason"]


def _offline_already() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    try:
        import huggingface_hub.constants as hf_constants
    except ImportError:
        return False
    return bool(hf_constants.HF_HUB_OFFLINE)


@contextlib.contextmanager
def cache_only_when_unreachable(timeout: float = REACH_TIMEOUT_S) -> Iterator[str | None]:
    """Inside: the hub's offline mode when it cannot be reached (yields the reason), else unchanged."""
    if _offline_already():  # --offline / HF_HUB_OFFLINE: not even a connection attempt
        yield None
        return
    reason = hub_unreachable(timeout)
    if reason is None:
        yield None
        return
    try:
        import huggingface_hub.constants as hf_constants
    except ImportError:
        yield reason
        return
    previous = hf_constants.HF_HUB_OFFLINE
    hf_constants.HF_HUB_OFFLINE = True
    try:
        yield reason
    finally:
        hf_constants.HF_HUB_OFFLINE = previous


def not_available_message(name: str, tag: str, why: str | None) -> str:
    """The one line a load without its weights ends with (the GUI rewords the advice)."""
    because = f" ({why})" if why else ""
    return (
        f"The weights for {name} ({tag}) are not on disk and can't be downloaded{because}; "
        f"use --pretrained PATH --tag {tag} to load a local checkpoint file"
    )


def hub_files(model: str, tag: str) -> tuple[str, list[str]] | None:
    """(repo id, the file names open_clip tries, in order) for a preset's weights; None for others."""
    entry = HUB_FILES.get((model, clean_tag(tag)))
    if entry is None:
        return None
    repo, filename = entry.rstrip("/"), ""
    if not entry.endswith("/"):
        repo, filename = entry.rsplit("/", 1)
    filename = filename or HF_WEIGHTS_NAME
    if filename == HF_WEIGHTS_NAME:
        return repo, [HF_SAFE_WEIGHTS_NAME, filename]
    if filename.endswith((".bin", ".pth")):
        return repo, [filename[:-4] + ".safetensors", filename]
    return repo, [filename]


def weights_cached(model: str, tag: str) -> bool | None:
    """Whether a preset's weights are in the hub cache (no torch, no open_clip); None: can't tell here."""
    files = hub_files(model, tag)
    if files is None:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    repo, names = files
    return any(isinstance(try_to_load_from_cache(repo, name), str) for name in names)


def _exported(spec: ModelSpec) -> bool:
    """A complete ONNX export of this model serves a CPU load without the weights."""
    from photosearch.core.backends.export import model_dir, read_stamp

    return read_stamp(model_dir(spec.model_id), spec.model_id) is not None


def refusal_before_import(spec: ModelSpec) -> str | None:
    """The one-line reason a load cannot get its weights, decided before torch and open_clip are imported.

    Only for the presets' published weights, when they are not in the hub cache, no export of the model
    is on disk, and the hub is unreachable (or offline mode is on). None: the full load decides (and it
    still falls back to the hub's offline mode when the hub cannot be reached).
    """
    if spec.pretrained == RANDOM or is_checkpoint_path(spec.pretrained) or spec.tag:
        return None
    # Cheapest first: the cold start of an exported model reads its stamp anyway.
    if hub_files(spec.model, spec.pretrained) is None or _exported(spec):
        return None
    if weights_cached(spec.model, spec.pretrained) is not False:
        return None
    if _offline_already():
        return not_available_message(spec.model, spec.pretrained, None)
    reason = hub_unreachable()
    return None if reason is None else not_available_message(spec.model, spec.pretrained, reason)

