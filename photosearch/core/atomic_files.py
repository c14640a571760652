"""Publishing a file whole or not at all: written beside its final name, flushed to disk, renamed over it.

Used for database backups and restores and for search index snapshots, so a crash or a full disk
leaves the previous file (or none), never a torn one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def replace_atomically(target: Path, make: Callable[[Path], None], tmp: Path | None = None) -> None:
    """make(tmp) writes the new file at tmp (default: a hidden name beside target); it is then
    fsynced and renamed over target. On any failure tmp is removed and target is left as it was."""
    tmp = tmp or target.with_name(f".{target.name}.tmp")
    try:
        make(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_atomically(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """replace_atomically for content written to an open binary file."""

    def make(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            write(fh)

    replace_atomically(target, make)
