"""Embed the captions that have no vector for a model yet (metadata, sidecars, imported CSVs, text read
from photos), chunk by chunk."""

from __future__ import annotations

import time
from collections.abc import Callable

from photosearch.core.store import Store, vector_to_blob
from photosearch.core.types import Progress

CAPTION_BATCH = 64
# Texts met lately and their vectors: copies of a photo carry the same metadata and text-in-photo
# captions, so each distinct text goes through the model once (bounded: a few MB at 1,024 dimensions).
KNOWN_TEXTS = 4096


def encode_pending_captions(
    store: Store,
    model_id: str,
    encoder_provider: Callable[[], object],
    progress: Callable[[Progress], None] | None = None,
    between_chunks: Callable[[], bool] | None = None,
) -> int:
    """Embed captions that have no vector for this model yet (metadata, sidecars, imported CSVs).

    Walks the captions by id (a keyset, not a rescan from the start per chunk); each chunk commits,
    so a kill leaves the rest pending for the next run. `between_chunks` is called after each commit
    (it waits while the run is paused); when it returns True the run stops there, the rest pending.
    A text met lately is not encoded again."""
    pending_sql = (
        "FROM captions c WHERE c.id > ? AND NOT EXISTS (SELECT 1 FROM caption_embeddings e "
        "WHERE e.caption_id = c.id AND e.model_id = ?)"
    )
    count, last = 0, 0
    encoder = None
    total = None
    started = time.monotonic()
    known: dict[str, object] = {}
    while True:
        rows = store.query(
            f"SELECT c.id, c.text {pending_sql} ORDER BY c.id LIMIT ?", (last, model_id, CAPTION_BATCH * 8)
        )
        if not rows:
            return count
        if total is None and progress:
            total = store.query(f"SELECT COUNT(*) {pending_sql}", (0, model_id))[0][0]
        encoder = encoder or encoder_provider()
        remaining = list(rows)
        missing = [text for text in dict.fromkeys(text for _, text in rows) if text not in known]
        for start in range(0, max(len(missing), 1), CAPTION_BATCH):
            batch = missing[start : start + CAPTION_BATCH]
            if batch:
                known.update(zip(batch, encoder.encode_texts(batch), strict=True))
            ready = [(cid, text) for cid, text in remaining if text in known]
            remaining = [(cid, text) for cid, text in remaining if text not in known]
            with store.write() as conn:
                conn.executemany(
                    "INSERT OR IGNORE INTO caption_embeddings(caption_id, model_id, vector) VALUES (?, ?, ?)",
                    [(cid, model_id, vector_to_blob(known[text])) for cid, text in ready],
                )
            count += len(ready)
            if progress:
                elapsed = max(time.monotonic() - started, 1e-6)
                rate = count / elapsed
                progress(Progress("captions", count, total or count, rate, ((total or count) - count) / rate))
            if between_chunks is not None and between_chunks():
                return count
        while len(known) > KNOWN_TEXTS:  # oldest first; never inside a block, whose rows still need them
            known.pop(next(iter(known)))
        last = rows[-1][0]
