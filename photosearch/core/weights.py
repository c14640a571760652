"""Can model weights be fetched right now? Decided in seconds, not after a minute of retries.

Without a network, huggingface_hub retries each request with back-off (about a minute before the
model load gives up). A quick TCP connect to the hub (or the configured proxy) tells at once; when it
fails, the download runs in the hub's offline mode, which loads cached weights or fails immediately.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

HUB_URL = "https://huggingface.co"
REACH_TIMEOUT_S = 3.0


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
