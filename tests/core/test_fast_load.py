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
from photosearch.core.backends import export
from photosearch.core.backends import onnx as onnx_mod
from photosearch.core.devices import gpu_possible
from photosearch.core.encoder import load_encoder
from tests.core.onnx_helpers import SPEC, TINY, _batch, _cache, _count_calls, _export_dir  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["a cat", "two dogs on a beach at sunset", "word " * 300, "", "😀 &amp; café"]


def _fast_calls(monkeypatch) -> list[bool]:
    """Records, per load_encoder call, whether the fast path produced the encoder."""
    taken: list[bool] = []
    original = enc_mod._load_cached_export

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(enc_mod, "_load_cached_export", spy)
    return taken


_CHILD = r"""
import json, sys
import numpy as np
from PIL import Image
from photosearch.core.encoder import ModelSpec, load_encoder
args = json.loads(sys.argv[1])
enc = load_encoder(ModelSpec(args["model"], "random"), device=args["device"], backend=args["backend"],
                   quantize=args["quantize"], quant_verdict=args["verdict"])
texts = enc.encode_texts(args["texts"])
images = enc.encode_images(np.load(args["batch"]))
photo = enc.preprocess(Image.new("RGB", (50, 40), (200, 30, 90)))
loaded = [m for m in ("torch", "open_clip", "torchvision") if m in sys.modules]
np.savez(args["out"], texts=texts, images=images, photo=photo)
print(json.dumps({"loaded": loaded, "backend": enc.backend, "quant_check": enc.quant_check,
                  "dim": enc.dim, "image_size": enc.image_size, "batch_size": enc.batch_size,
                  "model_id": enc.model_id, "device": enc.device}))
"""


ACCEPTED = {"image": {"used": True}, "text": {"used": True}}


@pytest.mark.parametrize(
    ("backend", "quantize", "verdict"),
    [("onnx", "never", None), ("onnx", "auto", ACCEPTED), ("auto", "auto", None)],
)
def test_cached_export_loads_without_torch_in_a_new_process(tmp_path, backend, quantize, verdict) -> None:
    # A normal (first) load exports (and converts for OpenVINO, or makes the accepted int8 copies).
    slow = load_encoder(SPEC, backend=backend, quantize=quantize, quant_verdict=verdict)
    assert (_export_dir() / export.FAST_FILE).is_file()
    batch = _batch(5, seed=3)
    np.save(tmp_path / "batch.npy", batch)
    # Where a GPU might exist "auto" must ask torch; the fast path is a CPU thing.
    device = "cpu" if gpu_possible() else "auto"
    args = {
        "model": str(TINY),
        "device": device,
        "quantize": quantize,
        "backend": backend,
        "verdict": verdict,
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


@pytest.mark.parametrize("backend", ["onnx", "auto"])
def test_fast_path_matches_the_full_path_in_process(monkeypatch, backend) -> None:
    taken = _fast_calls(monkeypatch)
    slow = load_encoder(SPEC, backend=backend, quantize="never")
    fast = load_encoder(SPEC, backend=backend, quantize="never")
    assert taken == [False, True]
    assert fast.backend == slow.backend
    assert fast.preprocess_cfg == slow.preprocess_cfg and fast.dim == slow.dim
    np.testing.assert_array_equal(fast.tokenize(TEXTS), slow.tokenize(TEXTS))
    assert np.abs(fast.encode_texts(TEXTS) - slow.encode_texts(TEXTS)).max() < 1e-5
    batch = _batch(3)
    assert np.abs(fast.encode_images(batch) - slow.encode_images(batch)).max() < 1e-5


def test_missing_int8_copy_takes_the_full_path(monkeypatch) -> None:
    load_encoder(SPEC, backend="onnx", quantize="never")  # exports fp32 only
    taken = _fast_calls(monkeypatch)
    encoder = load_encoder(SPEC, backend="onnx", quantize="always")  # needs int8 copies: made by the full path
    assert encoder.backend == "onnx-int8"
    assert load_encoder(SPEC, backend="onnx", quantize="always").backend == "onnx-int8"
    assert taken == [False, True]


def test_fast_path_needs_a_current_sidecar(monkeypatch) -> None:
    load_encoder(SPEC, backend="onnx", quantize="never")
    fast_file = _export_dir() / export.FAST_FILE
    taken = _fast_calls(monkeypatch)

    fast_file.unlink()  # e.g. an export made by an older PhotoSearch
    load_encoder(SPEC, backend="onnx", quantize="never")
    assert fast_file.is_file()  # the full path writes it again

    data = json.loads(fast_file.read_text())
    data["tokenizer"] = {"kind": "open_clip"}  # e.g. a multilingual model
    fast_file.write_text(json.dumps(data))
    load_encoder(SPEC, backend="onnx", quantize="never")
    assert json.loads(fast_file.read_text())["tokenizer"]["kind"] == "open_clip"  # not checked again

    fast_file.unlink()
    load_encoder(SPEC, backend="onnx", quantize="never")
    data = json.loads(fast_file.read_text())
    data["stamp"]["export_seconds"] = -1  # from another export than the one on disk
    fast_file.write_text(json.dumps(data))
    load_encoder(SPEC, backend="onnx", quantize="never")
    assert load_encoder(SPEC, backend="onnx", quantize="never").backend == "onnx-fp32"
    assert taken == [False, False, False, False, True]


def test_stale_stamp_is_not_taken_by_the_fast_path(monkeypatch) -> None:
    load_encoder(SPEC, quantize="never")
    stamp_path = _export_dir() / "stamp.json"
    stamp = json.loads(stamp_path.read_text())
    stamp["torch"] = "0.0.1"
    stamp_path.write_text(json.dumps(stamp))
    exports = _count_calls(monkeypatch, onnx_mod, "export_model")
    taken = _fast_calls(monkeypatch)
    load_encoder(SPEC, quantize="never")
    assert exports == [1] and taken == [False]
    assert json.loads(stamp_path.read_text())["torch"] != "0.0.1"


def test_damaged_cache_falls_back_to_a_new_export(monkeypatch) -> None:
    load_encoder(SPEC, backend="onnx", quantize="never")
    (_export_dir() / "text" / export.MODEL_FILE).write_bytes(b"not a model")
    taken = _fast_calls(monkeypatch)
    encoder = load_encoder(SPEC, backend="onnx", quantize="never")
    assert taken == [False] and encoder.backend == "onnx-fp32"
    assert np.isfinite(encoder.encode_texts(["a cat"])).all()


def test_torch_backend_and_explicit_gpu_never_take_the_fast_path(monkeypatch) -> None:
    load_encoder(SPEC, quantize="never")
    taken = _fast_calls(monkeypatch)
    assert load_encoder(SPEC, backend="torch").backend == "torch-cpu-fp32"
    assert taken == []


def test_versions_come_from_package_metadata() -> None:
    from importlib import metadata

    versions = export._versions()
    assert versions["torch"] == metadata.version("torch")
    assert versions["open_clip"] == metadata.version("open_clip_torch")


def test_a_package_that_is_not_installed_cannot_stale_the_stamp(monkeypatch) -> None:
    from importlib import metadata

    real = metadata.version

    def without_torch(name: str) -> str:
        if name == "torch":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    meta = {**export._versions(), "torch": "0.0-exported-elsewhere"}
    assert not export._stamp_is_current(meta)
    monkeypatch.setattr(metadata, "version", without_torch)
    assert export._versions()["torch"] is None
    assert export._stamp_is_current(meta)
    assert not export._stamp_is_current({**meta, "open_clip": "0.0"})


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
    assert (_export_dir() / export.FAST_FILE).is_file()
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
