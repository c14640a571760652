"""One writing process per library: a lock file, so a GUI and a CLI never index the same library at once."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from photosearch.core.errors import LibraryBusyError


@contextlib.contextmanager
def writer_lock(root: Path, what: str = "indexing") -> Iterator[None]:
    """Hold the library's writer lock, or fail at once with a message naming the holder."""
    lock = FileLock(str(root / "writer.lock"))
    owner = root / "writer.owner"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = _read(owner) or "another PhotoSearch process"
        raise LibraryBusyError(f"the library is busy: {holder}; try again when it finishes") from None
    try:
        with contextlib.suppress(OSError):
            owner.write_text(f"PhotoSearch process {os.getpid()} is {what}", encoding="utf-8")
        yield
    finally:
        with contextlib.suppress(OSError):
            owner.unlink()
        lock.release()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
