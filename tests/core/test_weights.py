"""Deciding quickly whether model weights can be fetched, and downloading cache-only when not."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import pytest

from photosearch.core import weights
from photosearch.core.encoder import ModelSpec, load_encoder
from photosearch.core.errors import PhotoSearchError
from photosearch.core.models import DEFAULT_MODEL, DEFAULT_PRETRAINED
from photosearch.core.presets import PRESETS


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
    # A published tag no preset uses: its cache can't be looked up before open_clip, so the download decides.
    with pytest.raises(PhotoSearchError, match=r"can't be downloaded \(cannot connect to huggingface.co \(test\)\)"):
        load_encoder(ModelSpec("ViT-B-32", "openai"), device="cpu", backend="torch")
    assert modes == [True]  # no retries against a network that is not there
    assert before == hf_constants.HF_HUB_OFFLINE  # and the mode is not left on for later loads


def test_offline_mode_makes_no_connection_attempt(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(weights, "hub_unreachable", lambda timeout=3.0: pytest.fail("connected while offline"))
    with weights.cache_only_when_unreachable() as reason:
        assert reason is None


# -- the decision before torch and open_clip are imported ------------------------------------------
DEFAULT = ModelSpec(DEFAULT_MODEL, DEFAULT_PRETRAINED)


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch) -> Path:
    import huggingface_hub.constants as hf_constants

    hub = tmp_path / "hf" / "hub"
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("PHOTOSEARCH_CACHE", str(tmp_path / "cache"))  # no ONNX export of any model
    return hub


def _cache_file(hub: Path, repo: str, name: str) -> Path:
    """A file laid out as huggingface_hub caches a download (refs/main -> snapshots/<sha>/name)."""
    folder = hub / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text("0" * 40)
    path = folder / "snapshots" / ("0" * 40) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"weights")
    return path


def test_every_preset_and_the_default_has_its_hub_files_as_open_clip_names_them() -> None:
    import open_clip
    from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

    pairs = {(p.model, p.pretrained) for p in PRESETS} | {(DEFAULT_MODEL, DEFAULT_PRETRAINED)}
    for model, tag in pairs:
        assert weights.HUB_FILES[(model, tag)] == open_clip.get_pretrained_cfg(model, tag)["hf_hub"]
    assert (weights.HF_WEIGHTS_NAME, weights.HF_SAFE_WEIGHTS_NAME) == (HF_WEIGHTS_NAME, HF_SAFE_WEIGHTS_NAME)
    assert weights.hub_files("ViT-B-32", "LAION2B-s34b-b79k") == (
        "laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
        ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"],
    )
    assert weights.hub_files("ViT-B-32", "openai") is None


def test_the_cache_lookup_finds_what_open_clip_then_loads_offline(empty_hub_cache, monkeypatch) -> None:
    import huggingface_hub.constants as hf_constants
    import open_clip

    assert weights.weights_cached(DEFAULT_MODEL, DEFAULT_PRETRAINED) is False
    repo, names = weights.hub_files(DEFAULT_MODEL, DEFAULT_PRETRAINED)
    cached = _cache_file(empty_hub_cache, repo, names[-1])  # the .bin only: the fallback is found too
    assert weights.weights_cached(DEFAULT_MODEL, DEFAULT_PRETRAINED) is True
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    found = open_clip.download_pretrained(open_clip.get_pretrained_cfg(DEFAULT_MODEL, DEFAULT_PRETRAINED))
    assert Path(found).resolve() == cached.resolve()


def test_not_cached_and_unreachable_is_refused_with_the_reason(empty_hub_cache, monkeypatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(weights, "_offline_already", lambda: False)
    why = "cannot connect to huggingface.co (test)"
    monkeypatch.setattr(weights, "hub_unreachable", lambda timeout=3.0: why)
    refusal = weights.refusal_before_import(DEFAULT)
    assert refusal == weights.not_available_message(DEFAULT_MODEL, DEFAULT_PRETRAINED, why)
    assert "can't be downloaded (cannot connect to huggingface.co (test))" in refusal
    monkeypatch.setattr(weights, "hub_unreachable", lambda timeout=3.0: None)
    assert weights.refusal_before_import(DEFAULT) is None  # reachable: the download goes ahead


def test_offline_mode_refuses_without_a_connection_attempt(empty_hub_cache, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(weights, "hub_unreachable", lambda timeout=3.0: pytest.fail("connected while offline"))
    assert "are not on disk and can't be downloaded;" in weights.refusal_before_import(DEFAULT)


def test_what_is_on_disk_or_not_a_preset_goes_to_the_full_load(empty_hub_cache, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    checkpoint = tmp_path / "mine.safetensors"
    checkpoint.write_bytes(b"x")
    for spec in (
        ModelSpec(DEFAULT_MODEL, "random"),
        ModelSpec(DEFAULT_MODEL, str(checkpoint)),
        ModelSpec(DEFAULT_MODEL, "openai"),  # published, but not a preset: open_clip decides
        ModelSpec("ViT-B32", DEFAULT_PRETRAINED),  # a typo: the full load suggests the name
    ):
        assert weights.refusal_before_import(spec) is None, spec
    repo, names = weights.hub_files(DEFAULT_MODEL, DEFAULT_PRETRAINED)
    _cache_file(empty_hub_cache, repo, names[0])
    assert weights.refusal_before_import(DEFAULT) is None


def test_a_complete_export_needs_no_weights(empty_hub_cache, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(weights, "_exported", lambda spec: spec == DEFAULT)
    assert weights.refusal_before_import(DEFAULT) is None


def test_load_encoder_refuses_before_importing_torch_or_open_clip(tmp_path) -> None:
    import subprocess

    script = (
        "import sys\n"
        "from photosearch.core.encoder import ModelSpec, load_encoder\n"
        "from photosearch.core.errors import PhotoSearchError\n"
        "try:\n"
        "    load_encoder(ModelSpec())\n"
        "except PhotoSearchError as exc:\n"
        "    print(exc)\n"
        "print('torch' in sys.modules, 'open_clip' in sys.modules)\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.upper().endswith("_PROXY")}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"), PHOTOSEARCH_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    lines = proc.stdout.strip().splitlines()
    assert "are not on disk and can't be downloaded" in lines[0], proc.stderr
    assert lines[-1] == "False False"
