"""Caption files that sit beside photos: an imported CSV, or a .txt sidecar per photo."""

from __future__ import annotations

import csv
import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photosearch.core.errors import PhotoSearchError

MAX_CSV_BYTES = 200 * 1024 * 1024
MAX_SIDECAR_BYTES = 64 * 1024

_IMAGE_COLUMNS = ("image", "path", "file", "filename")
_TEXT_COLUMNS = ("description", "caption", "text")
_DELIMITERS = (",", "\t", ";")
_HEADER_HELP = "caption CSV needs a header row with columns image and description (or caption)"


@dataclass
class CsvCaptions:
    rows: list[tuple[str, str]] = field(default_factory=list)  # (absolute photo path, caption)
    missing: list[tuple[int, str]] = field(default_factory=list)  # (line, path as written)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, one-line reason)


def read_caption_csv(csv_path: str | os.PathLike[str]) -> CsvCaptions:
    """Read `image,description` rows; raises PhotoSearchError when the file is unusable."""
    path = Path(csv_path)
    text = _decode_text(_read_csv_bytes(path))
    delimiter, columns = _find_header(text)
    base = Path(os.path.abspath(path)).parent.resolve()
    result = CsvCaptions()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        _read_rows(reader, columns, base, result)
    except csv.Error as exc:
        raise PhotoSearchError(f"caption CSV is malformed near line {reader.line_num}: {exc}") from exc
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


# --- CSV -----------------------------------------------------------------------------


def _read_csv_bytes(path: Path) -> bytes:
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise PhotoSearchError(f"caption CSV not found: {path}") from exc
    except OSError as exc:
        raise PhotoSearchError(f"caption CSV is not readable: {path} ({exc.strerror})") from exc
    if not stat.S_ISREG(st.st_mode):
        raise PhotoSearchError(f"caption CSV is not a file: {path}")
    if st.st_size > MAX_CSV_BYTES:
        raise PhotoSearchError(f"caption CSV is too large ({st.st_size // 1_000_000} MB, limit 200 MB): {path}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PhotoSearchError(f"caption CSV is not readable: {path} ({exc.strerror})") from exc


def _decode_text(data: bytes) -> str:
    """UTF-8 (BOM tolerated) or UTF-16 with a BOM; spreadsheet exports fall back to cp1252/latin-1."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for codec in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _find_header(text: str) -> tuple[str, tuple[int, int]]:
    """(delimiter, (image column, text column)) read from the first non-blank row."""
    first = _first_record(text)
    for delimiter in _DELIMITERS:
        try:
            row = next(r for r in _records(first, delimiter) if any(c.strip() for c in r))
        except (StopIteration, csv.Error):
            continue
        names = [cell.strip().strip("\ufeff").lower() for cell in row]
        image_col = _column(names, _IMAGE_COLUMNS)
        text_col = _column(names, _TEXT_COLUMNS)
        if image_col is not None and text_col is not None:
            return delimiter, (image_col, text_col)
    raise PhotoSearchError(_HEADER_HELP)


def _first_record(text: str) -> str:
    # Only the header is sniffed: skip leading blank lines, keep the first real line.
    lines = text.splitlines(keepends=True)
    offset = 0
    for line in lines:
        if line.strip():
            break
        offset += 1
    return "".join(lines[: offset + 1])


def _records(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _column(names: list[str], wanted: tuple[str, ...]) -> int | None:
    for name in wanted:
        if name in names:
            return names.index(name)
    return None


def _read_rows(reader: Any, columns: tuple[int, int], base: Path, result: CsvCaptions) -> None:
    image_col, text_col = columns
    start, header_seen = 1, False
    for row in reader:
        line, start = start, reader.line_num + 1  # a quoted field may span several lines
        if not any(cell.strip() for cell in row):
            continue
        if not header_seen:
            header_seen = True
            continue
        raw_path = row[image_col].strip() if image_col < len(row) else ""
        caption = row[text_col].strip() if text_col < len(row) else ""
        _add_row(line, raw_path, caption, base, result)


def _add_row(line: int, raw_path: str, caption: str, base: Path, result: CsvCaptions) -> None:
    if "\x00" in raw_path or "\x00" in caption:
        result.rejected.append((line, "contains NUL bytes"))
    elif not raw_path:
        result.rejected.append((line, "empty path"))
    elif not caption:
        result.rejected.append((line, "empty caption"))
    else:
        resolved, reason = _resolve(raw_path, base)
        if reason:
            result.rejected.append((line, reason))
        elif resolved is None or not resolved.is_file():
            result.missing.append((line, raw_path))
        else:
            result.rows.append((str(resolved), caption))


def _resolve(raw_path: str, base: Path) -> tuple[Path | None, str | None]:
    """Absolute paths are taken as written; relative ones must stay inside the CSV's folder."""
    candidate = Path(raw_path)
    if not candidate.is_absolute() and "\\" in raw_path and os.sep == "/":
        candidate = Path(raw_path.replace("\\", "/"))  # written on Windows
    absolute = candidate.is_absolute()
    try:
        resolved = (candidate if absolute else base / candidate).resolve()
    except (OSError, RuntimeError, ValueError):
        return None, "path cannot be resolved (symlink loop?)"
    if not absolute and not resolved.is_relative_to(base):
        return None, "path leads outside the CSV's folder"
    return resolved, None


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
