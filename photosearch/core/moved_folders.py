"""Offline watched folders whose photos are (nearly) all in another watched folder, by content: most
likely renamed or moved, their old rows still kept (offline) because a drive may come back. `index`
says so, and how to remove the old folder; nothing is removed on its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from photosearch.core.fsnames import from_db
from photosearch.core.store import Store

MOSTLY = 0.9  # the share of its photos found elsewhere for a folder to count as moved


@dataclass(frozen=True)
class MovedFolder:
    path: str  # the offline folder
    photos: int  # its indexed photos
    found: int  # how many of them an online photo in another watched folder has (the same content)
    elsewhere: str | None  # the watched folder holding all of those, None when they are in several

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "photos": self.photos, "found": self.found, "in": self.elsewhere}


def moved_folders(store: Store) -> list[MovedFolder]:
    """The offline watched folders at least MOSTLY of whose photos are online in other watched folders.
    Costs nothing while no folder is offline; else index lookups for the offline folders' photos."""
    out = []
    for folder_id, path in store.query("SELECT id, path FROM folders WHERE online = 0 ORDER BY path"):
        (total,) = store.query("SELECT COUNT(*) FROM photos WHERE folder_id = ? AND state = 'indexed'", (folder_id,))[0]
        if total == 0:
            continue
        by_folder = store.query(
            "SELECT o.folder_id, COUNT(DISTINCT p.id) FROM photos p JOIN photos o ON o.fingerprint = p.fingerprint "
            "WHERE p.folder_id = ? AND p.state = 'indexed' AND o.offline = 0 AND o.state = 'indexed' "
            "AND o.folder_id != p.folder_id GROUP BY o.folder_id ORDER BY 2 DESC",
            (folder_id,),
        )
        if not by_folder:
            continue
        (found,) = store.query(
            "SELECT COUNT(*) FROM photos p WHERE p.folder_id = ? AND p.state = 'indexed' AND EXISTS (SELECT 1 "
            "FROM photos o WHERE o.fingerprint = p.fingerprint AND o.offline = 0 AND o.state = 'indexed' "
            "AND o.folder_id != p.folder_id)",
            (folder_id,),
        )[0]
        if found < MOSTLY * total:
            continue
        top_id, top_count = by_folder[0]
        elsewhere = None
        if top_count == found:
            elsewhere = from_db(store.query("SELECT path FROM folders WHERE id = ?", (top_id,))[0][0])
        out.append(MovedFolder(from_db(path), total, found, elsewhere))
    return out
