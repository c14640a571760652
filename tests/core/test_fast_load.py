"""The cold-start path: a cached ONNX export loads without torch or open_clip (tiny model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photosearch.core import encoder as enc_mod
from photosearch.core import onnx_backend
from photosearch.core.encoder import load_encoder
from tests.core.onnx_helpers import SPEC, TINY, _batch, _cache, _count_calls, _export_dir, _photos  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["a cat", "two dogs on a beach at sunset", "word " * 300, "", "😀 &amp; café"]


def _fast_calls(monkeypatch) -> list[bool]:
    """Records, per load_encoder call, whether the fast path produced the encoder."""
    taken: list[bool] = []
    original = enc_mod._load_cached_onnx

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(enc_mod, "_load_cached_onnx", spy)
    return taken


_CHILD = r"""
import json, sys
import numpy as np
from PIL import Image
from photosearch.core.encoder import ModelSpec, load_encoder
args = json.loads(sys.argv[1])
enc = load_encoder(ModelSpec(args["model"], "random"), device=args["device"], quantize=args["quantize"])
texts = enc.encode_texts(args["texts"])
images = enc.encode_images(np.load(args["batch"]))
photo = enc.preprocess(Image.new("RGB", (50, 40), (200, 30, 90)))
loaded = [m for m in ("torch", "open_clip", "torchvision") if m in sys.modules]
np.savez(args["out"], texts=texts, images=images, photo=photo)
print(json.dumps({"loaded": loaded, "backend": enc.backend, "quant_check": enc.quant_check,
                  "dim": enc.dim, "image_size": enc.image_size, "batch_size": enc.batch_size,
                  "model_id": enc.model_id, "device": enc.device}))
"""


@pytest.mark.parametrize("quantize", ["never", "auto"])
def test_cached_export_loads_without_torch_in_a_new_process(tmp_path, quantize) -> None:
    # A normal (first) load exports; with "auto" the photos settle both int8 verdicts.
    slow = load_encoder(SPEC, quantize=quantize, calibration_images=_photos())
    assert (_export_dir() / onnx_backend.FAST_FILE).is_file()
    batch = _batch(5, seed=3)
    np.save(tmp_path / "batch.npy", batch)
    # Where a GPU might exist "auto" must ask torch; the fast path is a CPU thing.
    device = "cpu" if enc_mod._gpu_possible() else "auto"
    args = {
        "model": str(TINY),
        "device": device,
        "quantize": quantize,
        "texts": TEXTS,
        "batch": str(tmp_path / "batch.npy"),
        "out": str(tmp_path / "out.npz"),
    }
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(args)],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info["loaded"] == []  # no torch, open_clip or torchvision after load + encode
    assert info["backend"] == slow.backend and info["quant_check"] == slow.quant_check
    assert (info["dim"], info["image_size"], info["batch_size"]) == (slow.dim, slow.image_size, slow.batch_size)
    assert (info["model_id"], info["device"]) == (slow.model_id, "cpu")
    out = np.load(tmp_path / "out.npz")
    assert np.abs(out["texts"] - slow.encode_texts(TEXTS)).max() < 1e-5
    assert np.abs(out["images"] - slow.encode_images(batch)).max() < 1e-5
    np.testing.assert_array_equal(out["photo"], slow.preprocess(Image.new("RGB", (50, 40), (200, 30, 90))))


def test_fast_path_matches_the_full_path_in_process(monkeypatch) -> None:
    taken = _fast_calls(monkeypatch)
    slow = load_encoder(SPEC, quantize="never")
    fast = load_encoder(SPEC, quantize="never")
    assert taken == [False, True]
    assert fast.backend == slow.backend == "onnx-fp32"
    assert fast.preprocess_cfg == slow.preprocess_cfg and fast.dim == slow.dim
    np.testing.assert_array_equal(fast.tokenize(TEXTS), slow.tokenize(TEXTS))
    assert np.abs(fast.encode_texts(TEXTS) - slow.encode_texts(TEXTS)).max() < 1e-5
    batch = _batch(3)
    assert np.abs(fast.encode_images(batch) - slow.encode_images(batch)).max() < 1e-5


def test_pending_int8_checks_still_run_on_the_fast_path(monkeypatch) -> None:
    load_encoder(SPEC)  # auto: exports, makes both int8 copies, decides the text tower
    verdicts = json.loads((_export_dir() / "quant_check.json").read_text())
    assert "text" in verdicts and "image" not in verdicts
    taken = _fast_calls(monkeypatch)
    encoder = load_encoder(SPEC)
    assert taken == [True]
    assert encoder.quant_check is None and encoder.backend == "onnx-fp32"
    assert encoder.text_quant_check == verdicts["text"]
    encoder.encode_images(_batch(4))
    assert encoder.quant_check is not None
    assert encoder.backend == ("onnx-int8" if encoder.quant_check["used"] else "onnx-fp32")


def test_missing_int8_copy_takes_the_full_path(monkeypatch) -> None:
    load_encoder(SPEC, quantize="never")  # exports fp32 only
    taken = _fast_calls(monkeypatch)
    encoder = load_encoder(SPEC, quantize="always")  # needs int8 copies: made by the full path
    assert encoder.backend == "onnx-int8"
    assert load_encoder(SPEC, quantize="always").backend == "onnx-int8"
    assert taken == [False, True]


def test_fast_path_needs_a_current_sidecar(monkeypatch) -> None:
    load_encoder(SPEC, quantize="never")
    fast_file = _export_dir() / onnx_backend.FAST_FILE
    taken = _fast_calls(monkeypatch)

    fast_file.unlink()  # e.g. an export made by an older PhotoSearch
    load_encoder(SPEC, quantize="never")
    assert fast_file.is_file()  # the full path writes it again

    data = json.loads(fast_file.read_text())
    data["tokenizer"] = {"kind": "open_clip"}  # e.g. a multilingual model
    fast_file.write_text(json.dumps(data))
    load_encoder(SPEC, quantize="never")
    assert json.loads(fast_file.read_text())["tokenizer"]["kind"] == "open_clip"  # not checked again

    fast_file.unlink()
    load_encoder(SPEC, quantize="never")
    data = json.loads(fast_file.read_text())
    data["stamp"]["export_seconds"] = -1  # from another export than the one on disk
    fast_file.write_text(json.dumps(data))
    load_encoder(SPEC, quantize="never")
    assert load_encoder(SPEC, quantize="never").backend == "onnx-fp32"
    assert taken == [False, False, False, False, True]


def test_stale_stamp_is_not_taken_by_the_fast_path(monkeypatch) -> None:
    load_encoder(SPEC, quantize="never")
    stamp_path = _export_dir() / "stamp.json"
    stamp = json.loads(stamp_path.read_text())
    stamp["torch"] = "0.0.1"
    stamp_path.write_text(json.dumps(stamp))
    exports = _count_calls(monkeypatch, onnx_backend, "export_model")
    taken = _fast_calls(monkeypatch)
    load_encoder(SPEC, quantize="never")
    assert exports == [1] and taken == [False]
    assert json.loads(stamp_path.read_text())["torch"] != "0.0.1"


def test_damaged_cache_falls_back_to_a_new_export(monkeypatch) -> None:
    load_encoder(SPEC, quantize="never")
    (_export_dir() / "text" / onnx_backend.MODEL_FILE).write_bytes(b"not a model")
    taken = _fast_calls(monkeypatch)
    encoder = load_encoder(SPEC, quantize="never")
    assert taken == [False] and encoder.backend == "onnx-fp32"
    assert np.isfinite(encoder.encode_texts(["a cat"])).all()


def test_torch_backend_and_explicit_gpu_never_take_the_fast_path(monkeypatch) -> None:
    load_encoder(SPEC, quantize="never")
    taken = _fast_calls(monkeypatch)
    assert load_encoder(SPEC, backend="torch").backend == "torch"
    assert taken == []


def test_versions_come_from_package_metadata() -> None:
    from importlib import metadata

    versions = onnx_backend._versions()
    assert versions["torch"] == metadata.version("torch")
    assert versions["open_clip"] == metadata.version("open_clip_torch")


def test_a_package_that_is_not_installed_cannot_stale_the_stamp(monkeypatch) -> None:
    from importlib import metadata

    real = metadata.version

    def without_torch(name: str) -> str:
        if name == "torch":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    meta = {**onnx_backend._versions(), "torch": "0.0-exported-elsewhere"}
    assert not onnx_backend._stamp_is_current(meta)
    monkeypatch.setattr(metadata, "version", without_torch)
    assert onnx_backend._versions()["torch"] is None
    assert onnx_backend._stamp_is_current(meta)
    assert not onnx_backend._stamp_is_current({**meta, "open_clip": "0.0"})


# A torch-free app bundle: torch cannot be found at all (so no version.py to read) and neither
# torch nor open_clip may be imported; open_clip's files (its BPE vocabulary) are still there.
_FROZEN_SEARCH = r"""
import importlib.abc, importlib.machinery, importlib.util, json, sys
BLOCKED = ("torch", "open_clip", "torchvision")
ABSENT = ("torch", "torchvision")

class Refuse(importlib.abc.Loader):
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        raise ImportError(f"{module.__name__} may not be imported in this test")

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in ABSENT:
            raise ModuleNotFoundError(f"No module named {name!r}")
        if top in BLOCKED:  # its files can be found, it just cannot be imported
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is not None:
                spec.loader = Refuse()
            return spec
        return None

real_find_spec = importlib.util.find_spec
def find_spec(name, *args, **kwargs):
    if name.split(".")[0] in ABSENT:
        return None
    return real_find_spec(name, *args, **kwargs)

sys.meta_path.insert(0, Block())
importlib.util.find_spec = find_spec
from photosearch.cli import main
code = main(sys.argv[1:])
loaded = [m for m in BLOCKED if m in sys.modules]
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def test_cached_export_search_imports_neither_torch_nor_open_clip(tmp_path) -> None:
    from photosearch.cli import main
    from tests.conftest import make_photos

    photos = tmp_path / "photos"
    make_photos(photos, 5)
    lib = str(tmp_path / "lib")
    base = ["--library", lib, "--device", "cpu", "--json"]
    assert main([*base, "--model", str(TINY), "--pretrained", "random", "index", str(photos)]) == 0
    assert (_export_dir() / onnx_backend.FAST_FILE).is_file()
    result = subprocess.run(
        [sys.executable, "-c", _FROZEN_SEARCH, *base, "search", "a red ball"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": []}, result.stderr
    found = json.loads(result.stdout)
    assert len(found) == 5 and {Path(r["path"]).parent for r in found} == {photos}


# --------------------------------------------------------------------------- devices


@pytest.fixture
def no_gpu_signs(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(enc_mod.os.path, "exists", lambda _path: False)
    monkeypatch.setattr(enc_mod, "_torch_build_has_no_gpu", lambda: False)
    import ctypes.util

    monkeypatch.setattr(ctypes.util, "find_library", lambda _name: None)


def test_gpu_possible_without_any_driver_is_false(no_gpu_signs) -> None:
    assert enc_mod._gpu_possible() is False


@pytest.mark.parametrize("path", ["/proc/driver/nvidia/version", "/dev/kfd"])
def test_gpu_possible_with_a_driver_entry(no_gpu_signs, monkeypatch, path) -> None:
    monkeypatch.setattr(enc_mod.os.path, "exists", lambda p: p == path)
    assert enc_mod._gpu_possible() is True


def test_gpu_possible_with_libcuda_or_on_macos(no_gpu_signs, monkeypatch) -> None:
    import ctypes.util

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: "libcuda.so.1" if name == "cuda" else None)
    assert enc_mod._gpu_possible() is True
    monkeypatch.setattr(sys, "platform", "win32")
    assert enc_mod._gpu_possible() is False  # Windows looks for nvcuda.dll
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: "nvcuda.dll" if name == "nvcuda" else None)
    assert enc_mod._gpu_possible() is True
    monkeypatch.setattr(ctypes.util, "find_library", lambda _name: None)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert enc_mod._gpu_possible() is True  # MPS: only torch can tell


def test_cpu_only_torch_build_needs_no_library_search(no_gpu_signs, monkeypatch) -> None:
    import ctypes.util

    monkeypatch.setattr(enc_mod, "_torch_build_has_no_gpu", lambda: True)
    monkeypatch.setattr(ctypes.util, "find_library", lambda _name: "libcuda.so.1")
    assert enc_mod._gpu_possible() is False


def test_cpu_only_build_is_read_from_version_file() -> None:
    assert enc_mod._version_file_says_cpu_only("__version__ = '2.1+cpu'\ncuda: Optional[str] = None\nhip = None\n")
    assert not enc_mod._version_file_says_cpu_only("cuda: Optional[str] = '13.0'\nhip: Optional[str] = None\n")
    assert not enc_mod._version_file_says_cpu_only("cuda = None\nhip = '6.2'\n")
    assert not enc_mod._version_file_says_cpu_only("")


class _BlockTorch:
    """A meta path finder that refuses to import torch (it is never imported twice)."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch must not be imported here")
        return None


def test_auto_without_torch_and_without_gpu_is_cpu(no_gpu_signs, monkeypatch) -> None:
    monkeypatch.setattr(sys, "meta_path", [_BlockTorch(), *sys.meta_path])
    monkeypatch.delitem(sys.modules, "torch")  # put back afterwards
    assert enc_mod.resolve_device("auto") == "cpu"
    assert enc_mod.resolve_device(" CPU ") == "cpu"
    with pytest.raises(ImportError, match="must not be imported"):
        enc_mod.resolve_device("cuda")  # an explicit GPU still asks torch
