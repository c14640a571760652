"""The captions table kept in step with the photos: a photo's metadata and sidecar captions, replaced
or moved with it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from photosearch.core.caption_files import read_sidecar

EMBEDDED_SOURCES = ("exif", "xmp", "iptc", "png", "comment", "keyword")  # issue 11: + keywords
SIDECAR_SOURCE = "sidecar"


def sidecar_captions(path: str, inside: tuple[str, ...]) -> list[tuple[str, str]]:
    text = read_sidecar(path, inside)
    return [(SIDECAR_SOURCE, text)] if text else []


def replace_captions(
    conn: sqlite3.Connection, path: str, sources: Iterable[str], captions: list[tuple[str, str]]
) -> None:
    sources = tuple(sources)
    marks = ",".join("?" * len(sources))
    wanted = {(s, t) for s, t in captions if s in sources and t}
    existing = {
        (s, t): cid
        for cid, s, t in conn.execute(
            f"SELECT id, source, text FROM captions WHERE path = ? AND source IN ({marks})", (path, *sources)
        )
    }
    for key, cid in existing.items():
        if key not in wanted:
            conn.execute("DELETE FROM captions WHERE id = ?", (cid,))
    for source, text in wanted - existing.keys():
        conn.execute("INSERT OR IGNORE INTO captions(path, source, text) VALUES (?, ?, ?)", (path, source, text))


def move_captions(conn: sqlite3.Connection, old: str, new: str) -> None:
    conn.execute("UPDATE OR IGNORE captions SET path = ? WHERE path = ?", (new, old))
    conn.execute("DELETE FROM captions WHERE path = ?", (old,))
