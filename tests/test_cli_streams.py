"""Where the command line's output goes: a reader that leaves (`| head`), a full disk, a non-UTF-8 stdout.

These run the real interpreter in a child process: what matters is its exit status and what its final
flush does, which an in-process capture cannot show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from photosearch.cli import main
from tests.conftest import ROOT, TINY_MODEL, make_photos

MODEL = ["--model", TINY_MODEL, "--pretrained", "random", "--offline"]
CAPTION = "A cat on a sofa \U0001f63a \u2014 caf\u00e9"


@pytest.fixture
def library(tmp_path, capsys) -> str:
    folder = tmp_path / "photos"
    make_photos(folder, 4)
    (folder / "photo_0003.jpg").write_bytes((folder / "photo_0000.jpg").read_bytes())  # a duplicate group
    (folder / "c.csv").write_text(f"image,description\nphoto_0001.jpg,{CAPTION}\n", encoding="utf-8")
    lib = str(tmp_path / "lib")
    assert main(["--library", lib, *MODEL, "index", str(folder), "--no-ocr"]) == 0
    assert main(["--library", lib, *MODEL, "captions", "import", str(folder / "c.csv")]) == 0
    capsys.readouterr()
    return lib


def _cli(lib: str, *args: str, stdout, env: dict | None = None, encoding: str = "utf-8") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "photosearch", "--library", lib, *MODEL, *args],
        cwd=ROOT,
        stdout=stdout,
        stderr=subprocess.PIPE,
        encoding=encoding,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


@pytest.mark.parametrize("args", [["browse"], ["--json", "browse"], ["duplicates"], ["search", "cat"]])
def test_a_reader_that_is_gone_ends_the_command_quietly_with_141(library, args):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader left before the first byte: every write meets a broken pipe
    try:
        proc = _cli(library, *args, stdout=write_end)
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert "photosearch: error" not in proc.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_write_error_is_one_line_and_exit_2(library):
    with open("/dev/full", "w") as full:
        proc = _cli(library, "browse", stdout=full)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("photosearch: error:") and "No space left on device" in proc.stderr


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "cp1252"])
def test_a_stdout_that_cannot_encode_every_character_never_crashes(library, encoding):
    env = {"PYTHONIOENCODING": encoding}
    for args in (["browse"], ["captions", "search", "cat"], ["search", "cat"]):
        proc = _cli(library, *args, stdout=subprocess.PIPE, env=env, encoding=encoding)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "\\U0001f63a" in proc.stdout  # written the way Python writes it: the character stays known
        assert "\u2014" in proc.stdout or "\\u2014" in proc.stdout
    for args in (["--json", "browse"], ["--json", "captions", "search", "cat"]):
        proc = _cli(library, *args, stdout=subprocess.PIPE, env=env, encoding=encoding)
        assert proc.returncode == 0, proc.stderr
        assert CAPTION in {r["caption"] for r in json.loads(proc.stdout)}  # valid JSON, the caption exact
