"""Backups: the database is copied after a run that changed something; a deleted or emptied database is
noticed, never silently replaced by an empty library; `photosearch restore` brings everything back."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from photosearch.cli import main
from photosearch.core import backup
from photosearch.core.errors import PhotoSearchError
from photosearch.core.library import Library
from photosearch.core.store import DB_NAME
from tests.conftest import TINY_MODEL, make_photos

MODEL = ["--model", TINY_MODEL, "--pretrained", "random", "--backend", "torch"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def indexed(tmp_path, capsys):
    photos = tmp_path / "photos"
    make_photos(photos, 4)
    (photos / "c.csv").write_text("image,description\nphoto_0001.jpg,A kite on the beach\n")
    lib = tmp_path / "lib"
    assert run(capsys, "--library", str(lib), *MODEL, "index", str(photos))[0] == 0
    assert run(capsys, "--library", str(lib), *MODEL, "captions", "import", str(photos / "c.csv"))[0] == 0
    return lib, photos


def test_runs_that_change_something_leave_a_few_backups(indexed, capsys):
    lib, photos = indexed
    made = backup.backups(lib)
    assert made
    conn = sqlite3.connect(made[0])
    assert conn.execute("SELECT COUNT(*) FROM captions").fetchone()[0] == 1  # taken after the import
    conn.close()
    assert run(capsys, "--library", str(lib), *MODEL, "index")[0] == 0  # nothing changed: no new backup
    assert backup.backups(lib) == made
    make_photos(photos, 1, start=50)
    assert run(capsys, "--library", str(lib), *MODEL, "index")[0] == 0
    assert len(backup.backups(lib)) == min(len(made) + 1, backup.KEEP)
    source = sqlite3.connect(lib / DB_NAME)
    for _ in range(backup.KEEP + 2):
        backup.make_backup(source, lib)
    source.close()
    assert len(backup.backups(lib)) == backup.KEEP


@pytest.mark.parametrize("damage", ["delete", "empty"])
def test_a_lost_database_is_noticed_and_restore_brings_back_photos_vectors_and_captions(indexed, capsys, damage):
    lib, _ = indexed
    database = lib / DB_NAME
    for suffix in ("-wal", "-shm"):
        (lib / (DB_NAME + suffix)).unlink(missing_ok=True)
    if damage == "delete":
        database.unlink()
    else:
        database.write_bytes(b"")
    code, out, err = run(capsys, "--library", str(lib), *MODEL, "status")
    assert code == 2 and out == ""
    assert str(database) in err and "photosearch restore" in err and len(err.strip().splitlines()) == 1
    assert not database.exists() or database.stat().st_size == 0  # no empty library was started over it
    code, out, err = run(capsys, "--library", str(lib), "--json", "restore")
    assert code == 0, err
    report = json.loads(out)
    assert report["photos"] == 4 and report["captions"] == 1
    code, out, _ = run(capsys, "--library", str(lib), *MODEL, "--json", "status")
    status = json.loads(out)
    assert status["photos"]["indexed"] == 4 and status["photos"]["pending"] == 0 and status["captions"] == 1
    code, out, _ = run(capsys, "--library", str(lib), *MODEL, "--json", "captions", "search", "kite")
    assert json.loads(out)[0]["caption"] == "A kite on the beach"


def test_restore_keeps_the_damaged_database_aside(indexed, capsys):
    lib, _ = indexed
    database = lib / DB_NAME
    damaged = b"SQLite format 3\x00" + b"\x13" * 4000
    database.write_bytes(damaged)
    code, _, err = run(capsys, "--library", str(lib), *MODEL, "status")
    assert code == 2 and "damaged" in err and "photosearch restore" in err
    code, out, _ = run(capsys, "--library", str(lib), "--json", "restore")
    assert code == 0
    kept = json.loads(out)["replaced_database_kept_as"]
    assert kept and Path(kept).read_bytes() == damaged


def test_no_backup_no_remains_and_no_backups_to_restore(tmp_path, capsys):
    fresh = Library(tmp_path / "new", model=TINY_MODEL, pretrained="random")  # a new library is fine
    fresh.close()
    code, _, err = run(capsys, "--library", str(tmp_path / "new"), "restore")
    assert code == 2 and "no backups" in err
    code, _, err = run(capsys, "--library", str(tmp_path / "nowhere"), "restore")
    assert code == 2 and "no library folder" in err
    (tmp_path / "old" / "thumbs" / "ab").mkdir(parents=True)
    with pytest.raises(PhotoSearchError, match="no backup to restore"):
        Library(tmp_path / "old", model=TINY_MODEL, pretrained="random")


def test_a_negative_schema_version_is_damage_not_a_traceback(indexed, capsys):
    lib, _ = indexed
    conn = sqlite3.connect(lib / DB_NAME)
    conn.execute("PRAGMA user_version = -3")
    conn.close()
    code, _, err = run(capsys, "--library", str(lib), *MODEL, "status")
    assert code == 2 and "damaged" in err and "photosearch restore" in err and "Traceback" not in err


def test_a_database_that_is_a_folder_is_named(tmp_path, capsys):
    (tmp_path / "lib" / DB_NAME).mkdir(parents=True)
    code, _, err = run(capsys, "--library", str(tmp_path / "lib"), *MODEL, "status")
    assert code == 2 and str(tmp_path / "lib" / DB_NAME) in err and "folder" in err


_REAL_GMTIME = time.gmtime


class _Clock:
    """time.time_ns and time.gmtime driven by hand: a list of readings, taken in order by either."""

    def __init__(self, readings_ns: list[int]) -> None:
        self.readings = list(readings_ns)

    def time_ns(self) -> int:
        return self.readings.pop(0) if len(self.readings) > 1 else self.readings[0]

    def gmtime(self, secs: float | None = None):
        return _REAL_GMTIME(self.time_ns() // 10**9 if secs is None else secs)


@pytest.mark.parametrize(
    "second_backup_clock",
    [
        # The second ticks between two looks at the clock (a thread switch can hold this one for ms):
        # the old stamp took its seconds from one look and its nanoseconds from the next.
        [1_800_000_000 * 10**9 + 999_999_000, 1_800_000_001 * 10**9 + 760_471],
        [1_799_999_998 * 10**9],  # the clock was stepped back (NTP, a person) between two backups
    ],
)
def test_the_newest_backup_is_the_last_one_made_whatever_the_clock_does(tmp_path, monkeypatch, second_backup_clock):
    source = sqlite3.connect(tmp_path / "db.sqlite3")
    source.execute("CREATE TABLE t (x)")
    clock = _Clock([1_800_000_000 * 10**9 + 900_000_000])
    monkeypatch.setattr(time, "time_ns", clock.time_ns)
    monkeypatch.setattr(time, "gmtime", clock.gmtime)
    first = backup.make_backup(source, tmp_path)
    source.execute("INSERT INTO t VALUES (1)")
    source.commit()
    clock.readings = list(second_backup_clock)
    second = backup.make_backup(source, tmp_path)
    source.close()
    assert backup.backups(tmp_path) == [second, first]


def test_two_restores_in_one_second_keep_both_replaced_databases(indexed, capsys, monkeypatch):
    lib, _ = indexed
    database = lib / DB_NAME
    frozen = time.gmtime()
    monkeypatch.setattr(time, "gmtime", lambda secs=None: frozen)  # both restores see the same second
    kept = []
    for damage in (b"first damaged database", b"second damaged database"):
        for suffix in ("-wal", "-shm"):
            (lib / (DB_NAME + suffix)).unlink(missing_ok=True)
        database.write_bytes(b"SQLite format 3\x00" + damage)
        code, out, err = run(capsys, "--library", str(lib), "--json", "restore")
        assert code == 0, err
        kept.append(Path(json.loads(out)["replaced_database_kept_as"]))
    assert kept[0] != kept[1]
    assert kept[0].read_bytes().endswith(b"first damaged database")
    assert kept[1].read_bytes().endswith(b"second damaged database")
