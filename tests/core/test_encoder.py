"""Encoder loading, weights, preprocessing and normalisation (tiny model, torch backend)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
from open_clip.transform import PreprocessCfg, image_transform_v2
from PIL import Image
from safetensors.torch import save_file

from photosearch.core.encoder import (
    ModelSpec,
    Preprocessor,
    checkpoint_fingerprint,
    load_encoder,
    normalize_rows,
    resolve_device,
    valid_rows,
)
from photosearch.core.errors import PhotoSearchError
from photosearch.core.models import register_model

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_clip.json"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTOSEARCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def tiny_spec() -> ModelSpec:
    return ModelSpec(str(TINY), "random")


def _batch(n: int, seed: int = 0, size: int = 32) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 3, size, size)).astype(np.float32)


def _tiny_name() -> str:
    return register_model(str(TINY))[0]


def _other_tiny_model(seed: int = 1) -> torch.nn.Module:
    """A tiny model with different weights than pretrained='random' gives."""
    torch.manual_seed(seed)
    return open_clip.create_model(_tiny_name()).eval()


def _reference(model: torch.nn.Module, batch: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return normalize_rows(model.encode_image(torch.from_numpy(batch)).numpy())


def _assert_one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message and message
    return message


# --------------------------------------------------------------------------- model ids


def test_model_id_for_tag_and_random() -> None:
    assert ModelSpec().model_id == "ViT-B-32/laion2b_s34b_b79k"
    assert ModelSpec("ViT-B-32", "random").model_id == "ViT-B-32/random"
    # open_clip treats tags case/dash-insensitively, so the key must too
    assert ModelSpec("ViT-B-32", "LAION2B-s34b-b79k").model_id == "ViT-B-32/laion2b_s34b_b79k"


def test_model_id_for_config_json_follows_content(tmp_path) -> None:
    model_part = ModelSpec(str(TINY), "random").model_id.split("/")[0]
    stem, digest = model_part.rsplit("-", 1)
    assert stem == "tiny_clip" and len(digest) == 10
    changed = json.loads(TINY.read_text())
    changed["embed_dim"] = 16
    other = tmp_path / "tiny_clip.json"
    other.write_text(json.dumps(changed))
    assert ModelSpec(str(other), "random").model_id != ModelSpec(str(TINY), "random").model_id


def test_checkpoint_id_is_stable_across_moves_and_sensitive_to_content(tmp_path) -> None:
    data = bytearray(np.random.default_rng(0).bytes(3 << 20))
    first = tmp_path / "a" / "weights.safetensors"
    first.parent.mkdir()
    first.write_bytes(bytes(data))
    moved = tmp_path / "b" / "weights.safetensors"
    moved.parent.mkdir()
    shutil.copy(first, moved)
    spec_a, spec_b = ModelSpec(str(TINY), str(first)), ModelSpec(str(TINY), str(moved))
    assert spec_a.model_id == spec_b.model_id
    assert spec_a.model_id.endswith(f"/weights.safetensors-{checkpoint_fingerprint(first)}")
    data[-1] ^= 0xFF  # the tail is hashed
    moved.write_bytes(bytes(data))
    assert checkpoint_fingerprint(moved) != checkpoint_fingerprint(first)


def test_describe_is_human_readable() -> None:
    assert ModelSpec().describe() == "ViT-B-32 with laion2b_s34b_b79k weights"
    assert "random" in ModelSpec(str(TINY), "random").describe()
    assert "weights from /x/w.pt" in ModelSpec("ViT-B-32", "/x/w.pt").describe()


# --------------------------------------------------------------------------- devices


def test_resolve_device(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    assert resolve_device("CPU") == "cpu"
    with pytest.raises(PhotoSearchError, match="CUDA was requested but no CUDA device"):
        resolve_device("cuda")
    with pytest.raises(PhotoSearchError, match="MPS"):
        resolve_device("mps")
    with pytest.raises(PhotoSearchError, match="Unknown device 'tpu'"):
        resolve_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"


# --------------------------------------------------------------------------- weights


def test_random_weights_are_identical_across_loads_and_keep_global_rng(tiny_spec) -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = load_encoder(tiny_spec, backend="torch")
    assert torch.equal(torch.rand(3), expected_next)  # caller's RNG stream untouched
    second = load_encoder(tiny_spec, backend="torch")
    batch = _batch(4)
    np.testing.assert_array_equal(first.encode_images(batch), second.encode_images(batch))
    assert first.backend == "torch-cpu-fp32" and first.device == "cpu"
    assert (first.dim, first.image_size) == (32, 32)
    assert first.model_id == tiny_spec.model_id


def test_config_json_registers_under_its_model_id(tiny_spec) -> None:
    encoder = load_encoder(tiny_spec, backend="torch")
    name = tiny_spec.model_id.split("/")[0]
    assert name in open_clip.list_models()
    assert encoder.encode_texts(["a cat"]).shape == (1, 32)


def test_safetensors_checkpoint_round_trip(tmp_path) -> None:
    source = _other_tiny_model()
    path = tmp_path / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    encoder = load_encoder(ModelSpec(str(TINY), str(path)), backend="torch")
    batch = _batch(3)
    np.testing.assert_allclose(encoder.encode_images(batch), _reference(source, batch), atol=1e-6)
    random = load_encoder(ModelSpec(str(TINY), "random"), backend="torch")
    assert not np.allclose(random.encode_images(batch), encoder.encode_images(batch), atol=1e-3)


def test_pt_checkpoint_with_wrappers_round_trip(tmp_path) -> None:
    source = _other_tiny_model(seed=2)
    wrapped = {"epoch": 3, "state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}}
    path = tmp_path / "epoch_3.pt"
    torch.save(wrapped, path)
    encoder = load_encoder(ModelSpec(str(TINY), str(path)), backend="torch")
    batch = _batch(2, seed=5)
    np.testing.assert_allclose(encoder.encode_images(batch), _reference(source, batch), atol=1e-6)


EXECUTED: list[str] = []


def _record(tag: str) -> None:
    EXECUTED.append(tag)


class _Payload:
    """Unpickling this object would run _record: weights-only loading must refuse it."""

    def __reduce__(self):
        return (_record, ("unpickled!",))


def test_pickled_objects_are_refused(tmp_path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": _other_tiny_model().state_dict(), "extra": _Payload()}, path)
    EXECUTED.clear()
    with pytest.raises(PhotoSearchError, match=r"Refusing to load evil\.pt") as exc:
        load_encoder(ModelSpec(str(TINY), str(path)), backend="torch")
    _assert_one_line(exc)
    assert EXECUTED == []


def test_checkpoint_for_another_architecture_is_one_line_error(tmp_path) -> None:
    cfg = json.loads(TINY.read_text())
    cfg["embed_dim"] = 16
    other_cfg = tmp_path / "smaller.json"
    other_cfg.write_text(json.dumps(cfg))
    name = register_model(str(other_cfg))[0]
    path = tmp_path / "smaller.safetensors"
    save_file(open_clip.create_model(name).state_dict(), str(path))
    with pytest.raises(PhotoSearchError, match=r"smaller\.safetensors does not fit model tiny_clip"):
        load_encoder(ModelSpec(str(TINY), str(path)), backend="torch")


def test_missing_and_garbage_checkpoints(tmp_path) -> None:
    with pytest.raises(PhotoSearchError, match="does not exist"):
        load_encoder(ModelSpec(str(TINY), str(tmp_path / "nope.pt")), backend="torch")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a safetensors file")
    with pytest.raises(PhotoSearchError, match=r"Can't read checkpoint garbage\.safetensors") as exc:
        load_encoder(ModelSpec(str(TINY), str(garbage)), backend="torch")
    _assert_one_line(exc)


def test_offline_without_weights_names_pretrained_flag(tmp_path, monkeypatch) -> None:
    import huggingface_hub.constants as hf_constants

    # An empty hub cache and offline mode: nothing on disk, no network call attempted.
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(PhotoSearchError) as exc:
        load_encoder(ModelSpec("ViT-B-32", "laion2b_s34b_b79k"), offline=True)
    message = _assert_one_line(exc)
    assert "ViT-B-32 (laion2b_s34b_b79k) are not on disk" in message
    assert "--pretrained PATH" in message


def test_offline_flag_switches_hub_to_offline_mode(monkeypatch, tiny_spec) -> None:
    import huggingface_hub.constants as hf_constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    load_encoder(tiny_spec, backend="torch", offline=True)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert hf_constants.is_offline_mode()


def test_unknown_model_suggests_names() -> None:
    with pytest.raises(PhotoSearchError, match=r"Unknown model 'ViT-B32'.*ViT-B-32") as exc:
        load_encoder(ModelSpec("ViT-B32", "random"), backend="torch")
    _assert_one_line(exc)
    with pytest.raises(PhotoSearchError, match="does not exist"):
        load_encoder(ModelSpec("no/such/config.json", "random"), backend="torch")


def test_config_json_that_is_not_a_model(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(PhotoSearchError, match="not an open_clip model config"):
        load_encoder(ModelSpec(str(bad), "random"), backend="torch")


def test_unknown_tag_lists_valid_tags() -> None:
    with pytest.raises(PhotoSearchError) as exc:
        load_encoder(ModelSpec("ViT-B-32", "laion9000"), backend="torch")
    message = _assert_one_line(exc)
    assert "'laion9000' is not a known pretrained tag for ViT-B-32" in message
    assert "laion2b_s34b_b79k" in message
    with pytest.raises(PhotoSearchError, match="has no published weights"):
        load_encoder(ModelSpec(str(TINY), "laion2b_s34b_b79k"), backend="torch")


def test_bad_options_are_user_errors(tiny_spec) -> None:
    with pytest.raises(PhotoSearchError, match="Unknown backend"):
        load_encoder(tiny_spec, backend="tensorrt")
    with pytest.raises(PhotoSearchError, match="Unknown quantize mode"):
        load_encoder(tiny_spec, quantize="sometimes")


# --------------------------------------------------------------------------- encoding


def test_embeddings_are_unit_rows(tiny_spec) -> None:
    encoder = load_encoder(tiny_spec, backend="torch")
    images = encoder.encode_images(_batch(5))
    texts = encoder.encode_texts(["a dog", "", "word " * 500])  # long text: truncated, no error
    for emb in (images, texts):
        assert emb.dtype == np.float32 and emb.shape[1] == 32
        np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
        assert valid_rows(emb).all()
    assert encoder.encode_images(np.empty((0, 3, 32, 32), np.float32)).shape == (0, 32)
    assert encoder.encode_texts([]).shape == (0, 32)
    with pytest.raises(ValueError):
        encoder.encode_images(_batch(1, size=31))


def test_nan_inputs_give_nan_rows(tiny_spec) -> None:
    encoder = load_encoder(tiny_spec, backend="torch")
    all_nan = np.full((2, 3, 32, 32), np.nan, np.float32)
    out = encoder.encode_images(all_nan)
    assert out.shape == (2, 32) and np.isnan(out).all()
    mixed = _batch(2)
    mixed[0, 1, 3, 3] = np.nan
    assert valid_rows(encoder.encode_images(mixed)).tolist() == [False, True]


def test_normalize_rows_and_valid_rows() -> None:
    raw = np.array([[3.0, 4.0], [0.0, 0.0], [np.inf, 1.0], [1.0, np.nan]], np.float32)
    out = normalize_rows(raw)
    np.testing.assert_allclose(out[0], [0.6, 0.8])
    assert np.isnan(out[1:]).all()
    assert valid_rows(out).tolist() == [True, False, False, False]
    assert valid_rows(np.array([[1.01, 0.0], [0.0, 1.0005]])).tolist() == [False, True]


# --------------------------------------------------------------------------- preprocessing


def _noise_image(width: int, height: int, mode: str = "RGB", seed: int = 0) -> Image.Image:
    channels = 3 if mode == "RGB" else 1
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, channels), np.uint8)
    return Image.fromarray(pixels.squeeze(), mode)


@pytest.mark.parametrize(
    ("width", "height", "mode"),
    [(97, 61, "RGB"), (40, 130, "RGB"), (32, 32, "RGB"), (20, 25, "RGB"), (333, 500, "L")],
)
def test_preprocess_matches_open_clip(tiny_spec, width, height, mode) -> None:
    encoder = load_encoder(tiny_spec, backend="torch")
    theirs = image_transform_v2(PreprocessCfg(**encoder.preprocess_cfg), is_train=False)
    img = _noise_image(width, height, mode)
    ours = encoder.preprocess(img)
    assert ours.shape == (3, 32, 32) and ours.dtype == np.float32
    assert np.abs(ours - theirs(img).numpy()).max() < 1e-5


def test_preprocess_matches_open_clip_at_224_bilinear() -> None:
    cfg = {**PreprocessCfg().__dict__, "size": 224, "interpolation": "bilinear"}
    img = _noise_image(640, 427, seed=3)
    theirs = image_transform_v2(PreprocessCfg(**cfg), is_train=False)(img).numpy()
    assert np.abs(Preprocessor(cfg)(img) - theirs).max() < 1e-5


def test_preprocess_other_resize_modes_give_the_right_shape() -> None:
    for mode in ("squash", "longest"):
        cfg = {**PreprocessCfg().__dict__, "size": 64, "resize_mode": mode}
        assert Preprocessor(cfg)(_noise_image(100, 30)).shape == (3, 64, 64)
