"""Import a caption CSV into the store in bounded memory: rows are streamed and written in batches.

Each batch commits on its own, so a kill keeps what was written and importing the file again only adds
what is missing (captions are unique per photo and text). Embedding the new captions is the caller's
next step; what is not embedded yet stays pending and is resumed by the next index or import.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from photosearch.core.caption_csv import iter_caption_csv
from photosearch.core.fsnames import from_db
from photosearch.core.store import Store
from photosearch.core.types import Progress

BATCH = 5000
REPORT_LIMIT = 10_000  # missing/rejected lines listed in the report; the counts are always exact


def import_caption_csv(
    store: Store,
    csv_path: str | os.PathLike,
    inside: tuple[str, ...],
    progress: Callable[[Progress], None] | None = None,
) -> dict:
    report: dict = {"imported": 0, "duplicates": 0, "not_indexed": 0, "missing": [], "rejected": []}
    counts = {"missing": 0, "rejected": 0}
    not_indexed: set[str] = set()
    batch: list[tuple[str, str]] = []
    read = 0

    def flush() -> None:
        with store.write() as conn:
            cursor = conn.executemany("INSERT OR IGNORE INTO captions(path, source, text) VALUES (?, 'csv', ?)", batch)
            added = max(cursor.rowcount, 0)  # rows really added; FTS trigger writes don't count
            paths = sorted({p for p, _ in batch})
            known: set[str] = set()
            for start in range(0, len(paths), 500):
                chunk = paths[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found = conn.execute(f"SELECT path FROM photos WHERE path IN ({marks})", chunk)
                known.update(from_db(p) for (p,) in found)
        report["imported"] += added
        report["duplicates"] += len(batch) - added
        not_indexed.update(p for p in paths if p not in known)
        batch.clear()
        if progress:
            progress(Progress("importing", read, 0, 0.0, None))

    for row in iter_caption_csv(csv_path, inside):
        read += 1
        if row.kind == "row":
            batch.append((row.path, row.text))
            if len(batch) >= BATCH:
                flush()
        else:
            counts[row.kind] += 1
            if len(report[row.kind]) < REPORT_LIMIT:
                key = "path" if row.kind == "missing" else "reason"
                report[row.kind].append({"line": row.line, key: row.path if row.kind == "missing" else row.text})
    if batch:
        flush()
    report["not_indexed"] = len(not_indexed)
    report["missing_count"], report["rejected_count"] = counts["missing"], counts["rejected"]
    return report
