"""Text that is safe to show on a terminal, and JSON that keeps every name exact.

Captions and file names come from other people's files: raw, an ESC ] 0 ; ... BEL retitles the window,
ESC [ 2 J clears it, a newline forges an output line and U+202E reverses what follows. Shown text escapes
them the way Python writes them; a name that is not UTF-8 shows its odd bytes as \\xNN.
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 and C1 controls, DEL, bidirectional overrides and isolates, line/paragraph separators, lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a file name that is not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(value: object) -> str:
    """One line of plain, printable text for a human reader (never raises on odd names)."""
    text = str(value)
    return _UNSAFE.sub(_escape, text)


def json_text(data: Any, indent: int | None = None, ascii_only: bool = False) -> str:
    """JSON with every string exact: a name that is not UTF-8 keeps its bytes as \\udcNN escapes
    (Python's json.loads then os.fsencode gives the original bytes back). `ascii_only` writes every
    other character as a \\u escape too, for an output that cannot encode them."""
    text = json.dumps(data, ensure_ascii=ascii_only, indent=indent)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
