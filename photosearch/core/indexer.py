"""Bring the store up to date with the disk: scan, then decode in a thread pool ahead of the encoder,
encode in batches, and commit each batch in one transaction from this (the only writing) thread.

A kill loses at most the batch in flight: rows are first recorded as 'pending', and a photo counts as
indexed only once its embedding is committed, so the next run picks up exactly what is missing.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np

from photosearch.core.caption_encoding import encode_pending_captions
from photosearch.core.caption_files import read_sidecar
from photosearch.core.caption_rows import (
    EMBEDDED_SOURCES,
    IMPORTED_SOURCES,
    SIDECAR_SOURCE,
    copy_twin_captions,
    replace_captions,
)
from photosearch.core.errors import PhotoSearchError
from photosearch.core.fsnames import from_db
from photosearch.core.images import ImageError, decode, make_thumbnail, save_thumbnail
from photosearch.core.index_items import Job, Prepared, Twins
from photosearch.core.index_plan import record_plan
from photosearch.core.moved_folders import moved_folders
from photosearch.core.phash import phash, store_hash
from photosearch.core.scanner import ScanPlan, ScanStopped, Scope, fingerprint, scan
from photosearch.core.store import Store, collect_garbage, vector_to_blob
from photosearch.core.thumbnails import THUMB_SIZE, ThumbnailCache
from photosearch.core.types import IndexSummary, Progress, Skipped

DECODE_TIMEOUT_S = 60.0  # a single file may not hold the pipeline longer than this
DEFAULT_BATCH = 16  # until the encoder, which knows its own best batch size, has loaded

ProgressFn = Callable[[Progress], None]

# A copy or a touched file: take size and date from a photo with the same content.
_REUSE_KNOWN_SQL = """
UPDATE photos SET state = 'indexed', reason = NULL, fingerprint = :fp,
    width = COALESCE(width, (SELECT o.width FROM photos o WHERE o.fingerprint = :fp AND o.width IS NOT NULL)),
    height = COALESCE(height, (SELECT o.height FROM photos o WHERE o.fingerprint = :fp AND o.height IS NOT NULL)),
    taken = COALESCE(taken, (SELECT o.taken FROM photos o WHERE o.fingerprint = :fp AND o.taken IS NOT NULL))
WHERE id = :id
"""


class Indexer:
    """Runs one indexing pass. `encoder_provider` is only called when something needs encoding."""

    def __init__(
        self,
        store: Store,
        thumbs: ThumbnailCache,
        model_id: str,
        encoder_provider: Callable[[], object],
        workers: int | None = None,
    ) -> None:
        self.store = store
        self.thumbs = thumbs
        self.model_id = model_id
        self._encoder_provider = encoder_provider
        self.workers = workers or max(2, min(4, os.cpu_count() or 2))
        self._inside_roots: tuple[str, ...] | None = None

    def _inside(self) -> tuple[str, ...]:
        """Real paths of the watched folders: sidecars and photos are read only from inside them."""
        if self._inside_roots is None:
            self._inside_roots = tuple(os.path.realpath(p) for _, p, _ in self.store.folders())
        return self._inside_roots

    # -- public ------------------------------------------------------------------------------
    def run(
        self,
        scopes: list[Scope] | None = None,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
    ) -> IndexSummary:
        started = time.monotonic()
        if progress:
            progress(Progress("scanning", 0, 0, 0.0, None))
        try:  # Pause and Cancel reach the scan too: a scan of a huge tree takes minutes
            plan = scan(self.store, scopes, lambda: _stop_asked(pause, cancel))
        except ScanStopped:  # its partial plan is dropped: unlisted folders' photos are not gone
            summary = IndexSummary(cancelled=True, seconds=time.monotonic() - started)
            if progress:
                progress(Progress("done", 0, 0, 0.0, 0.0))
            return summary
        summary = self.apply_plan(plan)
        jobs = self.pending_jobs()
        if jobs and not (cancel and cancel.is_set()):
            self._encode_photos(jobs, summary, progress, cancel, pause)
        if not (cancel and cancel.is_set()):
            self.encode_captions(cancel=cancel, pause=pause)
        with self.store.write() as conn:
            collect_garbage(conn)
        summary.moved_folders = moved_folders(self.store)  # after encoding: new photos have their fingerprints
        summary.cancelled = bool(cancel and cancel.is_set())
        summary.seconds = time.monotonic() - started
        if progress:
            done = summary.encoded
            progress(Progress("done", done, done, 0.0, 0.0))
        return summary

    def pending_jobs(self) -> list[Job]:
        rows = self.store.query(
            "SELECT p.id, p.path, p.size, p.fingerprint FROM photos p "
            "WHERE p.offline = 0 AND p.state != 'skipped' AND (p.state = 'pending' "
            "OR p.fingerprint IS NULL OR NOT EXISTS (SELECT 1 FROM embeddings e "
            "WHERE e.fingerprint = p.fingerprint AND e.model_id = ?)) ORDER BY p.path",
            (self.model_id,),
        )
        return [Job(i, from_db(path), size, fp) for i, path, size, fp in rows]

    # -- scan results ------------------------------------------------------------------------
    def apply_plan(self, plan: ScanPlan) -> IndexSummary:
        """Record what the scan found; cheap, no decoding. Moves keep their row, captions and vector."""
        return record_plan(self.store, plan, self._inside)

    # -- encoding ----------------------------------------------------------------------------
    def _encode_photos(
        self,
        jobs: list[Job],
        summary: IndexSummary,
        progress: ProgressFn | None,
        cancel: threading.Event | None,
        pause: threading.Event | None,
    ) -> None:
        # The model loads while the first photos decode: only preprocessing needs it, not decoding.
        encoder_future = _in_background(self._encoder_provider)
        known = {
            fp for (fp,) in self.store.query("SELECT fingerprint FROM embeddings WHERE model_id = ?", (self.model_id,))
        }
        batch_size = DEFAULT_BATCH
        started = time.monotonic()
        done = 0
        total = len(jobs)
        if progress:
            progress(Progress("encoding", 0, total, 0.0, None))
        pending: deque[tuple[Job, Future[Prepared]]] = deque()
        batch: list[Prepared] = []
        waiting: list[Prepared] = []  # copies whose first is not committed yet
        twins = Twins()
        todo = iter(jobs)
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="photosearch-decode")
        try:
            while True:
                while len(pending) < max(batch_size * 2, self.workers * 2) and not (cancel and cancel.is_set()):
                    job = next(todo, None)
                    if job is None:
                        break
                    pending.append((job, pool.submit(self._prepare, job, encoder_future, known, twins)))
                if not pending:
                    break
                job, future = pending.popleft()
                # The model first: its load (minutes on a first run) must not count against the decode limit.
                encoder = encoder_future.result()  # a model that failed to load fails the run here, in one line
                batch.append(_result(job, future))
                batch_size = int(getattr(encoder, "batch_size", DEFAULT_BATCH))
                decoded = sum(1 for p in batch if p.kind == "decoded")
                if decoded >= batch_size or not pending or len(batch) >= batch_size * 4:
                    items = batch + waiting
                    waiting, alone = self._commit(items, encoder, known, twins, summary)
                    done += len(items) - len(waiting) - len(alone)
                    batch = []
                    for job in alone:  # their first could not be indexed: each is decoded by itself
                        pending.append((job, pool.submit(self._prepare, job, encoder_future, known, None)))
                    if progress:
                        progress(_progress(done, total, started, job.path))
                    _wait_if_paused(pause, cancel)
                    if cancel and cancel.is_set():
                        break
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        if batch:  # cancelled: copies still waiting for their first (or to be decoded) stay pending
            self._commit(batch + waiting, encoder_future.result(), known, twins, summary)

    def _prepare(self, job: Job, encoder_future: Future, known: set[str], twins: Twins | None) -> Prepared:
        """Runs in a decode thread: fingerprint, then decode, preprocess and thumbnail from one decode.
        With `twins`, only the first photo of a content is decoded; without, this one is in any case."""
        try:
            fp = job.fingerprint or fingerprint(job.path)
        except OSError as exc:
            return Prepared(job, "skip", reason=f"unreadable: {exc.strerror or exc}")
        sidecar = read_sidecar(job.path, self._inside())
        if fp in known:
            if self.thumbs.get(fp) is None:  # lost or damaged: made again (best effort, it is a cache)
                self.thumbs.ensure(job.path, fp)
            return Prepared(job, "known", fingerprint=fp, sidecar=sidecar)
        if twins is not None and (first := twins.claim(fp, job.photo_id)) != job.photo_id:
            return Prepared(job, "copy", fingerprint=fp, sidecar=sidecar, first=first)
        side = _decode_side(encoder_future)
        try:
            image = decode(job.path, min_side=side)
            encoder = encoder_future.result()
            needed = max(THUMB_SIZE, int(getattr(encoder, "image_size", 224)))
            if needed > side and min(image.image.size) < min(needed, image.width, image.height):
                image = decode(job.path, min_side=needed)  # a large-input model's first photos: decode again
        except ImageError as exc:
            return Prepared(job, "skip", fingerprint=fp, reason=str(exc))
        pixels = encoder.preprocess(image.image)
        if self.thumbs.get(fp) is None:
            try:
                save_thumbnail(make_thumbnail(image.image, THUMB_SIZE), self.thumbs.path_for(fp))
            except OSError as exc:
                # The library's disk, not the photo, is at fault (full, read-only, no permission): stop the
                # run and leave the photo pending rather than marking a good photo as bad forever.
                raise PhotoSearchError(
                    f"cannot write thumbnails to {self.thumbs.root}: {exc.strerror or exc}; nothing was lost"
                ) from None
        return Prepared(
            job,
            "decoded",
            fingerprint=fp,
            pixels=pixels,
            width=image.width,
            height=image.height,
            taken=image.taken,
            captions=image.captions,
            sidecar=sidecar,
            phash=phash(image.image),
        )

    def _commit(
        self, batch: list[Prepared], encoder, known: set[str], twins: Twins, summary: IndexSummary
    ) -> tuple[list[Prepared], list[Job]]:
        """Encode each content of the batch once and record the batch in one transaction. Returns the
        copies left for later: those whose first is still to come, and those to decode by themselves."""
        firsts: dict[str, Prepared] = {}
        for p in batch:
            if p.kind == "decoded" and p.fingerprint not in known:
                firsts.setdefault(p.fingerprint, p)
        encode = list(firsts.values())
        vectors = encoder.encode_images(np.stack([p.pixels for p in encode])) if encode else np.zeros((0, 0))
        stored: set[str] = set()
        waiting: list[Prepared] = []
        alone: list[Job] = []
        with self.store.write() as conn:
            for item, vector in zip(encode, vectors, strict=True):
                norm = float(np.linalg.norm(vector)) if np.all(np.isfinite(vector)) else 0.0
                if abs(norm - 1.0) > 1e-2:
                    item.kind, item.reason = "skip", "the model returned an invalid embedding (NaN, Inf or zero)"
                    continue
                conn.execute(
                    "INSERT OR IGNORE INTO embeddings(fingerprint, model_id, vector) VALUES (?, ?, ?)",
                    (item.fingerprint, self.model_id, vector_to_blob(vector)),
                )
                stored.add(item.fingerprint)
            for item in batch:
                if item.kind == "copy":
                    continue
                first = firsts.get(item.fingerprint)
                if item.kind == "decoded" and first is not None and first is not item and first.kind == "skip":
                    item.kind, item.reason = "skip", first.reason  # the same content the model rejected
                if item.kind == "skip":
                    twins.failed.add(item.job.photo_id)
                elif item.kind == "decoded" and item.captions:
                    twins.captions[item.fingerprint] = item.captions
                self._record(conn, item, summary)
            for item in batch:  # after the firsts: a copy takes size and date from its first's row
                if item.kind != "copy":
                    continue
                if item.fingerprint in known or item.fingerprint in stored:
                    item.kind, item.captions = "known", twins.captions.get(item.fingerprint, [])
                    self._record(conn, item, summary)
                elif item.first in twins.failed:
                    alone.append(item.job)
                else:
                    waiting.append(item)
        known.update(stored)
        summary.encoded += len(stored)
        return waiting, alone

    def _record(self, conn: sqlite3.Connection, item: Prepared, summary: IndexSummary) -> None:
        job = item.job
        if item.kind == "skip":
            conn.execute(
                "UPDATE photos SET state = 'skipped', reason = ?, fingerprint = ? WHERE id = ?",
                (item.reason, item.fingerprint, job.photo_id),
            )
            summary.skipped.append(Skipped(job.path, item.reason))
            return
        if item.kind == "decoded":
            conn.execute(
                "UPDATE photos SET state = 'indexed', reason = NULL, fingerprint = ?, width = ?, height = ?, "
                "taken = ? WHERE id = ?",
                (item.fingerprint, item.width, item.height, item.taken, job.photo_id),
            )
            replace_captions(conn, job.path, EMBEDDED_SOURCES, item.captions)
            if item.phash is not None:
                store_hash(conn, item.fingerprint, item.phash)
        else:  # same content as an indexed photo (a copy, a touched file): reuse what it knows
            conn.execute(_REUSE_KNOWN_SQL, {"fp": item.fingerprint, "id": job.photo_id})
            # A copy of a photo decoded in this run gets its metadata captions; one indexed before gets them from
            # the photos it is a copy of (below); none is taken away.
            conn.executemany(
                "INSERT OR IGNORE INTO captions(path, source, text) VALUES (?, ?, ?)",
                [(job.path, source, text) for source, text in item.captions if text],
            )
            copy_twin_captions(conn, job.path, item.fingerprint, EMBEDDED_SOURCES, offline_only=False)
        # An offline twin is likely this photo before a move (a renamed folder): its imported captions come along.
        copy_twin_captions(conn, job.path, item.fingerprint, IMPORTED_SOURCES, offline_only=True)
        replace_captions(conn, job.path, (SIDECAR_SOURCE,), [(SIDECAR_SOURCE, item.sidecar)] if item.sidecar else [])

    # -- captions ----------------------------------------------------------------------------
    def encode_captions(
        self,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
    ) -> int:
        """Embed captions that have no vector for this model yet (see caption_encoding); pausing and
        cancelling take effect between chunks, as between photo batches."""

        return encode_pending_captions(
            self.store, self.model_id, self._encoder_provider, progress, lambda: _stop_asked(pause, cancel)
        )


def _in_background(load: Callable[[], object]) -> Future:
    """Run `load` on its own thread; the Future holds its result or its exception."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(load())
        except BaseException as exc:  # handed to whoever asks for the result
            future.set_exception(exc)

    threading.Thread(target=run, name="photosearch-model-load", daemon=True).start()
    return future


def _decode_side(encoder_future: Future) -> int:
    """Decode just large enough for the thumbnail and the model's input (the thumbnail's until it loads)."""
    if encoder_future.done() and encoder_future.exception() is None:
        return max(THUMB_SIZE, int(getattr(encoder_future.result(), "image_size", 224)))
    return THUMB_SIZE


def _result(job: Job, future: Future[Prepared]) -> Prepared:
    try:
        return future.result(timeout=DECODE_TIMEOUT_S)
    except FutureTimeout:
        return Prepared(job, "skip", reason=f"decoding took longer than {DECODE_TIMEOUT_S:.0f} s")
    except MemoryError:
        return Prepared(job, "skip", reason="not enough memory to decode this image")


def _progress(done: int, total: int, started: float, current: str) -> Progress:
    elapsed = max(time.monotonic() - started, 1e-6)
    rate = done / elapsed
    eta = (total - done) / rate if rate > 0 else None
    return Progress("encoding", done, total, rate, eta, current)


def _stop_asked(pause: threading.Event | None, cancel: threading.Event | None) -> bool:
    """Between two steps of a run: wait while paused; True when the run is cancelled."""
    _wait_if_paused(pause, cancel)
    return bool(cancel and cancel.is_set())


def _wait_if_paused(pause: threading.Event | None, cancel: threading.Event | None) -> None:
    while pause is not None and pause.is_set() and not (cancel and cancel.is_set()):
        time.sleep(0.05)
