"""Integrity of saved index snapshots: checksums of their files, and one writer at a time.

A snapshot is a cache rebuilt from SQLite when it does not match, so a damaged one must be noticed
(4 KB overwritten in a faiss file still loads, and answers wrongly). Checksums are CRC-32 (damage, not
an adversary, is the threat; it runs at memory speed). Saves in several processes take a lock file in
beside the snapshot folder without waiting: when another process is saving, this one simply does not.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

_CHUNK = 1 << 22


class SnapshotBusy(Exception):
    """Another process is writing this snapshot right now."""


def checksum(path: Path) -> str:
    """'size:crc32' of a file, read in chunks."""
    crc, size = 0, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
    return f"{size}:{crc:08x}"


def mismatched(folder: Path, sums: dict[str, str]) -> str | None:
    """The first file whose checksum differs from the one saved (None when all match)."""
    if not sums:
        return "no checksums saved"
    for name, expected in sums.items():
        try:
            if checksum(folder / name) != expected:
                return name
        except OSError:
            return name
    return None


@contextlib.contextmanager
def save_lock(folder: Path) -> Iterator[None]:
    """Hold the snapshot folder's writer lock (a file beside it), or raise SnapshotBusy at once."""
    lock = FileLock(str(folder.parent / f".{folder.name}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise SnapshotBusy(str(folder)) from None
    try:
        yield
    finally:
        lock.release()
