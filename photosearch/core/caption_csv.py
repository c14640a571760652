"""Streaming reader of caption CSVs: one bad line is reported with its number and never spoils the rest.

The file is read line by line in bounded memory. Bytes are decoded strictly: UTF-8 (with or without a
BOM) or UTF-16 with a BOM; a line that is not valid is rejected, the good lines around it are kept
unchanged. A record may span lines only inside a quoted field; a quote left open (until the end of the
file, or for more than MAX_RECORD_LINES lines or MAX_RECORD_BYTES) rejects just the line it opened on,
and reading resumes on the next line.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import AnyStr

from photosearch.core.errors import PhotoSearchError

MAX_RECORD_BYTES = 64 * 1024  # a caption longer than this is not a caption
MAX_RECORD_LINES = 64
IMAGE_COLUMNS = ("image", "path", "file", "filename")
TEXT_COLUMNS = ("description", "caption", "text")
_DELIMITERS = (",", "\t", ";")
HEADER_HELP = "caption CSV needs a header row with columns image and description (or caption)"
_TOO_LONG = object()
_UNCLOSED = object()
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class Row:
    """One record of the CSV: a photo path and caption, a missing file, or a rejected line."""

    line: int
    kind: str  # "row" | "missing" | "rejected"
    path: str = ""  # row: absolute photo path; missing: the path as written
    text: str = ""  # row: the caption; rejected: the reason


def iter_caption_csv(csv_path: str | os.PathLike[str], inside: tuple[str, ...] | None = None) -> Iterator[Row]:
    """Rows of an `image,description` CSV, streamed. `inside`: real paths of the watched folders; rows
    for photos elsewhere are rejected. Raises PhotoSearchError when the file itself is unusable."""
    path = Path(csv_path)
    fh = _open(path)
    base = Path(os.path.abspath(path)).parent.resolve()
    with fh:
        records = _records(_lines(fh, path))
        delimiter, columns = _header(records)
        for line, text in records:
            if isinstance(text, str) and not text.strip():
                continue
            yield _row(line, text, delimiter, columns, base, inside)


# --- bytes -> numbered lines ------------------------------------------------------


def _open(path: Path) -> io.BufferedReader:
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise PhotoSearchError(f"caption CSV is not a file: {path}")
        return open(path, "rb")
    except FileNotFoundError as exc:
        raise PhotoSearchError(f"caption CSV not found: {path}") from exc
    except OSError as exc:
        raise PhotoSearchError(f"caption CSV is not readable: {path} ({exc.strerror or exc})") from exc


def _lines(fh: io.BufferedReader, path: Path) -> Iterator[tuple[int, object]]:
    """(line number, text) where text is a str with its line end, None when not decodable, or _TOO_LONG."""
    try:
        head = fh.peek(4)[:4]
        if head[:2] in _UTF16_BOMS:
            yield from _utf16_lines(fh)
        else:
            if head[:3] == codecs.BOM_UTF8:
                fh.read(3)
            yield from _utf8_lines(fh)
    except OSError as exc:
        raise PhotoSearchError(f"caption CSV could not be read to the end: {path} ({exc.strerror or exc})") from exc


def _utf8_lines(fh: io.BufferedReader) -> Iterator[tuple[int, object]]:
    return _bounded_lines(fh.readline, b"\n", _utf8_or_none)


def _utf16_lines(fh: io.BufferedReader) -> Iterator[tuple[int, object]]:
    text = io.TextIOWrapper(fh, encoding="utf-16", errors="replace", newline="")
    return _bounded_lines(text.readline, "\n", lambda line: None if "\ufffd" in line else line)


def _bounded_lines(readline: Callable, newline: AnyStr, decode: Callable) -> Iterator[tuple[int, object]]:
    """Numbered lines of at most MAX_RECORD_BYTES, each decoded (None: not decodable); a longer line
    yields _TOO_LONG and is skipped without ever being held whole."""
    number = 0
    while True:
        raw = readline(MAX_RECORD_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_RECORD_BYTES and not raw.endswith(newline):
            while raw and not raw.endswith(newline):
                raw = readline(MAX_RECORD_BYTES)
            yield number, _TOO_LONG
            continue
        yield number, decode(raw)


def _utf8_or_none(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- lines -> records -------------------------------------------------------------


def _records(lines: Iterator[tuple[int, object]]) -> Iterator[tuple[int, object]]:
    """(first line, record text) joining lines while a quoted field is open (odd count of quotes)."""
    pending: list[tuple[int, object]] = []  # lines to read again after an unclosed quote was rejected
    source = iter(lines)
    while True:
        if pending:
            line, text = pending.pop(0)
        else:
            item = next(source, None)
            if item is None:
                return
            line, text = item
        if not isinstance(text, str) or text.count('"') % 2 == 0:
            yield line, text
            continue
        group: list[tuple[int, object]] = [(line, text)]
        quotes, size, closed = text.count('"'), len(text), False
        while len(group) <= MAX_RECORD_LINES and size <= MAX_RECORD_BYTES:
            if pending:
                nxt = pending.pop(0)
            else:
                nxt = next(source, None)
                if nxt is None:
                    break
            group.append(nxt)
            if not isinstance(nxt[1], str):
                break  # a bad line ends any quoted field: it was never closed
            quotes += nxt[1].count('"')
            size += len(nxt[1])
            if quotes % 2 == 0:
                closed = True
                break
        if closed:
            yield line, "".join(str(t) for _, t in group)
        else:
            yield line, _UNCLOSED
            pending = group[1:] + pending


# --- records -> rows --------------------------------------------------------------


def _header(records: Iterator[tuple[int, object]]) -> tuple[str, tuple[int, int]]:
    for _, text in records:
        if not isinstance(text, str) or not text.strip():
            if text is None or text is _TOO_LONG or text is _UNCLOSED:
                raise PhotoSearchError(HEADER_HELP)
            continue
        for delimiter in _DELIMITERS:
            cells = _cells(text, delimiter)
            if cells is None:
                continue
            names = [cell.strip().strip("\ufeff").lower() for cell in cells]
            image_col, text_col = _column(names, IMAGE_COLUMNS), _column(names, TEXT_COLUMNS)
            if image_col is not None and text_col is not None:
                return delimiter, (image_col, text_col)
        raise PhotoSearchError(HEADER_HELP)
    raise PhotoSearchError(HEADER_HELP)


def _column(names: list[str], wanted: tuple[str, ...]) -> int | None:
    return next((names.index(n) for n in wanted if n in names), None)


def _cells(text: str, delimiter: str) -> list[str] | None:
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


def _row(line: int, text: object, delimiter: str, columns: tuple[int, int], base: Path, inside) -> Row:
    if text is None:
        return Row(line, "rejected", text="not valid UTF-8 (or UTF-16 with a byte order mark)")
    if text is _TOO_LONG:
        return Row(line, "rejected", text=f"line longer than {MAX_RECORD_BYTES // 1024} KB")
    if text is _UNCLOSED:
        return Row(line, "rejected", text="a quote opened on this line is never closed")
    assert isinstance(text, str)
    if "\x00" in text:
        return Row(line, "rejected", text="contains NUL bytes")
    cells = _cells(text, delimiter)
    if cells is None:
        return Row(line, "rejected", text="malformed CSV quoting")
    image_col, text_col = columns
    raw_path = cells[image_col].strip() if image_col < len(cells) else ""
    caption = cells[text_col].strip() if text_col < len(cells) else ""
    if not raw_path:
        return Row(line, "rejected", text="empty path")
    if not caption:
        return Row(line, "rejected", text="empty caption")
    resolved, reason = _resolve(raw_path, base)
    if reason:
        return Row(line, "rejected", text=reason)
    if inside is not None and not _under_any(str(resolved), inside):
        return Row(line, "rejected", text="not inside a watched folder")
    try:
        exists = resolved is not None and resolved.is_file()
    except OSError as exc:  # a name or path longer than the file system allows
        return Row(line, "rejected", text=f"path unusable: {exc.strerror or exc}")
    if not exists:
        return Row(line, "missing", path=raw_path)
    return Row(line, "row", path=str(resolved), text=caption)


def _under_any(path: str, inside: tuple[str, ...]) -> bool:
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in inside)


def _resolve(raw_path: str, base: Path) -> tuple[Path | None, str | None]:
    """Absolute paths are taken as written; relative ones must stay inside the CSV's folder."""
    if len(os.fsencode(raw_path)) > 4096:
        return None, "path longer than the file system allows"
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
