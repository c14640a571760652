"""One ranked list per query from pixels and words (see fusion.py for the score), with filters,
an optional "best matches" cut and date sort. Mixed into SearchEngine."""

from __future__ import annotations

import numpy as np

from photosearch.core.filters import Filters
from photosearch.core.fusion import BEST_POOL, best_matches_cut, fused_scores, rank
from photosearch.core.query import Query
from photosearch.core.store import blob_to_vectors
from photosearch.core.text_evidence import Evidence, gather, sorted_why
from photosearch.core.types import SearchResult

SORTS = ("relevance", "date")


class FusedSearchMixin:
    def search_fused(
        self,
        query: np.ndarray,
        parsed: Query | None,
        k: int = 50,
        *,
        filters: Filters | None = None,
        min_score: float | None = None,
        best: bool = False,
        sort: str = "relevance",
    ) -> list[SearchResult]:
        """Photos by CLIP similarity plus text evidence for the parsed query's words, best first.

        `why` says what matched: "image" when the photo's cosine alone would pass the best-matches
        cut of a pixels-only ranking, plus the kinds of text that hold the query's words.
        """
        filters = filters or Filters()
        if sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}")
        self.refresh()
        with self._lock:
            photos, index = self._photos, self._index
            if photos is None or index is None or len(photos.ids) == 0 or k <= 0:
                return []
            allowed, row_ok = self._allowed_vectors(photos, filters)
            q = np.asarray(query, dtype=np.float32)
            pixel = self._pixel_hits(photos, index, q, max(k, BEST_POOL), allowed, row_ok)
            image_cut = best_matches_cut(np.array([s for _, s in pixel]))
            similarity = dict(pixel)
            evidence = self._evidence(parsed, len(photos.ids))
            coverage = self._text_rows(photos, evidence, row_ok)
            banned = set(self._rows_of(photos, evidence.excluded).tolist())
            missing = [r for r in coverage if r not in similarity]
            similarity.update(self._cosines(photos, index, q, missing))
            rows = np.array([r for r in similarity if r not in banned], dtype=np.int64)
            if len(rows) == 0:
                return []
            sims = np.array([similarity[r] for r in rows.tolist()], dtype=np.float64)
            cover = np.array([coverage.get(r, 0.0) for r in rows.tolist()], dtype=np.float64)
            scores = fused_scores(sims, cover)
            order = rank(scores, cover)
            rows, sims, cover, scores = rows[order], sims[order], cover[order], scores[order]
            keep = len(rows)
            if best:
                keep = int(np.count_nonzero(scores >= best_matches_cut(scores)))
            if min_score is not None:
                keep = min(keep, int(np.count_nonzero(scores >= min_score)))
            keep = min(keep, k)
            hits, extras = [], {}
            for row, sim, score in zip(rows[:keep].tolist(), sims[:keep].tolist(), scores[:keep].tolist(), strict=True):
                kinds = set(evidence.why.get(int(photos.ids[row]), ())) if row in coverage else set()
                if sim >= image_cut:
                    kinds.add("image")
                hits.append((row, score))
                extras[row] = (sim, sorted_why(kinds))
            if sort == "date":
                hits.sort(key=lambda h: (-int(photos.dates[h[0]]), -int(photos.ids[h[0]])))
            results = self._results(photos, hits, extras)
        return self._with_captions(results)

    # -- pieces ------------------------------------------------------------------------------
    def _evidence(self, parsed: Query | None, photo_count: int) -> Evidence:
        if parsed is None or (not parsed.keywords and not parsed.excluded):
            return Evidence()
        if self._has_names is None:
            self._has_names = bool(self.store.query("SELECT 1 FROM sqlite_master WHERE name = 'photo_names'"))
        return gather(self.store, parsed, photo_count, names=self._has_names)

    def _rows_of(self, photos, photo_ids: np.ndarray) -> np.ndarray:
        """Rows (positions in the photo arrays) of the given photo ids that are there."""
        if len(photo_ids) == 0 or len(photos.ids) == 0:
            return np.zeros(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(photos.ids, photo_ids), len(photos.ids) - 1)
        return at[photos.ids[at] == photo_ids]

    def _text_rows(self, photos, evidence: Evidence, row_ok) -> dict[int, float]:
        """row -> text match of every photo with evidence that the filters allow and that has a vector."""
        if not evidence.coverage:
            return {}
        ids = np.fromiter(evidence.coverage, dtype=np.int64, count=len(evidence.coverage))
        values = np.fromiter(evidence.coverage.values(), dtype=np.float64, count=len(ids))
        order = np.argsort(ids)
        ids, values = ids[order], values[order]
        at = np.minimum(np.searchsorted(photos.ids, ids), len(photos.ids) - 1)
        present = photos.ids[at] == ids
        rows, values = at[present], values[present]
        ok = photos.vector_ids[rows] >= 0
        if row_ok is not None:
            ok &= row_ok[rows]
        return dict(zip(rows[ok].tolist(), values[ok].tolist(), strict=True))

    def _cosines(self, photos, index, q: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Exact cosines for these rows: from the index, else (approximate index) from the stored vectors."""
        if not rows:
            return {}
        rows_arr = np.array(rows, dtype=np.int64)
        vids = photos.vector_ids[rows_arr]
        wanted = np.unique(vids)
        got_ids, got_scores = index.search(q, len(wanted), allowed=wanted)
        by_vector = dict(zip(got_ids.tolist(), got_scores.tolist(), strict=True))
        absent = [int(v) for v in wanted.tolist() if v not in by_vector]
        for start in range(0, len(absent), 500):
            chunk = absent[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found = self.store.query(f"SELECT id, vector FROM embeddings WHERE id IN ({marks})", chunk)
            if found:
                vectors = blob_to_vectors([f[1] for f in found], len(found[0][1]) // 2).astype(np.float32)
                by_vector.update(zip([f[0] for f in found], (vectors @ q).tolist(), strict=True))
        return {r: by_vector[v] for r, v in zip(rows, vids.tolist(), strict=True) if v in by_vector}
