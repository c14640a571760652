"""The core's one-line errors, reworded for a person using the window (no command-line flags)."""

from __future__ import annotations

import re

# "; use --pretrained PATH to load a local checkpoint file", "; use --device cpu or auto", ...
_CLI_ADVICE = re.compile(r"\s*[;,]\s*(?:or\s+)?(?:use|pass|run|try)\s+[^;]*--[\w-][^;]*", re.IGNORECASE)
_FLAG = re.compile(r"--[\w-]+(?:\s+[A-Z_]{2,})?")


def in_gui_words(message: str) -> str:
    """Drop command-line advice; the window offers its own actions (Choose a model file..., Settings)."""
    text = _CLI_ADVICE.sub("", message).strip()
    text = _FLAG.sub("", text).strip()
    text = re.sub(r"\s{2,}", " ", text)
    return text[:1].upper() + text[1:] if text else message


def weights_missing(message: str) -> bool:
    return "weights" in message.lower() or "checkpoint" in message.lower()


def switch_failed_text(target: str, reason: str, current: str) -> str:
    return f"Could not switch to {target}: {in_gui_words(reason)}. Still searching with {current}."
