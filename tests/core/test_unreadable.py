"""Unreadable is not deleted: a folder or photo that cannot be read for a while keeps everything it had.

chmod 0 stops everyone but root; as root the CLI runs under `setpriv` without the capabilities that
bypass file permissions (as tests/conftest.py's unreadable_error does), so the check is real.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TINY_MODEL, make_photo

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
MODEL = ["--model", TINY_MODEL, "--pretrained", "random", "--backend", "torch"]


def cli(library: Path, *args: str) -> dict:
    """Run the CLI in a child that file permissions really apply to; return its JSON output."""
    command = [sys.executable, "-m", "photosearch", "--library", str(library), *MODEL, "--json", *args]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs util-linux setpriv to drop root's permission bypass")
        caps = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *command]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_an_unreadable_subfolder_is_offline_and_comes_back_with_its_caption(tmp_path):
    photos, library = tmp_path / "photos", tmp_path / "lib"
    make_photo(photos / "a.jpg", seed=1)
    sub = photos / "sub"
    make_photo(sub / "b.jpg", seed=2)
    (photos / "captions.csv").write_text("image,description\nsub/b.jpg,A red kite over the hill\n")
    first = cli(library, "index", str(photos))
    assert first["encoded"] == 2
    assert cli(library, "captions", "import", str(photos / "captions.csv"))["imported"] == 1
    sub.chmod(0)
    try:
        during = cli(library, "index")
        status = cli(library, "status")
    finally:
        sub.chmod(0o755)
    assert during["removed"] == 0 and during["offline"] == 1
    assert status["photos"]["offline"] == 1 and status["captions"] == 1
    after = cli(library, "index")
    assert (after["added"], after["removed"], after["encoded"]) == (0, 0, 0)
    found = cli(library, "captions", "search", "kite")
    assert found and found[0]["path"] == str(sub / "b.jpg")
    assert cli(library, "status")["photos"] == {"indexed": 2, "skipped": 0, "offline": 0, "pending": 0}


def test_a_photo_skipped_as_unreadable_is_retried_once_readable(tmp_path):
    photos, library = tmp_path / "photos", tmp_path / "lib"
    make_photo(photos / "a.jpg", seed=1)
    locked = make_photo(photos / "b.jpg", seed=2)
    locked.chmod(0)
    try:
        first = cli(library, "index", str(photos))
    finally:
        locked.chmod(0o644)  # mtime unchanged: only the permission changed
    assert first["encoded"] == 1 and len(first["skipped"]) == 1
    again = cli(library, "index")
    assert again["encoded"] == 1 and not again["skipped"]
    assert cli(library, "status")["photos"]["indexed"] == 2
