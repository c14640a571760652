"""Caption search (CLIP text-text or image-text similarity plus verbatim word matches), and the
caption each result shows. Mixed into SearchEngine, whose store and lock it uses."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from photosearch.core.browse import OFFLINE_TWINS_SQL
from photosearch.core.caption_index import CaptionIndex
from photosearch.core.filters import Filters
from photosearch.core.fsnames import from_db
from photosearch.core.fusion import clamp_cosines
from photosearch.core.query import Query, fts_literal
from photosearch.core.types import CaptionResult
from photosearch.core.vector_index import VectorIndex

# Which caption a result shows first; keywords (a list of words) and unknown sources come last.
CAPTION_SOURCE_ORDER = ("csv", "sidecar", "xmp", "iptc", "exif", "png", "comment")
HIDDEN_SOURCES = ("keyword", "ocr")  # evidence for search (the preview shows OCR text apart), not a caption
LEXICAL_CAP = 2_000  # captions a word may be in and still be fetched whole as candidates
CAPTION_TOKENIZER = "porter unicode61 remove_diacritics 2"  # as captions_fts in store.py: the same words match
MAX_VECTOR_CANDIDATES = 20_000  # nearest captions looked at, at most, to settle the word bonus


class CaptionSearchMixin:
    def best_captions(self, paths: list[str], words: Sequence[tuple[float, np.ndarray]] = ()) -> dict[str, str]:
        """The caption each photo shows: of its visible captions, the one holding the largest weight of
        the query's words (Evidence.caption_words), so a result shows the caption that matched; on a
        tie, or with no words (browsing, image queries), the first by CAPTION_SOURCE_ORDER."""
        marks = ",".join("?" * len(paths))
        rows = self.store.query(f"SELECT id, path, source, text FROM captions WHERE path IN ({marks})", paths)
        rows = [r for r in rows if r[2] not in HIDDEN_SOURCES]
        matched = _word_weights(np.fromiter((r[0] for r in rows), np.int64, len(rows)), words)
        rank = {s: i for i, s in enumerate(CAPTION_SOURCE_ORDER)}
        chosen: dict[str, tuple[tuple[float, int], str]] = {}
        for (_, stored, source, text), weight in zip(rows, matched.tolist(), strict=True):
            path = from_db(stored)
            key = (-weight, rank.get(source, len(rank)))
            if path not in chosen or key < chosen[path][0]:
                chosen[path] = (key, text)
        return {p: t for p, (_, t) in chosen.items()}

    # -- captions ----------------------------------------------------------------------------
    def _caption_index(self) -> VectorIndex | None:
        with self._lock:
            captions = getattr(self, "_captions_index", None)
            if captions is None or captions.model_id != self.model_id:
                captions = self._captions_index = CaptionIndex(self.store, self.model_id)
            return captions.refresh()

    def search_captions(
        self,
        query_vector: np.ndarray,
        k: int = 20,
        parsed: Query | None = None,
        folder: str | None = None,
        filters: Filters | None = None,
    ) -> list[CaptionResult]:
        """Captions by CLIP similarity, plus up to +1.0 for the query's words found verbatim (IDF-weighted).

        With filters (or a folder), only the captions of photos the same filters let a photo search
        return take part, from the start: the k results are the best of those.

        Candidates are the captions nearest the query in the caption index and every caption holding a
        word that is in at most LEXICAL_CAP captions. A word in more captions is looked up only among
        the candidates; they are widened until no caption left out could score above the k-th result
        (its similarity is below the last candidate's and its word bonus at most those words' share),
        or MAX_VECTOR_CANDIDATES is reached."""
        if filters is None and folder:
            filters = Filters(folder=folder)
        allowed = self._allowed_captions(filters) if filters is not None else None
        if allowed is not None and len(allowed) == 0:
            return []
        hidden = self._offline_twin_captions() if filters is None else frozenset()  # else `allowed` has it
        index = self._caption_index()
        q = np.asarray(query_vector, dtype=np.float32)
        version = self.store.data_version()
        if getattr(self, "_term_counts", (None,))[0] != version:
            self._term_counts = (version, {})  # a common word's count costs ~0.1 s per million captions
        words = _Words(self, parsed, self._term_counts[1])
        small_hits = words.small_hits
        if allowed is not None and small_hits:
            hits = np.fromiter(small_hits, dtype=np.int64, count=len(small_hits))
            small_hits = set(hits[np.isin(hits, allowed, assume_unique=True)].tolist())
        searchable = len(index) if index is not None else 0
        if allowed is not None:
            searchable = min(searchable, len(allowed))
        wide = min(max(k * 5, 50), searchable)
        while True:
            ids, sims = (
                index.search(q, wide, allowed=allowed) if wide else (np.zeros(0, np.int64), np.zeros(0, np.float32))
            )
            sims = clamp_cosines(sims)
            similarity = dict(zip(ids.tolist(), sims.tolist(), strict=True))
            candidates = (set(similarity) | small_hits) - hidden
            late = [c for c in words.small_hits if c not in similarity]
            for cid, vector in self._captions_index.vectors_for(late).items():
                similarity[cid] = float(clamp_cosines(vector.astype(np.float32) @ q))
            lexical, matched, banned = words.score(candidates)
            scored = sorted(  # ties: the first stored, so which copy of a photo stands for the rest is stable
                ((similarity.get(c, 0.0) + lexical.get(c, 0.0), c) for c in candidates - banned),
                key=lambda t: (-t[0], t[1]),
            )
            results = self._caption_results(scored, similarity, lexical, matched, k, allowed, hidden)
            exhausted = index is None or wide >= searchable
            if exhausted or wide >= MAX_VECTOR_CANDIDATES:
                return results
            # The best a caption left out could score (one not embedded yet counts as similarity 0).
            floor = float(sims[-1]) if words.total <= len(index) else max(float(sims[-1]), 0.0)
            bound = floor + words.unseen_bonus
            if len(results) >= k and results[-1].score >= bound:
                return results
            wide = min(wide * 4, MAX_VECTOR_CANDIDATES, searchable)

    def _allowed_captions(self, filters: Filters) -> np.ndarray | None:
        """Sorted ids of the captions whose photo the filters let a photo search return (None: all).

        The photos' side is the photo search's own filter (same folder, dates and offline rule), so the
        caption panel and the grid agree; a caption belongs to the photo at its path."""
        self.refresh()
        with self._lock:
            photos = self._photos
            if photos is None or len(photos.ids) == 0:
                return np.zeros(0, dtype=np.int64)
            _, row_ok = self._allowed_vectors(photos, filters)
        if row_ok is None:
            return None
        version = self.store.data_version()
        cached = getattr(self, "_caption_photo_rows", None)
        if cached is None or cached[0] != version or cached[1] is not photos:
            rows = self.store.query(
                "SELECT c.id, p.id FROM captions c JOIN photos p ON p.path = c.path WHERE p.state = 'indexed'"
            )
            pairs = np.array(rows, dtype=np.int64).reshape(-1, 2)
            at = np.minimum(np.searchsorted(photos.ids, pairs[:, 1]), len(photos.ids) - 1)
            known = photos.ids[at] == pairs[:, 1]  # a photo indexed after this snapshot of the columns
            cids, at = pairs[known, 0], at[known]
            order = np.argsort(cids)
            cached = (version, photos, cids[order], at[order])
            self._caption_photo_rows = cached
        _, _, cids, at = cached
        return cids[row_ok[at]]

    def _offline_twin_captions(self) -> frozenset[int]:
        """Ids of the captions of offline photos whose content an online photo has: that photo stands for
        both in the results (a renamed watched folder's old rows), so their captions are left out too."""
        if not self._some_offline():
            return frozenset()
        version = self.store.data_version()
        cached = getattr(self, "_twin_captions", None)
        if cached is None or cached[0] != version:
            rows = self.store.query(
                f"SELECT c.id FROM captions c JOIN ({OFFLINE_TWINS_SQL}) t JOIN photos p ON p.id = t.id "
                "WHERE c.path = p.path"
            )
            cached = self._twin_captions = (version, frozenset(r[0] for r in rows))
        return cached[1]

    def _caption_results(
        self, scored, similarity, lexical, matched, k, allowed=None, hidden: frozenset[int] = frozenset()
    ) -> list[CaptionResult]:
        """The k best rows, one per (photo content, source, text): copies of a photo in several folders
        carry the same text ('ocr' rows, embedded metadata), shown once by the best-scoring copy."""
        out: list[CaptionResult] = []
        shown: set[tuple[str, str, str]] = set()
        for start in range(0, len(scored), 500):
            chunk = scored[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.store.query(
                f"SELECT c.id, c.path, c.source, c.text, p.id, p.fingerprint FROM captions c "
                f"LEFT JOIN photos p ON p.path = c.path WHERE c.id IN ({marks})",
                [c for _, c in chunk],
            )
            info = {r[0]: r for r in rows}
            for score, cid in chunk:
                row = info.get(cid)
                if row is None:
                    continue
                if row[5]:  # a caption of a path no photo has (yet) has no content to share
                    if (row[5], row[2], row[3]) in shown:
                        continue
                    shown.add((row[5], row[2], row[3]))
                out.append(
                    CaptionResult(
                        path=from_db(row[1]),
                        caption=row[3],
                        score=score,
                        source=row[2],
                        similarity=similarity.get(cid, 0.0),
                        lexical=lexical.get(cid, 0.0),
                        matched_terms=tuple(matched.get(cid, ())),
                        photo_id=row[4] or 0,
                        fingerprint=row[5] or "",
                    )
                )
                if len(out) >= k:
                    return self._with_copies(out, allowed, hidden)
        return self._with_copies(out, allowed, hidden)

    def _with_copies(
        self, results: list[CaptionResult], allowed: np.ndarray | None, hidden: frozenset[int] = frozenset()
    ) -> list[CaptionResult]:
        """Each row with the other paths whose same caption it stands for (those the filters allow, less
        the offline twins of online photos, which results never show)."""
        fingerprints = sorted({r.fingerprint for r in results if r.fingerprint})
        if not fingerprints:
            return results
        others: dict[tuple[str, str, str], list[str]] = {}
        rows = []
        for start in range(0, len(fingerprints), 500):
            chunk = fingerprints[start : start + 500]
            rows += self.store.query(
                "SELECT c.id, c.path, c.source, c.text, p.fingerprint FROM photos p JOIN captions c "
                f"ON c.path = p.path WHERE p.state = 'indexed' AND p.fingerprint IN ({','.join('?' * len(chunk))})",
                chunk,
            )
        if allowed is not None and rows:  # allowed: sorted caption ids
            ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
            at = np.minimum(np.searchsorted(allowed, ids), len(allowed) - 1)
            rows = [r for r, ok in zip(rows, (allowed[at] == ids).tolist(), strict=True) if ok]
        rows = [r for r in rows if r[0] not in hidden]
        for _, path, source, text, fingerprint in rows:
            others.setdefault((fingerprint, source, text), []).append(from_db(path))
        out = []
        for r in results:
            paths = others.get((r.fingerprint, r.source, r.caption), []) if r.fingerprint else []
            out.append(replace(r, copies=tuple(sorted(p for p in paths if p != r.path))) if len(paths) > 1 else r)
        return out


def _word_weights(ids: np.ndarray, words: Sequence[tuple[float, np.ndarray]]) -> np.ndarray:
    """Per caption id, the summed weight of the words it holds: a binary search in each word's
    holders (FTS5 gives them in rowid order), so a word in 100,000 captions costs microseconds."""
    total = np.zeros(len(ids))
    for weight, holders in words:
        if len(holders) == 0 or len(ids) == 0:
            continue
        if len(holders) > 1 and not bool(np.all(holders[1:] >= holders[:-1])):
            holders = np.sort(holders)
        at = np.minimum(np.searchsorted(holders, ids), len(holders) - 1)
        total += weight * (holders[at] == ids)
    return total


class _Words:
    """The query's words against the captions' FTS5 index, with the work bounded however common they are.

    A word (or phrase) in at most LEXICAL_CAP captions is fetched whole: those captions become
    candidates. A commoner one is only counted (for its IDF) and then looked up among the candidates."""

    def __init__(self, engine, parsed: Query | None, known_counts: dict[str, int]) -> None:
        self.store = engine.store
        self.keywords = tuple(parsed.keywords) if parsed else ()
        self.excluded = tuple(parsed.excluded) if parsed else ()
        self.small: dict[str, set[int]] = {}
        self.big: dict[str, set[int]] = {}  # common word -> the candidates holding it (of those looked up)
        self._loaded: set[int] = set()  # candidates looked up so far
        self._mem: sqlite3.Connection | None = None
        counts: dict[str, int] = {}
        for term in dict.fromkeys(self.keywords + self.excluded):
            literal = fts_literal(term)
            rows = self.store.query(
                "SELECT rowid FROM captions_fts WHERE captions_fts MATCH ? LIMIT ?", (literal, LEXICAL_CAP + 1)
            )
            if len(rows) <= LEXICAL_CAP:
                self.small[term] = {r[0] for r in rows}
                counts[term] = len(rows)
            else:
                self.big[term] = set()
                if term in self.keywords and term not in known_counts:
                    (known_counts[term],) = self.store.query(
                        "SELECT COUNT(*) FROM captions_fts WHERE captions_fts MATCH ?", (literal,)
                    )[0]
                counts[term] = known_counts.get(term, 0)
        self.weight: dict[str, float] = {}
        if "" not in known_counts:  # "" is never a word: the number of captions
            (known_counts[""],) = self.store.query("SELECT COUNT(*) FROM captions")[0]
        self.total = known_counts[""]
        if self.keywords:
            total = self.total
            idf = {t: math.log(1 + (total - counts[t] + 0.5) / (counts[t] + 0.5)) for t in dict.fromkeys(self.keywords)}
            norm = sum(idf.values()) or 1.0
            self.weight = {t: v / norm for t, v in idf.items()}
        self.small_hits: set[int] = set().union(
            *(self.small[t] for t in dict.fromkeys(self.keywords) if t in self.small)
        )
        self.unseen_bonus = sum(w for t, w in self.weight.items() if t in self.big)

    def _look_up(self, candidates: set[int]) -> None:
        """Which candidates hold each common word: their texts go into a small in-memory FTS5 table with
        the captions' tokenizer, searched once per word (one lookup per caption and word in the library's
        index cost ~0.5 ms each, ~1.4 s for 800 candidates and three words)."""
        fresh = [c for c in candidates if c not in self._loaded]
        if not self.big or not fresh:
            return
        if self._mem is None:
            self._mem = sqlite3.connect(":memory:")
            self._mem.execute(f"CREATE VIRTUAL TABLE t USING fts5(text, tokenize='{CAPTION_TOKENIZER}')")
        self._mem.execute("DELETE FROM t")
        for start in range(0, len(fresh), 500):
            chunk = fresh[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.store.query(f"SELECT id, text FROM captions WHERE id IN ({marks})", chunk)
            self._mem.executemany("INSERT INTO t(rowid, text) VALUES (?, ?)", rows)
        for term, holders in self.big.items():
            holders.update(r[0] for r in self._mem.execute("SELECT rowid FROM t WHERE t MATCH ?", (fts_literal(term),)))
        self._loaded.update(fresh)

    def _holds(self, term: str, cid: int) -> bool:
        return cid in (self.small[term] if term in self.small else self.big[term])

    def score(self, candidates: set[int]) -> tuple[dict[int, float], dict[int, list[str]], set[int]]:
        """Word bonus and matched words of each candidate, and the candidates holding an excluded word."""
        self._look_up(candidates)
        banned = {c for c in candidates if any(self._holds(t, c) for t in self.excluded)}
        lexical: dict[int, float] = {}
        matched: dict[int, list[str]] = {}
        for cid in candidates - banned:
            for term, weight in self.weight.items():
                if self._holds(term, cid):
                    lexical[cid] = lexical.get(cid, 0.0) + weight
                    matched.setdefault(cid, []).append(term)
        return lexical, matched, banned
