"""One ranked list per query from pixels and words (see fusion.py for the score), with filters,
an optional "best matches" cut and date sort. Mixed into SearchEngine."""

from __future__ import annotations

import numpy as np

from photosearch.core.filters import Filters
from photosearch.core.fusion import BEST_POOL, best_matches_cut, clamp_cosines, fused_scores, rank
from photosearch.core.photo_results import build_results, pixel_rows
from photosearch.core.query import Query
from photosearch.core.store import blob_to_vectors
from photosearch.core.text_evidence import CaptionMap, Evidence, gather, why_names
from photosearch.core.types import SearchResult

SORTS = ("relevance", "date")
# The most photos taken from the pixel ranking so that it already holds a large text level's best
# (see _pixel_depth); a smaller level costs less through its own filtered search.
PIXEL_DEPTH_MAX = 1_000


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
            pool = max(k, BEST_POOL)
            evidence = self._evidence(parsed, photos)
            rows, sims = pixel_rows(photos, index, q, _pixel_depth(pool, evidence, row_ok), allowed, row_ok)
            image_cut = best_matches_cut(sims[:pool])
            if evidence.banned is not None and len(rows):
                keep_rows = ~evidence.banned[rows]
                rows, sims = rows[keep_rows], sims[keep_rows]
            if evidence.coverage is not None:
                rows, sims = self._with_text_levels(photos, index, q, pool, evidence, row_ok, rows, sims)
            if len(rows) == 0:
                return []
            cover, bits = evidence.lookup(rows)
            scores = fused_scores(sims, cover)
            order = rank(scores, cover)
            rows, sims, scores, bits = rows[order], sims[order], scores[order], bits[order]
            keep = len(rows)
            if best:
                keep = int(np.count_nonzero(scores >= best_matches_cut(scores)))
            if min_score is not None:
                keep = min(keep, int(np.count_nonzero(scores >= min_score)))
            keep = min(keep, k)
            hits, extras = [], {}
            for row, sim, score, bit in zip(
                rows[:keep].tolist(), sims[:keep].tolist(), scores[:keep].tolist(), bits[:keep].tolist(), strict=True
            ):
                hits.append((row, score))
                extras[row] = (sim, why_names(bit, sim >= image_cut))
            if sort == "date":
                hits.sort(key=lambda h: (-int(photos.dates[h[0]]), -int(photos.ids[h[0]])))
            words = evidence.caption_words
            return build_results(self.store, photos, hits, extras, lambda paths: self.best_captions(paths, words))

    # -- pieces ------------------------------------------------------------------------------
    def _evidence(self, parsed: Query | None, photos) -> Evidence:
        if parsed is None or (not parsed.keywords and not parsed.excluded):
            return Evidence()
        if self._has_names is None:
            self._has_names = bool(self.store.query("SELECT 1 FROM sqlite_master WHERE name = 'photo_names'"))
        version = self.store.data_version()
        cached = getattr(self, "_caption_map", None)
        if cached is None or cached[0] != version or cached[1] is not photos:
            cached = (version, photos, CaptionMap.build(self.store, photos.ids))
            self._caption_map = cached
        return gather(self.store, parsed, photos.ids, cached[2], names=self._has_names)

    def _with_text_levels(self, photos, index, q, pool, evidence, row_ok, rows, sims):
        """Add the photos with text evidence that can reach the top `pool` of the fused ranking.

        Photos sharing a text match (a "level") rank among themselves by cosine, so each level needs
        only its own top `pool` (one filtered search). Levels go from the highest match down and stop
        once the pool's worst score beats what any photo of the next level could reach (the best
        cosine of the whole query + 2 x that level's match).
        """
        eligible = (evidence.coverage > 0) & (photos.vector_ids >= 0)
        if row_ok is not None:
            eligible &= row_ok
        if evidence.banned is not None:
            eligible &= ~evidence.banned
        if not eligible.any():
            return rows, sims
        best_cosine = float(sims[0]) if len(sims) else 1.0
        seen = np.zeros(len(photos.ids), dtype=bool)
        seen[rows] = True
        parts_rows, parts_sims = [rows], [sims]
        found_scores = fused_scores(sims, evidence.coverage[rows])
        levels = np.unique(evidence.coverage[eligible])[::-1]
        for level in levels.tolist():
            if len(found_scores) >= pool:
                worst = np.partition(found_scores, len(found_scores) - pool)[len(found_scores) - pool]
                if worst > fused_scores(np.array([best_cosine]), np.array([level]))[0]:
                    break
            at_level = eligible & (evidence.coverage == level)
            if len(rows) and np.count_nonzero(at_level[rows]) >= pool:
                continue  # the pixel pool (the best by cosine) already holds this level's best `pool`
            level_rows = np.flatnonzero(at_level)
            vids = photos.vector_ids[level_rows]  # copies repeat a vector id: the index takes that
            wanted = min(len(vids), pool)
            got_v, got_s = index.search(q, wanted, allowed=vids)
            if len(got_v) < wanted:
                vids = np.unique(vids)  # only now: on a large level it costs as much as the search
            if len(got_v) < min(len(vids), pool):  # an approximate index may miss a few: read them
                absent = np.setdiff1d(vids, got_v)[:pool]
                extra_v, extra_s = self._stored_cosines(q, absent)
                got_v, got_s = np.concatenate([got_v, extra_v]), np.concatenate([got_s, extra_s])
            order = np.argsort(got_v)
            got_v, got_s = got_v[order], clamp_cosines(got_s[order].astype(np.float64))
            at = np.minimum(np.searchsorted(got_v, photos.vector_ids[level_rows]), len(got_v) - 1)
            hit = (got_v[at] == photos.vector_ids[level_rows]) & ~seen[level_rows] if len(got_v) else None
            if hit is None or not hit.any():
                continue
            new_rows, new_sims = level_rows[hit], got_s[at[hit]]
            seen[new_rows] = True
            parts_rows.append(new_rows)
            parts_sims.append(new_sims)
            found_scores = np.concatenate([found_scores, fused_scores(new_sims, np.full(len(new_sims), level))])
        return np.concatenate(parts_rows), np.concatenate(parts_sims)

    def _stored_cosines(self, q: np.ndarray, vector_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids, scores = [], []
        wanted = vector_ids.tolist()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found = self.store.query(f"SELECT id, vector FROM embeddings WHERE id IN ({marks})", chunk)
            if found:
                vectors = blob_to_vectors([f[1] for f in found], len(found[0][1]) // 2).astype(np.float32)
                ids.extend(f[0] for f in found)
                scores.extend((vectors @ q).tolist())
        return np.array(ids, dtype=np.int64), np.array(scores, dtype=np.float64)


def _pixel_depth(pool: int, evidence: Evidence, row_ok: np.ndarray | None) -> int:
    """How many photos to take from the pixel ranking (at least `pool`).

    When the top text level is a large share of the photos (a common word), the pixel ranking's
    best pool / share photos likely hold that level's best `pool` already, and the level then
    needs no filtered search of its own (_with_text_levels checks, so this is only about speed):
    taking more from one search costs a bigger heap, while a level search costs a pass over the
    level. Extra candidates never change the ranking: every candidate gets its exact score.
    """
    if evidence.coverage is None:
        return pool
    coverage = evidence.coverage if row_ok is None else evidence.coverage[row_ok]
    if len(coverage) == 0:
        return pool
    top = float(coverage.max())
    share = np.count_nonzero(coverage == top) / len(coverage) if top > 0 else 0.0
    want = int(np.ceil(1.5 * pool / share)) if share > 0 else PIXEL_DEPTH_MAX + 1
    return max(pool, want) if want <= PIXEL_DEPTH_MAX else pool
