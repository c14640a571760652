"""Robustness: hostile files, offline folders, two processes, a full disk, a read-only library, fuzzed CSVs.

Root defeats file permissions, so "unreadable" files are tested in a CLI subprocess that keeps uid 0
but drops root's bypass of them (see `permissions_apply`): it reads the clone wherever it lives, and
mode-000 files stay closed to it. Mount-based tests (tmpfs for a full disk, bind mounts for read-only libraries and
away drives) need root; they skip where mounting is not allowed.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from photosearch.cli import main
from photosearch.core.errors import PhotoSearchError
from photosearch.core.library import Library
from tests.conftest import TINY_MODEL, make_photo, make_photos, permissions_apply
from tests.fixtures.hostile import make_hostile_corpus

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
MODEL_ARGS = ["--model", TINY_MODEL, "--pretrained", "random"]
TORCH = ["--backend", "torch"]  # skips the one-off ONNX export in a fresh cache

# Runs the CLI, stopping after its first committed batch (saying so on stderr) until stdin closes: the
# test meets the writer mid-run however fast the machine is.
_PAUSING_CLI = """
import sys
import photosearch.core.indexer as ix
_commit = ix.Indexer._commit
def commit(self, *args):
    done = _commit(self, *args)
    if not getattr(ix, "paused", False):
        ix.paused = True
        print("PAUSED", file=sys.stderr, flush=True)
        sys.stdin.read()
    return done
ix.Indexer._commit = commit
from photosearch.cli import main
sys.exit(main(sys.argv[1:]))
"""


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _integrity(library_root: Path) -> str:
    conn = sqlite3.connect(library_root / "library.sqlite3")
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def _states(library: Library) -> dict[str, tuple[str, str | None]]:
    return {p: (s, r) for p, s, r in library.store.query("SELECT path, state, reason FROM photos")}


def _can_mount() -> bool:
    if not IS_ROOT or not shutil.which("mount"):
        return False
    probe = Path(tempfile.mkdtemp(prefix="ps-mount-probe-"))
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True)
        if ok.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], check=True)
        return True
    finally:
        probe.rmdir()


def _can_mount_in_a_user_namespace() -> bool:
    """Whether this (normal) user may mount inside a user namespace of its own (`unshare -rm`)."""
    if IS_ROOT or not shutil.which("unshare") or not shutil.which("mount"):
        return False
    probe = Path(tempfile.mkdtemp(prefix="ps-userns-probe-"))
    try:
        command = ["unshare", "-rm", "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)]
        return subprocess.run(command, capture_output=True).returncode == 0  # unmounted as the namespace ends
    finally:
        probe.rmdir()


CAN_MOUNT = _can_mount()
CAN_MOUNT_IN_USERNS = not CAN_MOUNT and _can_mount_in_a_user_namespace()


def needs_mount(test):
    """Tests that mount (tmpfs, bind) run as root; for a normal user, in a user namespace where it is root.

    There the test runs in a pytest of its own, started under `unshare -rm`, which must pass it.
    """
    if CAN_MOUNT:
        return test
    if not CAN_MOUNT_IN_USERNS:
        why = "needs root, or user namespaces (unshare -rm), to mount tmpfs and bind mounts"
        return pytest.mark.skip(reason=why)(test)

    @functools.wraps(test)
    def in_a_user_namespace(*args, **kwargs) -> None:
        node = os.environ["PYTEST_CURRENT_TEST"].rsplit(" ", 1)[0]
        env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")}
        basetemp = tempfile.mkdtemp(prefix="ps-userns-")
        try:
            command = ["unshare", "-rm", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
            command += [f"--basetemp={basetemp}/t", node]
            proc = subprocess.run(command, cwd=Path(__file__).parents[2], env=env, capture_output=True, text=True)
        finally:
            shutil.rmtree(basetemp, ignore_errors=True)
        assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout[-4000:] + proc.stderr[-2000:]

    return in_a_user_namespace


@contextlib.contextmanager
def mounted(*args: str, target: Path) -> Iterator[Path]:
    subprocess.run(["mount", *args, str(target)], check=True, capture_output=True)
    try:
        yield target
    finally:
        for _ in range(20):  # a closing SQLite handle may hold it for a moment
            if subprocess.run(["umount", str(target)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:  # still busy (a failed test left a handle open): detach it rather than leak a mount
            subprocess.run(["umount", "-l", str(target)], capture_output=True)


# ------------------------------------------------------------------ 1. hostile and odd files


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Path]:
    """tmp_path, with the modes of what a test locked restored afterwards (so it can be deleted)."""
    root = tmp_path / "world"
    root.mkdir()
    yield root
    for dirpath, dirnames, _ in os.walk(root):
        for name in dirnames:
            with contextlib.suppress(OSError):
                path = os.path.join(dirpath, name)
                if not os.path.islink(path):
                    os.chmod(path, 0o755)
    shutil.rmtree(root, ignore_errors=True)


def _hostile_folder(world: Path) -> tuple[Path, set[str], dict[str, str]]:
    """The hostile corpus plus links, odd names and unreadable things.

    Returns (folder, paths that must be indexed, {path that must be reported: expected reason part}).
    """
    photos = world / "photos"
    expected = make_hostile_corpus(photos)
    good = {str(photos / rel) for rel, ok in expected.items() if ok}
    bad = {str(photos / rel): "" for rel, ok in expected.items() if not ok}
    bad[str(photos / "bad/bomb.png")] = "too large"
    bad[str(photos / "bad/bomb.jpg")] = "too large"

    outside = make_photo(world / "outside" / "elsewhere.jpg", seed=41)
    (photos / "link_to_outside.jpg").symlink_to(outside)
    bad[str(photos / "link_to_outside.jpg")] = "left out"  # issue 9: links never lead out of the folders
    (photos / "ok" / "loop").symlink_to("..", target_is_directory=True)  # a folder linking to its parent
    (photos / "self_loop.jpg").symlink_to("self_loop.jpg")  # ELOOP: named like a photo, can't be read
    bad[str(photos / "self_loop.jpg")] = "symbolic links"
    for name in ("ünïcødé 写真 ☃.jpg", "tab\tand 'quotes' \"too\".png", "x" * 250 + ".jpg", "-leading-dash.jpg"):
        good.add(str(make_photo(photos / "names" / name, seed=len(name))))
    deep = photos.joinpath(*[f"level{i}" for i in range(30)])
    good.add(str(make_photo(deep / "deep.jpg", seed=5)))

    locked_file = make_photo(photos / "locked" / "secret.jpg", seed=42)
    locked_file.chmod(0)
    bad[str(locked_file)] = "permission denied"
    locked_dir = photos / "private"
    make_photo(locked_dir / "hidden.jpg", seed=43)
    locked_dir.chmod(0)
    bad[str(locked_dir)] = "permission denied"
    return photos, good, bad


def _run_without_bypass(args: list[str], env: dict[str, str]) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, max RSS in bytes) of the CLI run where file permissions hold."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        command = permissions_apply([sys.executable, "-m", "photosearch", *args])
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=Path(__file__).parents[2])
        _, status, usage = os.wait4(proc.pid, 0)  # setpriv execs python: the same process
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read().decode(), err.read().decode(), usage.ru_maxrss * 1024


def test_hostile_folder_indexes_what_decodes_and_reports_the_rest_once(world, permission_checks):
    photos, good, bad = _hostile_folder(world)
    library = world / "library"
    home = world / "home"
    for folder in (library, home):
        folder.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "PHOTOSEARCH_CACHE": str(home / "cache"),
        "PHOTOSEARCH_CONFIG": str(home / "config"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    base = ["--library", str(library), *MODEL_ARGS, *TORCH, "--json"]

    code, out, err, max_rss = _run_without_bypass([*base, "index", str(photos)], env)
    assert code == 0, err
    summary = json.loads(out)
    reported = [s["path"] for s in summary["skipped"]]
    assert len(reported) == len(set(reported)), "a file was reported twice"
    reasons = {s["path"]: s["reason"] for s in summary["skipped"]}
    assert set(reasons) == set(bad)
    for path, part in bad.items():
        assert reasons[path] and "\n" not in reasons[path]
        assert part in reasons[path].lower(), (path, reasons[path])
    print(f"hostile corpus: indexing max RSS {max_rss / 2**20:.0f} MiB")
    assert max_rss < 2 * 2**30, f"indexing peaked at {max_rss / 2**20:.0f} MiB"

    lib = Library(library, readonly=True)
    try:
        states = _states(lib)
        assert {p for p, (s, _) in states.items() if s == "indexed"} == good
        assert not any(".." in p or "/loop/" in p for p in states)  # the loop was not followed
    finally:
        lib.close()

    code, out, err, _ = _run_without_bypass([*base, "index"], env)
    assert code == 0, err
    again = json.loads(out)
    assert again["skipped"] == [] and again["encoded"] == 0 and again["added"] == 0

    code, out, err, _ = _run_without_bypass([*base, "status", "--skipped"], env)
    assert code == 0, err
    listed = {s["path"]: s["reason"] for s in json.loads(out)["skipped_files"]}
    assert set(listed) == set(bad)


def test_scan_problems_are_reported_once_listed_and_forgotten_when_fixed(library, photos_dir):
    loop = photos_dir / "sub" / "loop.jpg"
    loop.symlink_to("loop.jpg")  # can't even be stat'ed (ELOOP), whoever runs this
    library.add_folder(photos_dir)
    first = library.index()
    assert [(s.path, "symbolic links" in s.reason) for s in first.skipped] == [(str(loop), True)]
    assert library.index().skipped == []
    assert [s["path"] for s in library.skipped()] == [str(loop)]
    assert library.status()["photos"]["skipped"] == 1
    loop.unlink()
    assert library.index().skipped == []
    assert library.skipped() == [] and library.status()["photos"]["skipped"] == 0
    loop.symlink_to("loop.jpg")
    assert len(library.index().skipped) == 1  # a new problem is news again
    library.remove_folder(photos_dir)
    assert library.skipped() == []


def test_a_decode_that_hangs_is_cut_off_and_skipped(library, photos_dir, monkeypatch):
    import photosearch.core.indexer as indexer

    original = indexer.decode
    stuck = str(photos_dir / "photo_0003.jpg")
    release = threading.Event()

    def hanging_decode(path, *args, **kwargs):
        if str(path) == stuck:
            release.wait(300)  # hangs past the test: only the cut-off lets indexing finish without it
        return original(path, *args, **kwargs)

    monkeypatch.setattr(indexer, "decode", hanging_decode)
    monkeypatch.setattr(indexer, "DECODE_TIMEOUT_S", 2.0)  # far above decoding one of these small photos
    library.add_folder(photos_dir)
    try:
        summary = library.index(read_text=False)
    finally:
        release.set()
    assert [s.path for s in summary.skipped] == [stuck]
    assert "longer than" in summary.skipped[0].reason
    assert summary.encoded == 8
    assert library.skipped() == [{"path": stuck, "reason": summary.skipped[0].reason}]


def test_a_slow_model_load_is_not_slow_decoding(library, photos_dir, monkeypatch):
    """The decode time limit starts once the model is loaded: a first run may spend minutes loading it."""
    import photosearch.core.indexer as indexer

    monkeypatch.setattr(indexer, "DECODE_TIMEOUT_S", 2.0)
    load = library.encoder

    def slow_load():
        time.sleep(3 * indexer.DECODE_TIMEOUT_S)
        return load()

    monkeypatch.setattr(library, "encoder", slow_load)
    library.add_folder(photos_dir)
    summary = library.index()
    assert summary.skipped == []
    assert summary.encoded == 9


# ------------------------------------------------------------------ 2. offline folders


def test_renamed_parent_of_a_watched_folder_is_offline_then_back(library, tmp_path):
    parent = tmp_path / "drive"
    make_photos(parent / "photos", 5)
    library.add_folder(parent / "photos")
    library.index()
    parent.rename(tmp_path / "drive-away")
    away = library.index()
    assert (away.offline, away.removed) == (5, 0)
    assert library.status()["photos"]["offline"] == 5
    assert library.folders()[0].online is False
    assert library.search_text("sky", k=10, include_offline=False) == []
    assert len(library.search_text("sky", k=10)) == 5
    (tmp_path / "drive-away").rename(parent)
    back = library.index()
    assert (back.encoded, back.removed, back.added, back.updated) == (0, 0, 0, 0)
    assert library.status()["photos"] == {"indexed": 5, "skipped": 0, "offline": 0, "pending": 0}


def test_a_vanished_subfolder_of_a_present_folder_is_deleted(library, photos_dir):
    library.add_folder(photos_dir)
    library.index()
    shutil.rmtree(photos_dir / "sub")
    summary = library.index()
    assert (summary.removed, summary.offline) == (3, 0)
    assert library.status()["photos"] == {"indexed": 6, "skipped": 0, "offline": 0, "pending": 0}
    assert len(library.search_text("sky", k=20)) == 6


@needs_mount
def test_unmounted_drive_leaves_an_empty_mount_point_and_comes_back(library, tmp_path):
    disk = tmp_path / "disk"
    make_photos(disk, 4)
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    with mounted("--bind", str(disk), target=mount_point):
        library.add_folder(mount_point)
        assert library.index().encoded == 4
    away = library.index()  # the mount point is an empty folder now
    assert (away.offline, away.removed) == (4, 0)
    assert library.status()["photos"]["offline"] == 4
    with mounted("--bind", str(disk), target=mount_point):
        back = library.index()
        assert (back.encoded, back.removed, back.updated) == (0, 0, 0)
        assert library.status()["photos"]["offline"] == 0


def test_cli_no_offline_leaves_out_photos_on_a_drive_that_is_away(tmp_path, capsys):
    drive = tmp_path / "drive"
    make_photos(drive, 4)
    make_photos(tmp_path / "home", 3, start=10)
    lib = str(tmp_path / "lib")
    code, _, err = cli(capsys, "--library", lib, *MODEL_ARGS, "--json", "index", str(drive), str(tmp_path / "home"))
    assert code == 0, err
    drive.rename(tmp_path / "drive-away")
    code, out, err = cli(capsys, "--library", lib, "--json", "index")
    assert code == 0 and json.loads(out)["offline"] == 4, err
    code, out, _ = cli(capsys, "--library", lib, "--json", "search", "sky", "-k", "20", "--no-offline")
    assert code == 0
    assert {os.path.dirname(r["path"]) for r in json.loads(out)} == {str(tmp_path / "home")}
    code, out, _ = cli(capsys, "--library", lib, "--json", "search", "sky", "-k", "20")
    assert code == 0 and len(json.loads(out)) == 7
    code, out, _ = cli(capsys, "--library", lib, "status")
    assert "OFFLINE" in out and "4 offline" in out


# ------------------------------------------------------------------ 3. two processes


def test_writer_subprocess_with_a_second_writer_and_a_reader(tmp_path):
    first = tmp_path / "first"
    make_photos(first, 6)
    second = tmp_path / "second"
    make_photos(second, 60, start=100)
    root = tmp_path / "lib"
    reader = Library(root, model=TINY_MODEL, pretrained="random")
    reader.add_folder(first)
    reader.index()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    base = [sys.executable, "-c", _PAUSING_CLI, "--library", str(root), "--json"]
    writer = subprocess.Popen(
        [*base, "index", str(second)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        owner = root / "writer.owner"
        said = []
        for line in writer.stderr:  # until the writer has committed its first batch and stopped
            said.append(line)
            if line == "PAUSED\n":
                break
        assert said[-1:] == ["PAUSED\n"], (said, writer.communicate())
        assert owner.exists()  # the writer holds the library, mid-run, until the test lets it go on

        busy = subprocess.run(
            [sys.executable, "-m", "photosearch", "--library", str(root), "index"],
            capture_output=True,
            text=True,
            env=env,
        )
        assert busy.returncode == 2, (busy.stdout, busy.stderr)
        err = busy.stderr
        assert len(err.strip().splitlines()) == 1 and "busy" in err and "Traceback" not in err

        reads = []

        def read() -> None:
            during = owner.exists()
            hits = reader.search_text("a photo", k=5)
            reads.append((during, len(hits), reader.status()["photos"]["indexed"]))

        for _ in range(3):  # the reader makes progress while the writer holds the library
            read()
        errors: list[BaseException] = []

        def read_while_writing() -> None:
            try:
                while writer.poll() is None:
                    read()
            except BaseException as exc:  # reported below
                errors.append(exc)

        thread = threading.Thread(target=read_while_writing)
        thread.start()
        w_out, w_err = writer.communicate("", timeout=300)  # closes its stdin: the writer goes on
        thread.join(timeout=60)
        assert not thread.is_alive(), "the reader deadlocked"
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert not errors, errors
    assert writer.returncode == 0, w_err
    assert json.loads(w_out)["encoded"] == 60
    during = [r for r in reads if r[0]]
    assert len(during) >= 3, "the reader made no progress while the writer held the library"
    assert all(n == 5 for _, n, _ in during)
    assert all(a <= b for (_, _, a), (_, _, b) in itertools.pairwise(reads))
    assert _integrity(root) == "ok"
    assert reader.status()["photos"]["indexed"] == 66
    reader.close()


# ------------------------------------------------------------------ 4. disk full, read-only library


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb") as fh:
        chunk = b"\0" * 65536
        with contextlib.suppress(OSError):
            while True:
                fh.write(chunk)
                fh.flush()
    with contextlib.suppress(OSError), open(folder / "filler2", "wb") as fh:
        while True:  # the last few bytes
            fh.write(b"\0" * 512)
            fh.flush()
    return filler


@needs_mount
def test_full_disk_is_one_line_error_and_the_index_survives(tmp_path, photos_dir, capsys):
    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=3m", "tmpfs", target=disk):
        lib = str(disk / "lib")
        code, _, err = cli(capsys, "--library", lib, *MODEL_ARGS, "--json", "index", str(photos_dir))
        assert code == 0, err
        make_photos(photos_dir / "more", 40, start=300)
        _fill(disk)
        code, out, err = cli(capsys, "--library", lib, "--json", "index")
        assert code == 2, (out, err)
        assert len(err.strip().splitlines()) == 1 and "full" in err and "Traceback" not in err
        (disk / "filler").unlink()
        (disk / "filler2").unlink(missing_ok=True)
        assert _integrity(Path(lib)) == "ok"
        code, out, _ = cli(capsys, "--library", lib, "--json", "search", "sky", "-k", "50")
        assert code == 0 and len(json.loads(out)) >= 9
        # With space again, the next run finishes the job: nothing was written off as a bad file.
        code, out, err = cli(capsys, "--library", lib, "--json", "index")
        assert code == 0, err
        code, out, _ = cli(capsys, "--library", lib, "--json", "status")
        assert json.loads(out)["photos"] == {"indexed": 49, "skipped": 0, "offline": 0, "pending": 0}


def test_sqlite_full_is_one_line_error_and_the_index_survives(library, photos_dir, tmp_path, monkeypatch):
    """Where mounting is not possible: SQLITE_FULL via max_page_count on the writing connection."""
    library.add_folder(photos_dir)
    library.index()
    make_photos(photos_dir / "more", 30, start=300)
    conn = library.store.conn
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(PhotoSearchError, match="full") as caught:
        library.index()
    assert "\n" not in str(caught.value)
    conn.execute("PRAGMA max_page_count = 1073741823")
    assert library.store.integrity_ok()
    assert len(library.search_text("sky", k=50)) >= 9
    library.index()
    assert library.status()["photos"]["indexed"] == 39


def test_thumbnail_enospc_is_not_recorded_as_a_bad_photo(library, photos_dir, monkeypatch):
    """A full disk while writing thumbnails stops the run; it must not mark good photos as skipped."""
    import errno

    import photosearch.core.indexer as indexer

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(indexer, "save_thumbnail", no_space)
    library.add_folder(photos_dir)
    with pytest.raises(PhotoSearchError, match=r"cannot write thumbnails.*No space left"):
        library.index()
    assert library.status()["photos"]["skipped"] == 0
    monkeypatch.undo()
    library.index()
    assert library.status()["photos"] == {"indexed": 9, "skipped": 0, "offline": 0, "pending": 0}


@needs_mount
def test_read_only_library_searches_and_refuses_writes_in_one_line(tmp_path, photos_dir, capsys):
    lib = tmp_path / "lib"
    code, _, err = cli(capsys, "--library", str(lib), *MODEL_ARGS, "--json", "index", str(photos_dir))
    assert code == 0, err
    ro = tmp_path / "ro"
    ro.mkdir()
    with mounted("--bind", str(lib), target=ro):
        subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], check=True)
        code, out, err = cli(capsys, "--library", str(ro), "--json", "search", "sky", "-k", "5")
        assert code == 0 and len(json.loads(out)) == 5, err
        code, out, err = cli(capsys, "--library", str(ro), "--json", "status")
        assert code == 0 and json.loads(out)["photos"]["indexed"] == 9, err
        for args in (["index"], ["folders", "add", str(tmp_path)]):
            code, out, err = cli(capsys, "--library", str(ro), *args)
            assert code == 2, (args, out, err)
            assert len(err.strip().splitlines()) == 1 and "read-only" in err and "Traceback" not in err
    assert _integrity(lib) == "ok"


def test_library_opened_read_only_can_search_but_not_write(library, photos_dir):
    library.add_folder(photos_dir)
    library.index()
    library.close()
    ro = Library(library.root, readonly=True)
    try:
        assert ro.readonly and len(ro.search_text("sky", k=5)) == 5
        assert ro.status()["photos"]["indexed"] == 9
        with pytest.raises(PhotoSearchError, match="read-only"):
            ro.index()
        with pytest.raises(PhotoSearchError, match="read-only"):
            ro.add_folder(photos_dir)
    finally:
        ro.close()


# ------------------------------------------------------------------ 6. fuzzing captions import


_CELL = st.one_of(
    st.sampled_from(["a.jpg", "sub/b.png", "../outside.jpg", "missing.jpg", "", "sub", "a.jpg\x00", "\\sub\\b.png"]),
    st.text(max_size=20),
)


@st.composite
def _csv_text(draw) -> str:
    header = draw(st.sampled_from(["image,description", "path\tcaption", "file;text", "", "nonsense", "image"]))
    rows = draw(st.lists(st.tuples(_CELL, st.text(max_size=30)), max_size=6))
    sep = {"path\tcaption": "\t", "file;text": ";"}.get(header, ",")
    quote = draw(st.booleans())
    body = "\n".join(sep.join(f'"{c}"' if quote and '"' not in c else c for c in (path, text)) for path, text in rows)
    return header + "\n" + body + draw(st.sampled_from(["", "\n", '\n"unterminated']))


@pytest.fixture(scope="module")
def fuzz_library(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    album = folder / "album"
    make_photo(album / "a.jpg", seed=1)
    make_photo(album / "sub" / "b.png", seed=2)
    make_photo(folder / "outside.jpg", seed=3)
    lib = Library(folder / "lib", model=TINY_MODEL, pretrained="random")
    lib.add_folder(album)
    lib.index()
    yield lib, album
    lib.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_csv_text(), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_fuzz_caption_import_through_the_library(fuzz_library, text, encoding):
    lib, album = fuzz_library
    csv_path = album / "captions.csv"
    csv_path.write_bytes(text.encode(encoding, errors="replace"))
    before = lib.store.query("SELECT COUNT(*) FROM captions")[0][0]
    try:
        report = lib.import_captions(csv_path)
    except PhotoSearchError as exc:
        assert str(exc) and "\n" not in str(exc)
        assert lib.store.query("SELECT COUNT(*) FROM captions")[0][0] == before
    else:
        assert {"imported", "duplicates", "not_indexed", "missing", "rejected"} <= set(report)
        after = lib.store.query("SELECT COUNT(*) FROM captions")[0][0]
        assert after == before + report["imported"]
        outside = str((album.parent / "outside.jpg").resolve())
        assert not lib.store.query("SELECT 1 FROM captions WHERE path = ?", (outside,))
    # Consistent: every caption is embedded, full-text index agrees, database is sound.
    (unembedded,) = lib.store.query(
        "SELECT COUNT(*) FROM captions c WHERE NOT EXISTS (SELECT 1 FROM caption_embeddings e "
        "WHERE e.caption_id = c.id AND e.model_id = ?)",
        (lib.model_id,),
    )[0]
    assert unembedded == 0
    with lib.store.write() as conn:
        conn.execute("INSERT INTO captions_fts(captions_fts) VALUES ('integrity-check')")
    assert lib.store.integrity_ok()
    assert isinstance(lib.search_captions("a"), list)
