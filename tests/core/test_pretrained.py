"""Weights loaded exactly as trained: each tag's preprocessing and QuickGELU, local checkpoints
with --tag, recognised published files, and one-line errors when a file and a tag disagree."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import open_clip
import pytest
import torch
from open_clip.pretrained import _PRETRAINED
from open_clip.transform import PreprocessCfg, merge_preprocess_dict
from safetensors.torch import save_file

from photosearch.core import pretrained
from photosearch.core.encoder import ModelSpec, load_encoder
from photosearch.core.errors import PhotoSearchError
from photosearch.core.models import register_model
from tests.core.onnx_helpers import TINY, _cache  # noqa: F401


def _open_clip_preprocess(name: str, tag: str) -> dict:
    """open_clip's own final image config for (name, tag), as create_model assembles it."""
    model_cfg = open_clip.get_model_config(name)
    cfg = merge_preprocess_dict(PreprocessCfg(), model_cfg.get("preprocess_cfg", {}))
    cfg = merge_preprocess_dict(cfg, open_clip.get_pretrained_cfg(name, tag))
    cfg["size"] = model_cfg["vision_cfg"].get("image_size", 224)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}


@pytest.mark.parametrize(("name", "tag"), open_clip.list_pretrained())
def test_preprocessing_matches_open_clip_for_every_published_pair(name, tag) -> None:
    assert pretrained.preprocess_cfg(name, tag) == _open_clip_preprocess(name, tag)
    _, quick = pretrained.tag_training(open_clip.get_pretrained_cfg(name, tag))
    assert quick == bool(open_clip.get_pretrained_cfg(name, tag).get("quick_gelu", False))


def test_many_pairs_are_not_the_default_transform() -> None:
    def without_size(cfg: dict) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items() if k != "size"}

    default = without_size(asdict(PreprocessCfg()))
    odd = [p for p in open_clip.list_pretrained() if without_size(_open_clip_preprocess(*p)) != default]
    assert len(odd) >= 50  # why a local checkpoint needs its tag (58 of 196 with open_clip 3.3)


@pytest.fixture
def tiny_tag(monkeypatch):
    """A published-looking tag for the tiny model: squash resize, mean/std 0.5, QuickGELU."""
    name = register_model(str(TINY))[0]
    cfg = {"url": "", "hf_hub": "example/tiny-clip-squash/", "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5),
           "interpolation": "bilinear", "resize_mode": "squash", "quick_gelu": True}
    monkeypatch.setitem(_PRETRAINED, name, {"squash_qg": cfg})
    return name


def _checkpoint(path, name: str):
    torch.manual_seed(3)
    save_file(open_clip.create_model(name).state_dict(), str(path))
    return path


def test_a_local_checkpoint_with_tag_uses_the_tags_training(tmp_path, tiny_tag) -> None:
    path = _checkpoint(tmp_path / "weights.safetensors", tiny_tag)
    plain = load_encoder(ModelSpec(str(TINY), str(path)), backend="torch")
    tagged = load_encoder(ModelSpec(str(TINY), str(path), tag="squash_qg"), backend="torch")
    assert plain.preprocess_cfg["mean"] != [0.5, 0.5, 0.5]
    assert tagged.preprocess_cfg["mean"] == [0.5, 0.5, 0.5] and tagged.preprocess_cfg["resize_mode"] == "squash"
    acts = {type(m).__name__ for m in tagged._impl.model.modules()}
    assert "QuickGELU" in acts and "QuickGELU" not in {type(m).__name__ for m in plain._impl.model.modules()}
    assert tagged.model_id != plain.model_id  # other vectors: never mixed with the plain load
    batch = np.random.default_rng(0).normal(size=(2, 3, 32, 32)).astype(np.float32)
    assert not np.allclose(tagged.encode_images(batch), plain.encode_images(batch), atol=1e-4)


def test_a_published_file_is_recognised_by_its_path(tmp_path, tiny_tag) -> None:
    folder = tmp_path / "models--example--tiny-clip-squash" / "snapshots" / "abc"
    folder.mkdir(parents=True)
    path = _checkpoint(folder / "open_clip_model.safetensors", tiny_tag)
    assert pretrained.recognise_checkpoint(tiny_tag, path) == "squash_qg"
    encoder = load_encoder(ModelSpec(str(TINY), str(path)), backend="torch")
    assert encoder.preprocess_cfg["resize_mode"] == "squash"


def test_an_openai_file_is_recognised_by_the_sha256_in_its_url(tmp_path, tiny_tag, monkeypatch) -> None:
    path = _checkpoint(tmp_path / "tiny.pt", tiny_tag)
    digest = pretrained._sha256(path)
    cfg = {"url": f"https://example.invalid/{digest}/tiny.pt", "quick_gelu": True}
    monkeypatch.setitem(_PRETRAINED, tiny_tag, {"openai_like": cfg})
    assert pretrained.recognise_checkpoint(tiny_tag, path) == "openai_like"
    path.write_bytes(path.read_bytes() + b"x")  # same name, other bytes
    assert pretrained.recognise_checkpoint(tiny_tag, path) is None


def test_a_tag_that_disagrees_with_the_file_is_one_line(tmp_path, tiny_tag, monkeypatch) -> None:
    folder = tmp_path / "models--example--tiny-clip-squash" / "snapshots" / "abc"
    folder.mkdir(parents=True)
    path = _checkpoint(folder / "open_clip_model.safetensors", tiny_tag)
    other = {"url": "", "hf_hub": "example/other/"}
    monkeypatch.setitem(_PRETRAINED, tiny_tag, {**_PRETRAINED[tiny_tag], "other": other})
    with pytest.raises(PhotoSearchError, match=r"is tiny_clip.* 'squash_qg'.*not 'other'") as exc:
        load_encoder(ModelSpec(str(TINY), str(path), tag="other"), backend="torch")
    assert "\n" not in str(exc.value)
    with pytest.raises(PhotoSearchError, match=r"'nope' is not a known pretrained tag.*squash_qg"):
        load_encoder(ModelSpec(str(TINY), str(path), tag="nope"), backend="torch")


def test_an_unrecognised_file_on_an_ambiguous_architecture_asks_for_tag(tmp_path) -> None:
    path = tmp_path / "mystery.safetensors"
    path.write_bytes(b"never read: the question comes first")
    with pytest.raises(PhotoSearchError, match=r"Can't tell which ViT-B-32 weights.*--tag.*laion2b_s34b_b79k") as exc:
        load_encoder(ModelSpec("ViT-B-32", str(path)), backend="torch")
    assert "\n" not in str(exc.value)


def test_the_tag_is_remembered_with_the_library(tmp_path, tiny_tag) -> None:
    from photosearch.core.library import Library

    path = _checkpoint(tmp_path / "weights.safetensors", tiny_tag)
    first = Library(tmp_path / "lib", model=str(TINY), pretrained=str(path), tag="squash_qg", backend="torch")
    first._remember_model()
    first.close()
    again = Library(tmp_path / "lib", backend="torch")
    assert again.spec.tag == "squash_qg" and again.model_id == first.model_id
    again.close()


def test_a_cached_export_never_looks_for_the_weights(monkeypatch) -> None:
    from photosearch.core.backends.export import FAST_FILE
    from tests.core.onnx_helpers import SPEC, _export_dir

    load_encoder(SPEC, backend="onnx", quantize="never")
    (_export_dir() / FAST_FILE).unlink()  # the full path, on a complete export

    def no_lookup(*_args):
        raise AssertionError("weights looked up (a hub check, a download) although the export is cached")

    monkeypatch.setattr(pretrained, "resolve_weights", no_lookup)
    assert load_encoder(SPEC, backend="onnx", quantize="never").backend == "onnx-fp32"
