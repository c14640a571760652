"""Thumbnails on disk, about 256 px, keyed by content fingerprint (so moves and copies share one)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from photosearch.core.images import ImageError, decode, make_thumbnail, save_thumbnail

THUMB_SIZE = 256


class ThumbnailCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "thumbs"

    def path_for(self, fingerprint: str) -> Path:
        return self.root / fingerprint[:2] / f"{fingerprint}.jpg"

    def get(self, fingerprint: str | None) -> Path | None:
        """The cached thumbnail if it is a whole JPEG; a damaged one (truncated by a full disk, zeroed)
        is deleted so that it gets made again."""
        if not fingerprint:
            return None
        path = self.path_for(fingerprint)
        try:
            with open(path, "rb") as fh:
                head = fh.read(3)
                fh.seek(-2, os.SEEK_END)
                whole = head == b"\xff\xd8\xff" and fh.read(2) == b"\xff\xd9"
        except OSError:  # missing, or too short to seek back
            whole = False
        if whole:
            return path
        with contextlib.suppress(OSError):
            path.unlink()
        return None

    def ensure(self, photo_path: str, fingerprint: str) -> Path | None:
        """The cached thumbnail, made from the photo if it is missing (cache cleared, copied library)."""
        existing = self.get(fingerprint)
        if existing is not None:
            return existing
        try:
            decoded = decode(photo_path, min_side=THUMB_SIZE)
            dest = self.path_for(fingerprint)
            save_thumbnail(make_thumbnail(decoded.image, THUMB_SIZE), dest)
        except (ImageError, OSError):
            return None
        return dest
