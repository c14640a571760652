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


def test_sigkill_at_random_moments_then_resume(tmp_path):
    folder = tmp_path / "photos"
    make_photos(folder, 150)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    clean = str(tmp_path / "clean")
    subprocess.run(_index_cmd(clean, str(folder)), check=True, capture_output=True, env=env, timeout=600)
    expected = _snapshot(clean)
    assert len(expected) == 150

    killed = str(tmp_path / "killed")
    rng = random.Random(1234)
    kills = 0
    for _ in range(KILLS):
        proc = subprocess.Popen(
            _index_cmd(killed, str(folder)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        time.sleep(rng.uniform(0.5, 4.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        if os.path.exists(os.path.join(killed, "library.sqlite3")):
            _check_consistent(killed)
    assert kills >= min(KILLS, 5), "the indexer finished before most kills: make the corpus bigger"

    final = subprocess.run(_index_cmd(killed, str(folder)), capture_output=True, text=True, env=env, timeout=600)
    assert final.returncode == 0, final.stderr
    _check_consistent(killed)
    got = _snapshot(killed)
    assert set(got) == set(expected)
    for path, vector in expected.items():
        assert float(vector @ got[path]) > 0.999, path
