"""Which photos' own words contain a query's words: captions of every source, keywords, text read
from the photo, and file and folder names, each looked up through SQLite FTS5.

Work is in numpy over photo rows (positions in the search engine's photo arrays), so a word found
in tens of thousands of captions costs milliseconds: FTS5 returns caption rowids, and a map from
caption id to photo row and kind of text, built once per library version, does the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from photosearch.core.query import Query, fts_literal

# Kinds of evidence as bits; `why` names them in this order after "image".
WHY_BITS = {"caption": 1, "filename": 2, "keyword": 4, "text-in-photo": 8}
WHY_ORDER = ("image", "caption", "filename", "keyword", "text-in-photo")
# Caption sources and the `why` each reports; anything else (csv, sidecar, exif, xmp...) is "caption".
WHY_BY_SOURCE = {"keyword": "keyword", "ocr": "text-in-photo"}


def why_of_source(source: str) -> str:
    return WHY_BY_SOURCE.get(source, "caption")


def why_names(bits: int, image: bool) -> tuple[str, ...]:
    names = [name for name, bit in WHY_BITS.items() if bits & bit]
    return tuple(w for w in WHY_ORDER if w in names or (w == "image" and image))


class IdLookup:
    """Database id -> value for a fixed set of ids: one array index per id when the ids are compact
    (the usual case: ids are row numbers), a binary search when deletions left them sparse."""

    def __init__(self, ids: np.ndarray, values: np.ndarray, missing: int) -> None:
        self.missing = missing
        self.dtype = values.dtype
        top = int(ids.max()) + 1 if len(ids) else 0
        if top <= 4 * len(ids) + 1_000_000:
            self._dense: np.ndarray | None = np.full(top, missing, dtype=values.dtype)
            self._dense[ids] = values
        else:
            order = np.argsort(ids, kind="stable")
            self._dense, self._ids, self._values = None, ids[order], values[order]

    def __call__(self, wanted: np.ndarray) -> np.ndarray:
        """The value of each wanted id, `missing` where it is not one of the ids."""
        if self._dense is not None:
            if len(wanted) == 0 or (int(wanted.max()) < len(self._dense) and int(wanted.min()) >= 0):
                return self._dense[wanted]
            inside = (wanted >= 0) & (wanted < len(self._dense))
            out = np.full(len(wanted), self.missing, dtype=self.dtype)
            out[inside] = self._dense[wanted[inside]]
            return out
        if len(self._ids) == 0:
            return np.full(len(wanted), self.missing, dtype=self.dtype)
        at = np.minimum(np.searchsorted(self._ids, wanted), len(self._ids) - 1)
        return np.where(self._ids[at] == wanted, self._values[at], self.missing).astype(self.dtype, copy=False)


@dataclass
class CaptionMap:
    """Where FTS5 rowids land: caption id -> photo row and kind bit (captions of indexed photos
    only), photo id -> row (the file-name index's rowid is the photo id). Built once per library
    version, so a query word costs array lookups, not a join."""

    caption_row: IdLookup  # -1: the caption's photo is not in the engine's photo arrays
    caption_bit: IdLookup
    photo_row: IdLookup

    @classmethod
    def build(cls, store, photo_ids: np.ndarray) -> CaptionMap:
        found = store.query("SELECT c.id, p.id, c.source FROM captions c JOIN photos p ON p.path = c.path")
        n = len(found)
        caption_ids = np.fromiter((r[0] for r in found), dtype=np.int64, count=n)
        owners = np.fromiter((r[1] for r in found), dtype=np.int64, count=n)
        bits = np.fromiter((WHY_BITS[why_of_source(r[2])] for r in found), dtype=np.uint8, count=n)
        del found
        photo_row = IdLookup(photo_ids, np.arange(len(photo_ids), dtype=np.int32), -1)
        return cls(IdLookup(caption_ids, photo_row(owners), -1), IdLookup(caption_ids, bits, 0), photo_row)


@dataclass
class Evidence:
    """Dense per photo row: text match (0..1), kinds of evidence as bits, and rows a -term bans."""

    coverage: np.ndarray | None = None  # float64 per row; None when the query has no keywords
    bits: np.ndarray | None = None  # uint8 per row
    banned: np.ndarray | None = None  # bool per row; None when nothing is excluded
    # Per keyword, its weight and the ids of the captions holding it (as FTS5 found them): which of a
    # photo's captions made its text match, the one a result shows.
    caption_words: tuple[tuple[float, np.ndarray], ...] = ()

    def lookup(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(coverage, bits) for rows; 0 where a row has no evidence."""
        if self.coverage is None:
            return np.zeros(len(rows)), np.zeros(len(rows), dtype=np.uint8)
        return self.coverage[rows], self.bits[rows]


def _ids(store, table: str, literal: str) -> np.ndarray:
    """Rowids matching an FTS5 query, as one comma-joined string: ~10x faster than a row per id."""
    (joined,) = store.query(f"SELECT group_concat(rowid) FROM {table} WHERE {table} MATCH ?", (literal,))[0]
    return np.fromstring(joined, dtype=np.int64, sep=",") if joined else np.zeros(0, dtype=np.int64)


def caption_ids(store, term: str) -> np.ndarray:
    """Ids of the captions (of every source) holding the term (a word or a "phrase")."""
    return _ids(store, "captions_fts", fts_literal(term))


def term_bits(
    store, term: str, photo_count: int, captions: CaptionMap, names: bool, cids: np.ndarray | None = None
) -> np.ndarray:
    """Per photo row, the kinds of text (bits, 0 = none) holding the term (a word or a "phrase").

    cids: caption_ids(store, term) when the caller has them already."""
    literal = fts_literal(term)
    bits = np.zeros(photo_count, dtype=np.uint8)
    cids = caption_ids(store, term) if cids is None else cids
    if len(cids):
        rows, kinds = captions.caption_row(cids), captions.caption_bit(cids)
        for bit in np.unique(kinds[rows >= 0]).tolist():  # at most four kinds: no ufunc.at needed
            bits[rows[(kinds == bit) & (rows >= 0)]] |= bit
    if names:
        named = captions.photo_row(_ids(store, "photo_names", literal))
        bits[named[named >= 0]] |= WHY_BITS["filename"]
    return bits


def gather(store, parsed: Query, photo_ids: np.ndarray, captions: CaptionMap, *, names: bool = True) -> Evidence:
    """Text evidence for a parsed query over the whole library (filters are applied by the caller).

    names: whether the library has the file-name index (a read-only library made before it has not).
    """
    evidence = Evidence()
    keywords = parsed.keywords
    if keywords:
        holders = [caption_ids(store, t) for t in keywords]
        per_term = [
            term_bits(store, t, len(photo_ids), captions, names, cids)
            for t, cids in zip(keywords, holders, strict=True)
        ]
        # IDF over photos (not caption rows), so a word on every photo counts for almost nothing.
        n = max(len(photo_ids), 1)
        found = [int(np.count_nonzero(b)) for b in per_term]
        idf = np.array([math.log(1 + (n - f + 0.5) / (f + 0.5)) for f in found])
        weights = idf / (idf.sum() or 1.0)
        coverage = np.zeros(len(photo_ids))
        matched = np.zeros(len(photo_ids), dtype=np.int32)
        bits = np.zeros(len(photo_ids), dtype=np.uint8)
        for weight, term in zip(weights.tolist(), per_term, strict=True):
            has = term > 0
            coverage[has] += weight
            matched += has
            bits |= term
        np.minimum(coverage, 1.0, out=coverage)
        coverage[matched == len(keywords)] = 1.0  # exact, not a float sum that might land at 0.9999
        evidence.coverage, evidence.bits = coverage, bits
        evidence.caption_words = tuple(zip(weights.tolist(), holders, strict=True))
    if parsed.excluded:
        banned = np.zeros(len(photo_ids), dtype=bool)
        for term in parsed.excluded:
            banned |= term_bits(store, term, len(photo_ids), captions, names) > 0
        evidence.banned = banned
    return evidence
