"""The captions table kept in step with the photos: a photo's metadata and sidecar captions, replaced
or moved with it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from photosearch.core.caption_files import read_sidecar

EMBEDDED_SOURCES = ("exif", "xmp", "iptc", "png", "comment", "keyword")  # issue 11: + keywords
SIDECAR_SOURCE = "sidecar"
IMPORTED_SOURCES = ("csv",)  # given by the user (caption import): nowhere else to read them again from
# A photo (or its root folder) that cannot be reached now: its rows may be all that is left of a move.
_TWIN_OFFLINE_SQL = " AND (o.offline = 1 OR EXISTS (SELECT 1 FROM folders f WHERE f.id = o.folder_id AND f.online = 0))"


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


def copy_twin_captions(
    conn: sqlite3.Connection, path: str, fingerprint: str, sources: Iterable[str], *, offline_only: bool
) -> None:
    """Give the photo at `path` copies of the captions (of these sources) of the other photos with the
    same content; with offline_only, only of those that cannot be reached now (a folder renamed or moved
    to another watched folder leaves its old rows offline, with the imported captions). Copies, not
    moves: the old rows keep theirs if their drive comes back. A caption already there is not added."""
    sources = tuple(sources)
    marks = ",".join("?" * len(sources))
    conn.execute(
        "INSERT OR IGNORE INTO captions(path, source, text) SELECT DISTINCT ?, c.source, c.text FROM photos o "
        f"JOIN captions c ON c.path = o.path WHERE o.fingerprint = ? AND o.path != ? AND c.source IN ({marks})"
        + (_TWIN_OFFLINE_SQL if offline_only else ""),
        (path, fingerprint, path, *sources),
    )
