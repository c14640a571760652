"""What a library holds: status counts, skipped files, one photo's details and thumbnail, duplicate groups
(and sending photos to the trash). Mixed into Library, whose store it reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from photosearch.core import duplicates, ocr
from photosearch.core.encoder import resolve_device
from photosearch.core.errors import PhotoSearchError
from photosearch.core.fsnames import from_db


class LibraryStatusMixin:
    # -- information -------------------------------------------------------------------------
    def status(self) -> dict:
        counts = dict(self.store.query("SELECT state, COUNT(*) FROM photos WHERE offline = 0 GROUP BY state"))
        (offline,) = self.store.query("SELECT COUNT(*) FROM photos WHERE offline = 1")[0]
        (missing,) = self.store.query(
            "SELECT COUNT(*) FROM photos p WHERE p.offline = 0 AND p.state = 'indexed' AND NOT EXISTS "
            "(SELECT 1 FROM embeddings e WHERE e.fingerprint = p.fingerprint AND e.model_id = ?)",
            (self.model_id,),
        )[0]
        # One statement, one snapshot: an import committing between two reads made pending > total.
        captions, captions_pending = self.store.query(
            "SELECT (SELECT COUNT(*) FROM captions), (SELECT COUNT(*) FROM captions c WHERE NOT EXISTS "
            "(SELECT 1 FROM caption_embeddings e WHERE e.caption_id = c.id AND e.model_id = ?))",
            (self.model_id,),
        )[0]
        problems = self.store.query("SELECT COUNT(*) FROM scan_problems")[0][0] if self._has_scan_problems() else 0
        try:
            device = resolve_device(self.device)
        except PhotoSearchError as exc:
            device = f"unavailable ({exc})"
        encoder = self._encoder
        return {
            "library": str(self.root),
            "model": self.spec.describe(),
            "model_id": self.model_id,
            "device": device,
            "backend": self.backend_name,
            "quantization": getattr(encoder, "quant_check", None) or self.quant_verdict(),
            "folders": [{"path": f.path, "online": f.online, "photos": f.photos} for f in self.folders()],
            "photos": {
                "indexed": counts.get("indexed", 0) - missing,
                "skipped": counts.get("skipped", 0) + problems,
                "offline": offline,
                "pending": counts.get("pending", 0) + missing,
            },
            "captions": captions,
            "captions_pending": captions_pending,  # not embedded yet: the next index or import resumes them
            "ocr": ocr.counts(self.store),
        }

    def duplicates(
        self, similarity: float | None = None, should_stop: Callable[[], bool] | None = None
    ) -> list[duplicates.DuplicateGroup]:
        """Groups of exact copies, near-identical photos and (given a CLIP cosine) similar shots.
        Raises errors.Cancelled once should_stop() says True (see duplicates.find_groups)."""
        return duplicates.find_groups(
            self.store, self.model_id, similarity=similarity, thumbs=self.thumbs, should_stop=should_stop
        )

    def move_to_trash(self, paths: list[str]) -> list[tuple[str, str]]:
        """Send photos to the system trash (never deleted outright) and drop them from the index.
        Returns (path, problem) for each one that stayed."""
        if self.readonly:
            raise PhotoSearchError(f"the library at {self.root} is read-only; it can be searched but not changed")
        problems = duplicates.trash(list(paths), [f.path for f in self.folders()])
        self.apply_changes(paths, read_text=False)
        return problems

    def _has_scan_problems(self) -> bool:
        # A read-only library made by an older version may predate the table (it can't be migrated).
        return bool(self.store.query("SELECT 1 FROM sqlite_master WHERE name = 'scan_problems'"))

    def skipped(self, connected_only: bool = False) -> list[dict]:
        """Every file indexing left out, with its reason. connected_only leaves out the skipped photos of
        folders (or files) now offline, as status()'s count does: the list then has as many as it says."""
        sql = "SELECT path, reason FROM photos WHERE state = 'skipped'" + (" AND offline = 0" if connected_only else "")
        if self._has_scan_problems():
            sql += " UNION ALL SELECT path, reason FROM scan_problems"
        rows = self.store.query(sql + " ORDER BY path")
        return [{"path": from_db(p), "reason": r} for p, r in rows]

    def photo_details(self, path: str) -> dict | None:
        rows = self.store.query(
            "SELECT id, path, size, mtime_ns, fingerprint, width, height, taken, state, reason, offline "
            "FROM photos WHERE path = ?",
            (path,),
        )
        if not rows:
            return None
        keys = (
            "id",
            "path",
            "size",
            "mtime_ns",
            "fingerprint",
            "width",
            "height",
            "taken",
            "state",
            "reason",
            "offline",
        )
        details = dict(zip(keys, rows[0], strict=True))
        details["path"] = from_db(details["path"])
        # The date the grid, the timeline and date filters use: taken, else the file's time.
        details["date"] = details["taken"] if details["taken"] is not None else details["mtime_ns"] / 1e9
        details["captions"] = [
            {"source": s, "text": t}
            for s, t in self.store.query("SELECT source, text FROM captions WHERE path = ?", (path,))
        ]
        return details

    def thumbnail(self, path: str, fingerprint: str | None = None) -> Path | None:
        """The cached thumbnail of a library photo, made on demand if the cache lost it."""
        if not fingerprint:
            rows = self.store.query("SELECT fingerprint FROM photos WHERE path = ?", (path,))
            fingerprint = rows[0][0] if rows else None
        if not fingerprint:
            return None
        return self.thumbs.ensure(path, fingerprint)
