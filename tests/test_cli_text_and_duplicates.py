"""Command line for text in photos (`index --no-ocr`, `status` counts) and `duplicates`."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import TINY_MODEL, make_photos
from tests.core.test_ocr import sign
from tests.test_cli import run

pytest.importorskip("rapidocr_onnxruntime")


def test_no_ocr_then_ocr_and_status_counts(tmp_path, capsys):
    photos = tmp_path / "photos"
    sign(photos / "menu.jpg", ["PIZZA", "PASTA"])
    make_photos(photos, 2)
    lib = str(tmp_path / "lib")
    base = ("--library", lib, "--model", TINY_MODEL, "--pretrained", "random")
    code, _, _ = run(capsys, *base, "--json", "index", "--no-ocr", str(photos))
    assert code == 0
    code, out, _ = run(capsys, *base, "--json", "status")
    assert json.loads(out)["ocr"] == {"done": 0, "pending": 3}
    code, out, _ = run(capsys, *base, "--json", "captions", "search", "pizza")
    assert not [r for r in json.loads(out) if "PIZZA" in r["caption"]]
    assert run(capsys, *base, "--json", "index")[0] == 0
    code, out, _ = run(capsys, *base, "--json", "status")
    assert json.loads(out)["ocr"] == {"done": 3, "pending": 0}
    code, out, _ = run(capsys, *base, "--json", "captions", "search", "pizza")
    assert json.loads(out)[0]["path"] == str(photos / "menu.jpg")
    code, out, _ = run(capsys, *base, "status")
    assert "text      3 photos read, 0 pending" in out


def test_duplicates_json_and_human(tmp_path, capsys):
    photos = tmp_path / "photos"
    make_photos(photos, 3)
    shutil.copyfile(photos / "photo_0000.jpg", photos / "copy.jpg")
    lib = str(tmp_path / "lib")
    base = ("--library", lib, "--model", TINY_MODEL, "--pretrained", "random")
    assert run(capsys, *base, "index", "--no-ocr", str(photos))[0] == 0
    code, out, _ = run(capsys, *base, "--json", "duplicates")
    assert code == 0
    groups = json.loads(out)
    assert [g["kind"] for g in groups] == ["exact"]
    assert sorted(p["path"] for p in groups[0]["photos"]) == [str(photos / "copy.jpg"), str(photos / "photo_0000.jpg")]
    code, out, _ = run(capsys, *base, "duplicates", "--similarity", "0.5")
    assert code == 0 and "keep" in out
    code, _, err = run(capsys, *base, "duplicates", "--similarity", "7")
    assert code == 2 and err.count("\n") == 1
