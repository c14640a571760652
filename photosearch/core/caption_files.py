"""Caption files that sit beside photos: an imported CSV, or a .txt sidecar per photo."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from photosearch.core.caption_csv import iter_caption_csv

MAX_SIDECAR_BYTES = 64 * 1024


@dataclass
class CsvCaptions:
    rows: list[tuple[str, str]] = field(default_factory=list)  # (absolute photo path, caption)
    missing: list[tuple[int, str]] = field(default_factory=list)  # (line, path as written)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, one-line reason)


def read_caption_csv(csv_path: str | os.PathLike[str], inside: tuple[str, ...] | None = None) -> CsvCaptions:
    """All rows of an `image,description` CSV at once (see caption_csv.iter_caption_csv to stream them)."""
    result = CsvCaptions()
    for row in iter_caption_csv(csv_path, inside):
        if row.kind == "row":
            result.rows.append((row.path, row.text))
        elif row.kind == "missing":
            result.missing.append((row.line, row.path))
        else:
            result.rejected.append((row.line, row.text))
    return result


def sidecar_paths(photo_path: str | os.PathLike[str]) -> list[Path]:
    """Where a photo's caption sidecar may be: IMG_1.txt, then IMG_1.jpg.txt."""
    photo = Path(photo_path)
    candidates = [photo.with_suffix(".txt"), photo.with_name(photo.name + ".txt")]
    return list(dict.fromkeys(candidates))  # the same path twice when there is no suffix


def read_sidecar(photo_path: str | os.PathLike[str], inside: tuple[str, ...] | None = None) -> str | None:
    """Text of the photo's sidecar, or None when there is none (or it is empty/unreadable).

    Only a regular file is read, and a symlinked sidecar only when its target is inside one of the real
    folders `inside` (the watched folders; default: the photo's own folder), so a link to /etc/shadow
    never becomes a caption.
    """
    photo = Path(photo_path)
    inside = inside if inside is not None else (os.path.realpath(photo.parent),)
    for candidate in sidecar_paths(photo):
        try:
            if candidate.is_symlink() and _outside(candidate, inside):
                continue
        except OSError:  # e.g. the name plus ".txt" is longer than the file system allows
            continue
        text = _read_small_text(candidate)
        if text:
            return text
    return None


def _outside(path: Path, inside: tuple[str, ...]) -> bool:
    real = os.path.realpath(path)
    return not any(real == f or real.startswith(f.rstrip(os.sep) + os.sep) for f in inside)


# --- sidecars ------------------------------------------------------------------------


def _read_small_text(path: Path) -> str | None:
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO would block, a folder can't be read
            return None
        with open(path, "rb") as fh:
            data = fh.read(MAX_SIDECAR_BYTES)
    except OSError:
        return None
    text = _decode_sidecar(data)
    text = text.replace("\x00", "").strip()
    return text or None


def _decode_sidecar(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="ignore")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # The 64 KB cut may split the last character; anything else means it isn't UTF-8.
        if len(data) == MAX_SIDECAR_BYTES and exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8-sig", errors="ignore")
    return data.decode("latin-1")
