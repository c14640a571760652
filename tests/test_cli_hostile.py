"""The command line against hostile names, captions and arguments: safe text, exact JSON, one-line errors."""

from __future__ import annotations

import json
import os

import pytest

from photosearch.cli import main
from tests.conftest import TINY_MODEL, make_photo

MODEL = ["--model", TINY_MODEL, "--pretrained", "random", "--backend", "torch"]
ODD = os.fsdecode(b"caf\xe9.jpg")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def odd_library(tmp_path, capsys):
    folder = tmp_path / "d"
    make_photo(folder / "a.jpg", seed=1)
    make_photo(folder / ODD, seed=2)
    evil = "Nice\x1b]0;pwned\x07 view\x1b[2J\nphotosearch: fake line\u202egpj.exe"
    (folder / "a.txt").write_text(evil)
    lib = str(tmp_path / "lib")
    code, _, err = run(capsys, "--library", lib, *MODEL, "index", str(folder))
    assert code == 0, err
    return lib, folder, evil


@pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")
def test_odd_name_and_hostile_caption_print_safely_and_json_stays_exact(odd_library, capsys):
    lib, folder, evil = odd_library
    code, out, _ = run(capsys, "--library", lib, *MODEL, "search", "photo", "-k", "5")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "caf\\xe9.jpg" in out
    assert len(out.strip().splitlines()) == 2  # the caption's newline forges no line
    assert "Nice\\x1b]0;pwned\\x07 view\\x1b[2J\\nphotosearch: fake line\\u202egpj.exe" in out
    code, out, _ = run(capsys, "--library", lib, *MODEL, "--json", "search", "photo", "-k", "5")
    data = json.loads(out)
    assert {r["path"] for r in data} == {str(folder / "a.jpg"), str(folder / ODD)}
    assert os.fsencode(next(r["path"] for r in data if r["path"].endswith("jpg") and "caf" in r["path"]))
    assert next(r["caption"] for r in data if r["caption"]) == evil
    code, out, _ = run(capsys, "--library", lib, *MODEL, "captions", "search", "view")
    assert code == 0 and "\x1b" not in out
    code, out, _ = run(capsys, "--library", lib, *MODEL, "status")
    assert code == 0 and str(folder) in out


def test_error_messages_are_made_safe(tmp_path, capsys):
    code, _, err = run(capsys, "--library", str(tmp_path / "lib"), *MODEL, "index", str(tmp_path / "no\x1b[2Jpe"))
    assert code == 2 and "\x1b" not in err and "no\\x1b[2Jpe" in err
