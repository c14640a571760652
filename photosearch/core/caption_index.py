"""The caption vectors of one model as a VectorIndex (faiss, approximate above its threshold), kept in
step with the caption_embeddings table and cached as a checked snapshot beside the photos' one.

Like the photo index it appends what was committed since its last look and rebuilds only when rows at
or below the last id it holds went away (or were embedded late). The snapshot is trusted only when it
still describes a prefix of the table (count, a digest of its last row, file checksums, and a few
stored vectors found at their ids); otherwise it is ignored, rebuilt from SQLite and saved again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from pathlib import Path

import numpy as np

from photosearch.core.index_snapshot import SnapshotError
from photosearch.core.snapshot_files import SnapshotBusy
from photosearch.core.store import Store, blob_to_vectors
from photosearch.core.vector_index import VectorIndex

ANN_THRESHOLD = 200_000  # live captions above which the index goes approximate (faiss IVF)
SNAPSHOT_DIR = "search-cache"  # the photos' snapshots live here too; `restore` clears it
SNAPSHOT_MIN_ADDED = 1_000  # same spacing of saves as the photo index: a save rewrites it all
SNAPSHOT_MIN_SHARE = 0.05
_CHUNK = 65_536  # rows fetched per step: the peak stays near the index itself

log = logging.getLogger(__name__)


def caption_snapshot_folder(root: str | Path, model_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._-")[-60:] or "model"
    digest = hashlib.sha1(model_id.encode()).hexdigest()[:10]
    return Path(root) / SNAPSHOT_DIR / f"captions-{safe}-{digest}"


class CaptionIndex:
    """Not thread-safe by itself: the search engine calls it under its own lock."""

    def __init__(self, store: Store, model_id: str) -> None:
        self.store = store
        self.model_id = model_id
        self.index: VectorIndex | None = None
        self.last_id = 0
        self.count = 0
        self._version: tuple[int, int] | None = None
        self._snapshot_tried = False
        self._saved_count: int | None = None
        self._save_failed = False

    @property
    def folder(self) -> Path:
        return caption_snapshot_folder(self.store.root, self.model_id)

    def refresh(self) -> VectorIndex | None:
        """The index of every caption vector committed so far (None while there is none)."""
        version = self.store.data_version()
        if version == self._version:
            return self.index
        if self.index is not None and self._count_upto(self.last_id) != self.count:
            self.index, self._saved_count = None, None  # deleted or late-embedded rows: start again
        if self.index is None:
            self.last_id, self.count = 0, 0
            if not self._snapshot_tried:
                self._snapshot_tried = True
                self._load_snapshot()
        cursor = self.store.conn.execute(
            "SELECT caption_id, vector FROM caption_embeddings WHERE model_id = ? AND caption_id > ? "
            "ORDER BY caption_id",
            (self.model_id, self.last_id),
        )
        in_bulk = None
        with contextlib.ExitStack() as loading:  # the IVF is trained once, after the last chunk
            while rows := cursor.fetchmany(_CHUNK):
                dim = len(rows[0][1]) // 2
                if self.index is None or self.index.dim != dim:
                    self.index, self.count, self._saved_count = VectorIndex(dim, ann_threshold=ANN_THRESHOLD), 0, None
                if self.index is not in_bulk:
                    loading.enter_context(self.index.bulk())
                    in_bulk = self.index
                ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                self.index.add(ids, blob_to_vectors([r[1] for r in rows], dim))
                self.last_id, self.count = int(ids[-1]), self.count + len(rows)
        self._version = version
        self._maybe_save()
        return self.index

    def vectors_for(self, caption_ids: list[int]) -> dict[int, np.ndarray]:
        """Stored vectors of some captions (those not embedded yet are absent)."""
        out: dict[int, np.ndarray] = {}
        for start in range(0, len(caption_ids), 500):
            chunk = caption_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.store.query(
                f"SELECT caption_id, vector FROM caption_embeddings WHERE model_id = ? AND caption_id IN ({marks})",
                [self.model_id, *chunk],
            )
            if rows:
                vectors = blob_to_vectors([r[1] for r in rows], len(rows[0][1]) // 2)
                out.update(zip((r[0] for r in rows), vectors, strict=True))
        return out

    # -- snapshot ------------------------------------------------------------------------------
    def _count_upto(self, last: int) -> int:
        return self.store.query(
            "SELECT COUNT(*) FROM caption_embeddings WHERE model_id = ? AND caption_id <= ?", (self.model_id, last)
        )[0][0]

    def _row_check(self, caption_id: int) -> str | None:
        rows = self.store.query(
            "SELECT vector FROM caption_embeddings WHERE caption_id = ? AND model_id = ?", (caption_id, self.model_id)
        )
        return hashlib.sha1(b"%d\0" % caption_id + bytes(rows[0][0])).hexdigest() if rows else None

    def _load_snapshot(self) -> None:
        folder = self.folder
        if not folder.is_dir():
            return
        try:
            extra = VectorIndex.snapshot_info(folder)["extra"]
            last, count = int(extra["last_id"]), int(extra["count"])
            if extra.get("model_id") != self.model_id or count <= 0:
                reason: str | None = "made for another model or empty"
            elif self._count_upto(last) != count or self._row_check(last) != extra.get("check"):
                reason = "stale: the database changed since it was saved"
            else:
                index = VectorIndex.load(folder)  # checks the files' checksums and shapes
                reason = "row count differs" if len(index) != count else self._spot_check(index, last)
        except (SnapshotError, OSError, KeyError, TypeError, ValueError) as exc:
            reason = str(exc)
        if reason:
            log.info("ignoring the caption index snapshot in %s: %s", folder, reason)
            return
        self.index, self.last_id, self.count, self._saved_count = index, last, count, count

    def _spot_check(self, index: VectorIndex, last: int, samples: int = 8) -> str | None:
        """A few stored vectors must be the index's vectors at their ids (ids and vectors still agree)."""
        rows = self.store.query(
            "SELECT caption_id, vector FROM caption_embeddings WHERE model_id = ? AND caption_id <= ? "
            "ORDER BY random() LIMIT ?",
            (self.model_id, last, samples),
        )
        for caption_id, blob in rows:
            vector = blob_to_vectors([blob], len(blob) // 2)[0].astype(np.float32)
            ids, scores = index.search(vector, 1, allowed=[caption_id])
            expected = float(vector @ vector)
            if ids.tolist() != [caption_id] or abs(float(scores[0]) - expected) > 0.01 * max(expected, 1.0):
                return f"caption vector {caption_id} is not where the index says"
        return None

    def _maybe_save(self) -> None:
        """Save when the index differs enough from the saved one; never fails a search."""
        if self.index is None or self.count == 0 or self.store.readonly or self._save_failed:
            return
        if self._saved_count is not None:
            added = self.count - self._saved_count
            if added <= 0 or added < max(SNAPSHOT_MIN_ADDED, SNAPSHOT_MIN_SHARE * self._saved_count):
                return
        extra = {
            "model_id": self.model_id,
            "last_id": self.last_id,
            "count": self.count,
            "check": self._row_check(self.last_id),
        }
        try:
            self.index.save(self.folder, extra)
        except SnapshotBusy:
            return  # another process is saving it right now
        except (OSError, RuntimeError) as exc:  # faiss reports write errors as RuntimeError
            log.warning("could not save the caption index snapshot to %s: %s", self.folder, exc)
            self._save_failed = True
            return
        self._saved_count = self.count
