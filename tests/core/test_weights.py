"""Deciding quickly whether model weights can be fetched, and downloading cache-only when not."""

from __future__ import annotations

import socket
import threading

import pytest

from photosearch.core import weights
from photosearch.core.encoder import ModelSpec, load_encoder
from photosearch.core.errors import PhotoSearchError


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)


def test_a_refused_connection_is_a_reason(monkeypatch) -> None:
    def refuse(address, timeout=None):
        raise OSError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", refuse)
    assert weights.hub_unreachable() == "cannot connect to huggingface.co (Connection refused)"


def test_a_connect_that_never_answers_gives_up_after_the_timeout(monkeypatch) -> None:
    release = threading.Event()

    def hang(address, timeout=None):
        release.wait()  # like a DNS lookup that never returns: only the caller's bound ends it
        raise OSError("late")

    monkeypatch.setattr(socket, "create_connection", hang)
    try:
        assert weights.hub_unreachable(timeout=0.2) == "no answer from huggingface.co within 0 s"
    finally:
        release.set()


def test_the_proxy_is_what_gets_checked(monkeypatch) -> None:
    seen = []

    class Ok:
        def close(self) -> None:
            pass

    monkeypatch.setattr(socket, "create_connection", lambda address, timeout=None: seen.append(address) or Ok())
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert weights.hub_unreachable() is None
    assert seen == [("proxy.example", 3128)]


def test_without_network_the_download_runs_cache_only_and_says_why(monkeypatch) -> None:
    import huggingface_hub.constants as hf_constants
    import open_clip

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # online mode: the case the quick check is for
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(weights, "hub_unreachable", lambda timeout=3.0: "cannot connect to huggingface.co (test)")
    modes = []

    def download(cfg, *args, **kwargs):
        modes.append(hf_constants.HF_HUB_OFFLINE)
        raise FileNotFoundError("not in the cache")

    monkeypatch.setattr(open_clip, "download_pretrained", download)
    before = hf_constants.HF_HUB_OFFLINE
    with pytest.raises(PhotoSearchError, match=r"can't be downloaded \(cannot connect to huggingface.co \(test\)\)"):
        load_encoder(ModelSpec("ViT-B-32", "laion2b_s34b_b79k"), device="cpu", backend="torch")
    assert modes == [True]  # no retries against a network that is not there
    assert before == hf_constants.HF_HUB_OFFLINE  # and the mode is not left on for later loads


def test_offline_mode_makes_no_connection_attempt(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(weights, "hub_unreachable", lambda timeout=3.0: pytest.fail("connected while offline"))
    with weights.cache_only_when_unreachable() as reason:
        assert reason is None
