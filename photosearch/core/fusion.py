"""How pixels and words combine into one score, and where "best matches" cut a ranked list.

score = CLIP cosine + TEXT_WEIGHT x text match. The text match is the IDF-weighted share (0..1) of the
query's keywords found in the photo's own words (captions, keywords, text in the photo, file and folder
names); it is exactly 1 when all of them are there. Cosines lie in [-1, 1], so with TEXT_WEIGHT = 2 a
photo holding every keyword scores at least 1 and one holding none at most 1: the first always ranks
above the second (ties go to the higher text match), and CLIP orders photos with equal text evidence.
"""

from __future__ import annotations

import numpy as np

TEXT_WEIGHT = 2.0
BEST_POOL = 200  # the candidates a "best matches" cut looks at
BEST_FRACTION = 0.5  # keep what scores closer to the best than to the typical candidate


def clamp_cosines(similarity: np.ndarray) -> np.ndarray:
    """CLIP cosines held to [-1, 1]. Vectors are unit only to float32/float16 rounding, so a photo
    against itself can give 1.0001: it must not show (or rank) above what a cosine can be."""
    return np.clip(similarity, -1.0, 1.0)


def fused_scores(similarity: np.ndarray, coverage: np.ndarray) -> np.ndarray:
    return similarity.astype(np.float64) + TEXT_WEIGHT * coverage.astype(np.float64)


def rank(scores: np.ndarray, coverage: np.ndarray) -> np.ndarray:
    """Positions best first: by score, then by text match (so equal scores favour words)."""
    return np.lexsort((-coverage, -scores))


def best_matches_cut(scores_best_first: np.ndarray) -> float:
    """The lowest score "best matches" keeps for this query (a rule, not a fixed number).

    Over the query's best BEST_POOL candidates, take the top score and the median one (what a
    typical photo scores for this query); keep the results that score at least halfway from the
    median to the top. A query with a few clear winners keeps few; a vague one keeps more. The
    top result always passes.
    """
    pool = np.asarray(scores_best_first, dtype=np.float64)[:BEST_POOL]
    if len(pool) == 0:
        return float("inf")
    top, typical = float(pool[0]), float(np.median(pool))
    return typical + BEST_FRACTION * (top - typical)


def mix_vectors(
    images: list[np.ndarray], plus: np.ndarray | None, minus: list[np.ndarray], weight: float
) -> np.ndarray | None:
    """One query vector for "like these photos, plus these words, minus those words/photos".

    The images' mean and the plus words blend as (1 - weight) x images + weight x words; the minus
    vectors' mean is then subtracted at `weight`. weight 0: the images alone; 1: the words alone.
    """
    weight = float(np.clip(weight, 0.0, 1.0))
    positive = None
    if images:
        positive = _unit(np.mean(np.stack(images).astype(np.float32), axis=0))
    if plus is not None:
        words = _unit(np.asarray(plus, dtype=np.float32))
        positive = words if positive is None else _unit((1 - weight) * positive + weight * words)
    if positive is None:
        return None
    if minus:
        positive = positive - weight * _unit(np.mean(np.stack(minus).astype(np.float32), axis=0))
    norm = float(np.linalg.norm(positive))
    return positive / norm if norm > 0 else None


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v
