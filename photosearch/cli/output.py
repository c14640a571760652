"""What the command line prints: JSON or human lines on stdout, notes and progress bars on stderr."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from photosearch.cli.parser import EXIT_BROKEN_PIPE, EXIT_OK
from photosearch.core.dates import iso_date
from photosearch.core.errors import PhotoSearchError
from photosearch.core.terminal import json_text, safe


def _note(message: str) -> None:
    print(safe(message), file=sys.stderr)


def _emit(args: argparse.Namespace, data: Any, human: str) -> int:
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    if args.json:
        indent = None if isinstance(data, list) else 2
        text = json_text(data, indent)
        if _fitted(text, encoding) != text:  # JSON's own \u escapes: still valid, every string exact
            text = json_text(data, indent, ascii_only=True)
    else:
        text = _fitted(human, encoding)
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()  # now, so a failed write is answered here and not by a traceback at exit
    except BrokenPipeError:  # the reader has all it wanted (`| head`): stop without a word
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        _stdout_to_devnull()
        raise PhotoSearchError(f"cannot write the output: {exc.strerror or exc}") from None
    return EXIT_OK


def _fitted(text: str, encoding: str) -> str:
    """`text` as `encoding` can write it (ASCII, Latin-1, a Windows code page when redirected): a
    character it lacks is written as Python writes it (\\u2014), not as "?", so the reader can still
    tell which it was ("?" is also a real character in file names)."""
    return text.encode(encoding, "backslashreplace").decode(encoding)


def _stdout_to_devnull() -> None:
    """Python's documented recipe (see the signal module, "Note on SIGPIPE"): what is still buffered
    would fail again in the interpreter's final flush, so that flush goes to devnull instead."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # a stdout without a file descriptor (captured, replaced) has none to fail
        pass


_UNITS = {"encoding": "photo", "importing": "row", "captions": "caption", "reading text": "photo"}


class _ProgressBar:
    """tqdm on stderr: count, rate and ETA while encoding photos, importing rows or embedding captions."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar = None
        self._phase = None

    def update(self, progress) -> None:
        if not self.enabled or progress.phase not in _UNITS:
            return
        if self._bar is None or self._phase != progress.phase:
            from tqdm import tqdm

            self.close()
            total = progress.total or None
            unit = _UNITS[progress.phase]
            self._bar = tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True)
            self._phase = progress.phase
        self._bar.n = progress.done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _results_text(results) -> str:
    if not results:
        return "no matches"
    lines = []
    for r in results:
        score = "       " if r.score is None else f"{r.score:7.4f}"
        date = (iso_date(r.date) or "")[:10]
        why = f"  [{', '.join(r.why)}]" if r.why else ""
        lines.append(f"{score}  {date}  {safe(r.path)}{why}" + (f"  — {safe(r.caption)}" if r.caption else ""))
    return "\n".join(lines)
