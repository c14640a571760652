"""Which photos' own words contain a query's words: captions of every source, keywords, text read
from the photo, and file and folder names, each looked up through SQLite FTS5.

The result is per photo: an IDF-weighted share of the query's keywords found (`coverage`, 0..1,
exactly 1.0 when every keyword is there) and the kinds of evidence that matched (`why`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from photosearch.core.query import Query, fts_literal

# Caption sources and the `why` each one reports; anything else (csv, sidecar, exif...) is "caption".
WHY_BY_SOURCE = {"keyword": "keyword", "ocr": "text-in-photo"}
WHY_ORDER = ("image", "caption", "filename", "keyword", "text-in-photo")


def why_of_source(source: str) -> str:
    return WHY_BY_SOURCE.get(source, "caption")


@dataclass
class Evidence:
    """Photo ids with text evidence, their coverage and why, and the ids a -term rules out."""

    coverage: dict[int, float] = field(default_factory=dict)
    why: dict[int, set[str]] = field(default_factory=dict)
    matched: dict[int, int] = field(default_factory=dict)  # how many keywords each photo matched
    keywords: int = 0
    excluded: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def full(self, photo_id: int) -> bool:
        return self.keywords > 0 and self.matched.get(photo_id, 0) == self.keywords


def _term_photos(store, term: str, names: bool) -> dict[int, set[str]]:
    """photo id -> kinds of evidence containing the term (a word or a "phrase")."""
    literal = fts_literal(term)
    found: dict[int, set[str]] = {}
    rows = store.query(
        "SELECT p.id, c.source FROM captions_fts JOIN captions c ON c.id = captions_fts.rowid "
        "JOIN photos p ON p.path = c.path WHERE captions_fts MATCH ?",
        (literal,),
    )
    for photo_id, source in rows:
        found.setdefault(photo_id, set()).add(why_of_source(source))
    if names:
        for (photo_id,) in store.query("SELECT rowid FROM photo_names WHERE photo_names MATCH ?", (literal,)):
            found.setdefault(photo_id, set()).add("filename")
    return found


def gather(store, parsed: Query, photo_count: int, *, names: bool = True) -> Evidence:
    """Text evidence for a parsed query over the whole library (filters are applied by the caller).

    names: whether the library has the file-name index (a read-only library made before it has not).
    """
    evidence = Evidence()
    keywords = parsed.keywords
    if keywords:
        hits = {t: _term_photos(store, t, names) for t in keywords}
        # IDF over photos (not caption rows), so a word on every photo counts for almost nothing.
        n = max(photo_count, 1)
        idf = {t: math.log(1 + (n - len(h) + 0.5) / (len(h) + 0.5)) for t, h in hits.items()}
        total = sum(idf.values()) or 1.0
        evidence.keywords = len(keywords)
        for term, photos in hits.items():
            for photo_id, kinds in photos.items():
                evidence.coverage[photo_id] = evidence.coverage.get(photo_id, 0.0) + idf[term] / total
                evidence.matched[photo_id] = evidence.matched.get(photo_id, 0) + 1
                evidence.why.setdefault(photo_id, set()).update(kinds)
        for photo_id, count in evidence.matched.items():
            if count == len(keywords):
                evidence.coverage[photo_id] = 1.0  # exact, not a float sum that might land at 0.9999
            else:
                evidence.coverage[photo_id] = min(evidence.coverage[photo_id], 1.0)
    banned: set[int] = set()
    for term in parsed.excluded:
        banned |= set(_term_photos(store, term, names))
    evidence.excluded = np.fromiter(sorted(banned), dtype=np.int64, count=len(banned))
    return evidence


def sorted_why(kinds: set[str]) -> tuple[str, ...]:
    return tuple(w for w in WHY_ORDER if w in kinds)
