"""SIGKILL the indexer at (seeded) random moments that the test picks: the library stays consistent and
the next run finishes the job.

Each killed run is the real command line, started through a small bootstrap that stops the indexer at
one chosen point (before a batch is encoded, inside a batch's open write transaction, or right after a
batch committed) and says so on stderr; the test kills it there. No kill depends on how fast the machine is.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys

import numpy as np

from tests.conftest import TINY_MODEL, make_photos

KILLS = int(os.environ.get("PHOTOSEARCH_TEST_KILLS", "10"))
BATCH = 16  # the CPU encoder's batch size: kill points lie within a run's first three batches
PHOTOS = KILLS * 3 * BATCH + 2 * BATCH  # every run still has work left when its kill point comes
PAUSED = "crash-test: paused"

# Runs the CLI, stopping at the point named by the test (POINT=kind:n) until stdin closes or it is killed.
_PAUSABLE_CLI = """
import os, sys
import photosearch.core.indexer as ix
from photosearch.cli import main
kind, n = os.environ["CRASH_TEST_POINT"].split(":")
n = int(n)
seen = {"before-commit": 0, "in-transaction": 0, "after-commit": 0}
def point(name):
    seen[name] += 1
    if name == kind and seen[name] == n:
        print(f"PAUSED {kind}:{n}", file=sys.stderr, flush=True)
        sys.stdin.read()
_commit, _record = ix.Indexer._commit, ix.Indexer._record
def commit(self, *args):
    point("before-commit")
    done = _commit(self, *args)
    point("after-commit")
    return done
def record(self, *args):
    point("in-transaction")  # inside the batch's write transaction, after its embeddings were inserted
    return _record(self, *args)
ix.Indexer._commit, ix.Indexer._record = commit, record
sys.exit(main(sys.argv[1:]))
""".replace("PAUSED", PAUSED)


def _index_args(library: str, folder: str) -> list[str]:
    # --no-ocr: this is the embeddings' crash safety; the text pass commits one photo at a time
    model = ["--model", TINY_MODEL, "--pretrained", "random"]
    return ["--library", library, *model, "--json", "index", "--no-ocr", folder]


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
    if not os.path.exists(os.path.join(library, "library.sqlite3")):
        return 0
    conn = sqlite3.connect(f"file:{os.path.join(library, 'library.sqlite3')}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM photos WHERE state = 'indexed'").fetchone()[0]
    finally:
        conn.close()


def _kill_at(point: str, library: str, folder: str, env: dict[str, str]) -> bool:
    """Run the CLI until it reaches `point`, then SIGKILL it. False if it finished before getting there."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _PAUSABLE_CLI, *_index_args(library, folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "CRASH_TEST_POINT": point},
    )
    try:
        for line in proc.stderr:  # ends when the process does
            if line.startswith(PAUSED):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return proc.returncode == -signal.SIGKILL
        proc.wait()
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigkill_at_random_moments_then_resume(tmp_path):
    folder = tmp_path / "photos"
    make_photos(folder, PHOTOS)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    clean = str(tmp_path / "clean")
    done = subprocess.run(
        [sys.executable, "-m", "photosearch", *_index_args(clean, str(folder))], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    expected = _snapshot(clean)
    assert len(expected) == PHOTOS

    killed = str(tmp_path / "killed")
    rng = random.Random(1234)
    points = []
    for i in range(KILLS):
        kind = ("before-commit", "in-transaction", "after-commit")[i % 3]
        n = rng.randint(1, 3 * BATCH) if kind == "in-transaction" else rng.randint(1, 3)
        points.append(f"{kind}:{n}")
    progress = []
    for point in points:
        assert _kill_at(point, killed, str(folder), env), f"the run ended before reaching {point}"
        _check_consistent(killed)
        progress.append(_indexed_count(killed))
    print("killed at", list(zip(points, progress, strict=True)), "(point, photos indexed after the kill)")
    assert progress[-1] < PHOTOS  # every kill interrupted real work
    assert progress == sorted(progress), progress  # nothing committed was lost to a later kill

    command = [sys.executable, "-m", "photosearch", *_index_args(killed, str(folder))]
    final = subprocess.run(command, capture_output=True, text=True, env=env)
    assert final.returncode == 0, final.stderr
    _check_consistent(killed)
    got = _snapshot(killed)
    assert set(got) == set(expected)
    for path, vector in expected.items():
        assert float(vector @ got[path]) > 0.999, path
