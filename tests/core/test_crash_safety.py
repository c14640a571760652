"""SIGKILL the indexer at random moments: the library stays consistent and the next run finishes the job."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np

from tests.conftest import TINY_MODEL, make_photos

KILLS = int(os.environ.get("PHOTOSEARCH_TEST_KILLS", "10"))
PHOTOS = 3000  # enough that each run is killed mid-indexing, not before or after


def _index_cmd(library: str, folder: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "photosearch",
        "--library",
        library,
        "--model",
        TINY_MODEL,
        "--pretrained",
        "random",
        "--json",
        "index",
        "--no-ocr",  # the embeddings' crash safety; the text pass commits one photo at a time
        folder,
    ]


def _snapshot(library: str) -> dict[str, np.ndarray]:
    conn = sqlite3.connect(os.path.join(library, "library.sqlite3"))
    rows = conn.execute(
        "SELECT p.path, e.vector FROM photos p JOIN embeddings e ON e.fingerprint = p.fingerprint "
        "WHERE p.state = 'indexed'"
    ).fetchall()
    conn.close()
    return {p: np.frombuffer(v, dtype="<f2").astype(np.float32) for p, v in rows}


def _check_consistent(library: str) -> None:
    conn = sqlite3.connect(os.path.join(library, "library.sqlite3"))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) - COUNT(DISTINCT path) FROM photos").fetchone()[0] == 0
    dupes = conn.execute("SELECT COUNT(*) - COUNT(DISTINCT fingerprint || model_id) FROM embeddings").fetchone()[0]
    assert dupes == 0
    # No photo is 'indexed' without its vector: the state and the embedding land in one transaction.
    orphans = conn.execute(
        "SELECT COUNT(*) FROM photos p WHERE p.state = 'indexed' AND NOT EXISTS "
        "(SELECT 1 FROM embeddings e WHERE e.fingerprint = p.fingerprint)"
    ).fetchone()[0]
    assert orphans == 0
    conn.close()


def _indexed_count(library: str) -> int:
    try:
        conn = sqlite3.connect(f"file:{os.path.join(library, 'library.sqlite3')}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM photos WHERE state = 'indexed'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0  # not created yet


def _kill_after_progress(proc: subprocess.Popen, library: str, before: int, rng: random.Random) -> bool:
    """SIGKILL once the run has committed something new, at a random moment after that."""
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if _indexed_count(library) > before:
            time.sleep(rng.uniform(0.0, 0.4))  # mid-batch, between batches, or mid-commit
            break
        time.sleep(0.01)
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    return True


def test_sigkill_at_random_moments_then_resume(tmp_path):
    folder = tmp_path / "photos"
    make_photos(folder, PHOTOS)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    clean = str(tmp_path / "clean")
    subprocess.run(_index_cmd(clean, str(folder)), check=True, capture_output=True, env=env, timeout=600)
    expected = _snapshot(clean)
    assert len(expected) == PHOTOS

    killed = str(tmp_path / "killed")
    rng = random.Random(1234)
    kills = 0
    for _ in range(KILLS):
        before = _indexed_count(killed)
        if before == PHOTOS:
            break
        proc = subprocess.Popen(
            _index_cmd(killed, str(folder)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        kills += _kill_after_progress(proc, killed, before, rng)
        _check_consistent(killed)
    assert kills == KILLS, f"only {kills} of {KILLS} runs were killed mid-indexing: make the corpus bigger"

    final = subprocess.run(_index_cmd(killed, str(folder)), capture_output=True, text=True, env=env, timeout=600)
    assert final.returncode == 0, final.stderr
    _check_consistent(killed)
    got = _snapshot(killed)
    assert set(got) == set(expected)
    for path, vector in expected.items():
        assert float(vector @ got[path]) > 0.999, path
