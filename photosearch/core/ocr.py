"""The text-in-photos pass: after the embeddings, read the words in each photo not read yet.

Text is stored per content (`ocr_text`, keyed by fingerprint, like the embeddings), so moves, renames
and copies keep it. To be searched through the same box and ranking as captions, every current path of
that content also gets a `captions` row with source 'ocr'; `sync_captions` re-creates those rows after
moves and drops them when the content is gone. The caller is the library's single writer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from photosearch.core import phash
from photosearch.core.errors import PhotoSearchError
from photosearch.core.fsnames import from_db
from photosearch.core.ocr_engine import OcrResult, OcrUnavailable, TextReader, shared_reader
from photosearch.core.store import Store
from photosearch.core.types import Progress

OCR_SOURCE = "ocr"
PHASE = "reading text"

ProgressFn = Callable[[Progress], None]

_PENDING_SQL = """
SELECT p.fingerprint, MIN(p.path) FROM photos p
WHERE p.state = 'indexed' AND p.offline = 0 AND p.fingerprint IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ocr_text o WHERE o.fingerprint = p.fingerprint)
GROUP BY p.fingerprint ORDER BY 2
"""


def has_tables(store: Store) -> bool:
    # A read-only library made by an older version has no such table (it cannot be migrated).
    return bool(store.query("SELECT 1 FROM sqlite_master WHERE name = 'ocr_text'"))


def counts(store: Store) -> dict[str, int]:
    """Indexed, reachable photos whose text has been read ('done') or not yet ('pending')."""
    if not has_tables(store):
        (total,) = store.query("SELECT COUNT(*) FROM photos WHERE state = 'indexed' AND offline = 0")[0]
        return {"done": 0, "pending": total}
    (done, total) = store.query(
        "SELECT COALESCE(SUM(EXISTS (SELECT 1 FROM ocr_text o WHERE o.fingerprint = p.fingerprint)), 0), COUNT(*) "
        "FROM photos p WHERE p.state = 'indexed' AND p.offline = 0"
    )[0]
    return {"done": int(done), "pending": int(total - done)}


def pending(store: Store) -> list[tuple[str, str]]:
    """(fingerprint, a path to read it from) for content whose text has not been read yet."""
    # The file system's name, not the database form: an odd (non-UTF-8) name was never found, so
    # its text stayed pending and was retried on every index.
    return [(fp, from_db(path)) for fp, path in store.query(_PENDING_SQL)]


def text_for(store: Store, path: str) -> str | None:
    """The text read from the photo at `path` ('' if it has none), None if not read yet."""
    rows = store.query(
        "SELECT o.text FROM photos p JOIN ocr_text o ON o.fingerprint = p.fingerprint WHERE p.path = ?", (path,)
    )
    return rows[0][0] if rows else None


def sync_captions(store: Store) -> None:
    """Make the 'ocr' caption rows match the stored text for every current path; drop orphaned text
    and hashes."""
    with store.write() as conn:
        conn.execute(
            "DELETE FROM captions WHERE source = ? AND NOT EXISTS (SELECT 1 FROM photos p JOIN ocr_text o "
            "ON o.fingerprint = p.fingerprint WHERE p.path = captions.path AND o.text = captions.text)",
            (OCR_SOURCE,),
        )
        conn.execute(
            "INSERT OR IGNORE INTO captions(path, source, text) SELECT p.path, ?, o.text FROM photos p "
            "JOIN ocr_text o ON o.fingerprint = p.fingerprint WHERE o.text != ''",
            (OCR_SOURCE,),
        )
        for table in ("ocr_text", "phashes"):  # content no photo has any more
            conn.execute(
                f"DELETE FROM {table} WHERE NOT EXISTS "
                f"(SELECT 1 FROM photos p WHERE p.fingerprint = {table}.fingerprint)"
            )


def _record(store: Store, fingerprint: str, result: OcrResult, engine: str) -> None:
    with store.write() as conn:
        conn.execute(
            "INSERT INTO ocr_text(fingerprint, text, engine, done_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(fingerprint) DO UPDATE SET text = excluded.text, engine = excluded.engine, "
            "done_at = excluded.done_at",
            (fingerprint, result.text, engine, time.time()),
        )
        if result.text:
            conn.execute(
                "INSERT OR IGNORE INTO captions(path, source, text) "
                "SELECT path, ?, ? FROM photos WHERE fingerprint = ?",
                (OCR_SOURCE, result.text, fingerprint),
            )


def _wait_if_paused(
    pause: threading.Event | None, cancel: threading.Event | None, should_yield: Callable[[], bool]
) -> None:
    # A paused pass still steps aside: the job waiting behind it is not paused.
    while pause is not None and pause.is_set() and not (cancel and cancel.is_set()) and not should_yield():
        time.sleep(0.05)


def _never() -> bool:
    return False


def read_pending(
    store: Store,
    reader: TextReader | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    pause: threading.Event | None = None,
    on_error: Callable[[str, str], None] | None = None,
    enabled: Callable[[], bool] = lambda: True,
    should_yield: Callable[[], bool] = _never,
    done_before: int = 0,
) -> int:
    """Read every photo not read yet, one commit per photo (searchable at once, a kill loses one).

    Returns how many were read. The next photo is read by the reader process while this one is written.
    `enabled` is asked before each photo: turning text reading off in the app stops the pass there.
    `should_yield` too: when it turns True the photo in hand is finished and the pass returns, so that
    other work can run; called again it goes on with the photos still unread. `done_before` (photos read
    by the earlier parts of such a pass) keeps its progress counting on from where it stopped.
    """
    todo = pending(store)
    if not todo or (cancel and cancel.is_set()) or should_yield():
        return 0
    reader = reader or shared_reader()
    try:
        reader.ensure_loaded()
    except OcrUnavailable as exc:
        if on_error:
            on_error("", str(exc))
        return 0
    started = time.monotonic()
    total = len(todo)
    if progress:
        progress(Progress(PHASE, done_before, done_before + total, 0.0, None))
    done = 0
    ahead: Future[OcrResult] | None = reader.submit(todo[0][1])
    for i, (fp, path) in enumerate(todo):
        try:
            result = ahead.result()
        except Exception as exc:  # the reader process died on this photo: record it, start a fresh one
            reader.restart()
            result = OcrResult("", error=f"text reading failed: the reader stopped ({type(exc).__name__})")
        _wait_if_paused(pause, cancel, should_yield)
        stop = bool(cancel and cancel.is_set()) or not enabled() or should_yield()
        ahead = reader.submit(todo[i + 1][1]) if i + 1 < total and not stop else None
        if result.error and on_error:
            on_error(path, result.error)
        try:
            if not result.error.startswith("unreadable"):  # gone or locked right now: try again next time
                _record(store, fp, result, reader.name)
        except PhotoSearchError:
            if ahead is not None:
                ahead.cancel()
            raise
        done += 1
        if progress:
            elapsed = max(time.monotonic() - started, 1e-6)
            rate = done / elapsed
            progress(Progress(PHASE, done_before + done, done_before + total, rate, (total - done) / rate, path))
        if stop:
            break
    return done


def after_index(
    store: Store,
    encode_captions: Callable[[], int],
    *,
    ocr: bool | Callable[[], bool] = True,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    pause: threading.Event | None = None,
    reader: TextReader | None = None,
) -> int:
    """What follows the embeddings in an index run: hashes for older photos, text rows for moved ones,
    then (unless turned off) reading new photos' text and embedding it like any caption."""
    if cancel and cancel.is_set():
        return 0
    phash.backfill(store, cancel)
    sync_captions(store)
    enabled = ocr if callable(ocr) else (lambda: bool(ocr))
    if not enabled():
        return 0
    read = read_pending(store, reader, progress, cancel, pause, enabled=enabled)
    if read and not (cancel and cancel.is_set()):
        encode_captions()
    return read
