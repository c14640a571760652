"""The command line for weights loaded as trained: --tag, the backend in status, one-line refusals."""

from __future__ import annotations

import json

from photosearch.cli import main
from tests.conftest import TINY_MODEL


def test_an_unrecognised_checkpoint_without_tag_is_one_line_exit_2(tmp_path, photos_dir, capsys):
    mystery = tmp_path / "mystery.safetensors"
    mystery.write_bytes(b"never read")
    code = main(["--library", str(tmp_path / "lib"), "--model", "ViT-B-32", "--pretrained", str(mystery),
                 "--device", "cpu", "index", str(photos_dir)])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert [line for line in err if "error" in line] == [err[-1]]
    assert "Can't tell which ViT-B-32 weights" in err[-1] and "--tag" in err[-1] and "laion2b_s34b_b79k" in err[-1]


def test_status_json_names_the_backend(tmp_path, capsys):
    lib = ["--library", str(tmp_path / "lib"), "--model", TINY_MODEL, "--pretrained", "random", "--device", "cpu"]
    assert main([*lib, "--json", "status"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["backend"].split("-")[0] in {"openvino", "onnx"} and data["quantization"] is None
    assert main([*lib, "--backend", "torch", "--json", "status"]) == 0
    assert json.loads(capsys.readouterr().out)["backend"] == "torch-cpu-fp32"
