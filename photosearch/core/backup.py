"""Backups of the library database, and the guard that never starts a new library over an old one.

After a run that changed something, SQLite's online backup copies the database (a consistent snapshot,
even while others read it) into backups/, keeping the newest few. `restore` puts the newest sound one
back; the database it replaces is moved aside, not deleted.
"""

from __future__ import annotations

import calendar
import contextlib
import logging
import os
import shutil
import sqlite3
import time
from pathlib import Path

from photosearch.core.atomic_files import replace_atomically
from photosearch.core.errors import PhotoSearchError

BACKUP_DIR = "backups"
KEEP = 3
WATCHER_INTERVAL_S = 15 * 60  # small change sets from a file watcher: at most one backup this often
_PREFIX, _SUFFIX = "library-", ".sqlite3"
# What a library folder holds besides its database: if these are there, a library existed.
_REMAINS = (BACKUP_DIR, "thumbs", "search-cache")

log = logging.getLogger(__name__)


def backups(root: Path) -> list[Path]:
    """This library's backups, newest first."""
    folder = Path(root) / BACKUP_DIR
    try:
        found = [p for p in folder.iterdir() if p.name.startswith(_PREFIX) and p.name.endswith(_SUFFIX)]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.name, reverse=True)


def make_backup(conn: sqlite3.Connection, root: Path, keep: int = KEEP) -> Path:
    """Copy the database behind `conn` into backups/ (atomically) and drop all but the newest `keep`."""
    folder = Path(root) / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    final = folder / f"{_PREFIX}{_next_stamp(backups(root))}{_SUFFIX}"
    replace_atomically(final, lambda tmp: _copy_database(conn, tmp))
    for old in backups(root)[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()
    return final


def _stamp(ns: int) -> str:
    seconds, fraction = divmod(ns, 1_000_000_000)
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(seconds)) + f"-{fraction:09d}"


def _stamp_ns(name: str) -> int | None:
    stamp = name.removeprefix(_PREFIX).removesuffix(_SUFFIX)
    try:
        when, fraction = stamp.rsplit("-", 1)
        return calendar.timegm(time.strptime(when, "%Y%m%d-%H%M%S")) * 1_000_000_000 + int(fraction)
    except ValueError:
        return None


def _next_stamp(existing: list[Path]) -> str:
    """Now, from one look at the clock; but always after the newest backup, so that names sort in the
    order the backups were made even when the clock was stepped back (restore takes the first)."""
    now = time.time_ns()
    newest = _stamp_ns(existing[0].name) if existing else None
    if newest is not None and now <= newest:
        now = newest + 1
    return _stamp(now)


def backup_quietly(conn: sqlite3.Connection, root: Path, min_age_s: float = 0.0) -> Path | None:
    """A backup unless the newest is younger than min_age_s; a failure (full disk) is logged, not raised."""
    newest = backups(root)
    if newest and min_age_s and time.time() - _mtime(newest[0]) < min_age_s:
        return None
    try:
        return make_backup(conn, root)
    except (OSError, sqlite3.Error) as exc:
        log.warning("could not back up the library database to %s: %s", Path(root) / BACKUP_DIR, exc)
        return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def guard_against_fresh_start(root: Path, database: Path) -> None:
    """Refuse to create an empty database where a library's remains show one existed."""
    try:
        size = database.stat().st_size
    except FileNotFoundError:
        size = None
    except OSError:
        return  # SQLite will say what is wrong with it
    if size not in (None, 0) or not _has_remains(Path(root)):
        return
    state = "is missing" if size is None else "is empty"
    newest = next(iter(backups(root)), None)
    if newest is None:
        advice = f"there is no backup to restore; move {root} away to start a new library"
    else:
        advice = f"run `photosearch restore` to bring back the newest backup ({newest.name})"
    raise PhotoSearchError(f"the library database {database} {state} but {root} held a library; {advice}")


def _has_remains(root: Path) -> bool:
    for name in _REMAINS:
        with contextlib.suppress(OSError), os.scandir(root / name) as it:
            if next(it, None) is not None:
                return True
    return False


def sound(path: Path) -> bool:
    """Whether a database file opens and passes SQLite's quick check."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def restore(root: Path, database: Path) -> dict:
    """Put the newest sound backup in place of the database; the one replaced is kept beside it."""
    candidates = backups(root)
    chosen = next((b for b in candidates if sound(b)), None)
    if chosen is None:
        where = Path(root) / BACKUP_DIR
        raise PhotoSearchError(f"no usable backup in {where}" if candidates else f"no backups in {where}")
    aside = _aside_name(database)
    kept = None
    if database.exists() and database.stat().st_size > 0:
        kept = aside
        os.replace(database, kept)
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        os.replace(wal, aside.with_name(aside.name + "-wal"))
    with contextlib.suppress(FileNotFoundError):
        database.with_name(database.name + "-shm").unlink()
    src = sqlite3.connect(f"file:{chosen}?mode=ro", uri=True)
    try:
        replace_atomically(
            database, lambda tmp: _copy_database(src, tmp), database.with_name(f".{database.name}.restoring")
        )
    finally:
        src.close()
    shutil.rmtree(Path(root) / "search-cache", ignore_errors=True)  # rebuilt from the restored database
    return {"restored_from": str(chosen), "replaced_database_kept_as": str(kept) if kept else None}


def _aside_name(database: Path) -> Path:
    """database.replaced-<UTC time>, with -2, -3... when a restore in the same second took that name."""
    base = f"{database.name}.replaced-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    aside, n = database.with_name(base), 1
    while aside.exists() or aside.with_name(aside.name + "-wal").exists():
        n += 1
        aside = database.with_name(f"{base}-{n}")
    return aside


def _copy_database(conn: sqlite3.Connection, path: Path) -> None:
    """SQLite's online backup of conn's database into a new file at path (consistent while others read)."""
    dest = sqlite3.connect(path)
    try:
        conn.backup(dest)
    finally:
        dest.close()
