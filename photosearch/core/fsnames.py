"""File names as the database stores them: any name the file system allows, losslessly, as valid UTF-8.

On POSIX a name is bytes; Python hands names that are not UTF-8 over as str with lone surrogates
(U+DC80..U+DCFF, "surrogateescape"), which SQLite cannot bind. In the database each lone surrogate
becomes ESC + a plane-15 private-use character, and ESC itself is doubled, so the mapping is exact,
character by character (a folder's prefix stays the prefix of its photos' paths, as range scans need).
"""

from __future__ import annotations

import re
import sqlite3

ESC = "\uf8ff"
_PLANE15 = 0xF0000
_TO_DB = re.compile("[\ud800-\udfff\uf8ff]")
_FROM_DB = re.compile("\uf8ff(.)", re.DOTALL)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return ESC + ESC if char == ESC else ESC + chr(_PLANE15 + ord(char) - 0xD800)


def _unescape(match: re.Match[str]) -> str:
    char = match.group(1)
    return ESC if char == ESC else chr(0xD800 + ord(char) - _PLANE15)


def to_db(text: str) -> str:
    """The database form of a name (identical for every name that is valid UTF-8 without U+F8FF)."""
    if text.isascii():
        return text
    return _TO_DB.sub(_escape, text)


def from_db(text: str) -> str:
    """The file system form of a stored name (inverse of to_db)."""
    if text.isascii() or ESC not in text:
        return text
    return _FROM_DB.sub(_unescape, text)


def needs_escape(text: str) -> bool:
    return not text.isascii() and _TO_DB.search(text) is not None


def _params(params):
    if isinstance(params, dict):
        if any(v.__class__ is str and not v.isascii() for v in params.values()):
            return {k: to_db(v) if v.__class__ is str else v for k, v in params.items()}
        return params
    if any(v.__class__ is str and not v.isascii() for v in params):
        return tuple(to_db(v) if v.__class__ is str else v for v in params)
    return params


class NameSafeConnection(sqlite3.Connection):
    """Binds every str parameter in its database form, so no caller can fail on an odd file name.

    Reads are not converted (that would cost on every row): code that takes a path back to the file
    system or shows it passes it through from_db.
    """

    def execute(self, sql: str, params=(), /):  # type: ignore[override]
        return super().execute(sql, _params(params))

    def executemany(self, sql: str, rows, /):  # type: ignore[override]
        return super().executemany(sql, (_params(row) for row in rows))
