"""The command line for weights loaded as trained: --tag, the backend in status, one-line refusals."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

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


def test_status_names_an_unavailable_device_once(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the same on a machine with a GPU
    lib = ["--library", str(tmp_path / "lib"), "--model", TINY_MODEL, "--pretrained", "random", "--device", "cuda"]
    assert main([*lib, "status"]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("device")]
    assert line.count("CUDA was requested") == 1 and line.startswith("device    unavailable (CUDA"), line
    assert main([*lib, "--device", "cpu", "status"]) == 0  # a usable device still names its backend
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("device")]
    assert line.startswith("device    cpu (") and line.endswith(")"), line


def test_a_first_run_without_network_refuses_before_importing_torch_or_open_clip(tmp_path, photos_dir):
    # No network: every connection goes to a proxy port that refuses it; the hub cache is empty.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused at once
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY") and k != "HF_HUB_OFFLINE"}
    env.update(
        HTTPS_PROXY=f"http://127.0.0.1:{closed.getsockname()[1]}",
        HF_HOME=str(tmp_path / "hf"),
        PHOTOSEARCH_CACHE=str(tmp_path / "cache"),
    )
    script = (
        "import sys\n"
        "from photosearch.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(code, 'torch' in sys.modules, 'open_clip' in sys.modules)\n"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script, "--library", str(tmp_path / "lib"), "index", str(photos_dir)],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
    finally:
        closed.close()
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "can't be downloaded (cannot connect to 127.0.0.1" in errors[0], proc.stderr
    assert "--pretrained PATH" in errors[0] and "Traceback" not in proc.stderr
    assert proc.stdout.split() == ["2", "False", "False"]
