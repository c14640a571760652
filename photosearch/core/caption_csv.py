"""Streaming reader of caption CSVs: one bad line is reported with its number and never spoils the rest.

The file is read line by line in bounded memory; CR, LF and CRLF all end a line. Bytes are decoded
strictly: UTF-8 (with or without a BOM) or UTF-16 with a BOM; a line that is not valid is rejected, the
good lines around it are kept unchanged. A record may span lines only inside a quoted field, and a
quote opens one only at the start of a field (a 5" floppy is a plain quote, as for Python's csv
module); a quote left open (until the end of the file, or for more than MAX_RECORD_LINES lines or
MAX_RECORD_BYTES) rejects just the line it opened on, and reading resumes on the next line.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from photosearch.core.errors import PhotoSearchError

MAX_RECORD_BYTES = 64 * 1024  # a caption longer than this is not a caption
MAX_RECORD_LINES = 64
IMAGE_COLUMNS = ("image", "path", "file", "filename")
TEXT_COLUMNS = ("description", "caption", "text")
_DELIMITERS = (",", "\t", ";")
HEADER_HELP = "caption CSV needs a header row with columns image and description (or caption)"
_TOO_LONG = object()
_UNCLOSED = object()
_OPEN, _CLOSED, _MALFORMED = object(), object(), object()  # how a line leaves its record
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_LINE_ENDS = ("\r", "\n")


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
        records = _Records(_lines(fh, path))
        delimiter, columns = _header(records)
        records.use(delimiter)
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
    # Latin-1 maps each byte to one character and back, so the text layer's universal newlines split
    # the raw bytes at CR, LF and CRLF (bytes UTF-8 never uses inside a character), and each line's
    # bytes are then decoded strictly on their own.
    text = io.TextIOWrapper(fh, encoding="latin-1", newline="")
    return _bounded_lines(text.readline, lambda line: _utf8_or_none(line.encode("latin-1")))


def _utf16_lines(fh: io.BufferedReader) -> Iterator[tuple[int, object]]:
    text = io.TextIOWrapper(fh, encoding="utf-16", errors=_BAD_UTF16, newline="")
    return _bounded_lines(text.readline, lambda line: None if _BAD_UTF16_MARK in line else line)


# What an undecodable stretch of UTF-16 becomes: a lone surrogate, which no valid UTF-16 decodes to
# (U+FFFD, which "replace" gives, is a character a caption may really hold).
_BAD_UTF16, _BAD_UTF16_MARK = "photosearch-caption-csv", "\udfff"
codecs.register_error(_BAD_UTF16, lambda exc: (_BAD_UTF16_MARK, exc.end))


def _bounded_lines(readline: Callable[[int], str], decode: Callable[[str], object]) -> Iterator[tuple[int, object]]:
    """Numbered lines (ended by CR, LF or CRLF) of at most MAX_RECORD_BYTES, each decoded (None: not
    decodable); a longer line yields _TOO_LONG and is skipped without ever being held whole."""
    number = 0
    after_cr = False
    while True:
        raw = readline(MAX_RECORD_BYTES + 1)
        if not raw:
            return
        if after_cr and raw.startswith("\n"):  # the LF of a CRLF that the length limit cut off
            raw = raw[1:]
            if not raw:
                after_cr = False
                continue
        number += 1
        if len(raw) > MAX_RECORD_BYTES and not raw.endswith(_LINE_ENDS):
            while raw and not raw.endswith(_LINE_ENDS):
                raw = readline(MAX_RECORD_BYTES)
            after_cr = raw.endswith("\r")
            yield number, _TOO_LONG
            continue
        after_cr = raw.endswith("\r")
        yield number, decode(raw)


def _utf8_or_none(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- lines -> records -------------------------------------------------------------


class _Records:
    """(first line, record text) joining lines by CSV's rules: a record goes on to the next line only
    while a quoted field is open, and a quote opens one only at the start of a field (elsewhere it is
    a plain character, as Python's csv module reads it). A quote left open, or a quoted field followed
    by more than a delimiter, rejects just the line it opened on; the lines after it are read again."""

    def __init__(self, lines: Iterator[tuple[int, object]]) -> None:
        self._source = lines
        self._again: deque[tuple[int, object]] = deque()
        self.use(_DELIMITERS)  # until the header shows which: a quote after any of them opens a field

    def use(self, delimiters: str | tuple[str, ...]) -> None:
        self._delimiters = "".join(delimiters)
        self._opens = re.compile(f'(?<=[{re.escape(self._delimiters)}])"')

    def __iter__(self) -> _Records:
        return self

    def __next__(self) -> tuple[int, object]:
        line, text = self._again.popleft() if self._again else next(self._source)
        if not isinstance(text, str) or '"' not in text:
            return line, text
        state = self._scan(text, quoted=False)
        if state != _OPEN:
            return line, text  # one line: a bad one is rejected by the csv module with the real delimiter
        group, size = [(line, text)], len(text)
        while state == _OPEN and len(group) <= MAX_RECORD_LINES and size <= MAX_RECORD_BYTES:
            item = self._again.popleft() if self._again else next(self._source, None)
            if item is None:
                break
            group.append(item)
            if not isinstance(item[1], str):
                break  # a bad line ends any quoted field: it was never closed
            size += len(item[1])
            state = self._scan(item[1], quoted=True)
        if state == _CLOSED:
            return line, "".join(str(t) for _, t in group)
        # Closed but followed by more than a delimiter is no better: it was never closed as CSV closes one.
        self._again.extendleft(reversed(group[1:]))
        return line, _UNCLOSED

    def _scan(self, text: str, quoted: bool) -> object:
        """How a line leaves its record: _OPEN inside a quoted field, _CLOSED at the record's end, or
        _MALFORMED when a quoted field closes and goes on with something other than a delimiter."""
        body = text.rstrip("\r\n")
        at = 0
        if not quoted and body.startswith('"'):
            quoted, at = True, 1
        while True:
            if quoted:
                close = body.find('"', at)
                if close < 0:
                    return _OPEN
                if body.startswith('"', close + 1):  # a doubled quote is a quote character
                    at = close + 2
                    continue
                at = close + 1
                if at == len(body):
                    return _CLOSED
                if body[at] not in self._delimiters:
                    return _MALFORMED
            opened = self._opens.search(body, at)
            if opened is None:
                return _CLOSED
            quoted, at = True, opened.end()


# --- records -> rows --------------------------------------------------------------


def _header(records: _Records) -> tuple[str, tuple[int, int]]:
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
