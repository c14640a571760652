"""int8 only when ranking survives it: the per-library check of a reduced-precision tower.

On the library's own first photos (up to PHOTOS of them) and real query texts (its captions,
else a varied built-in set), each tower's int8 vectors must give the same top-10 neighbour lists
as the full-precision ones at least MIN_AGREEMENT of the time:
  image tower  the photos ranked for each text (and for each photo, its nearest other photos),
               full-precision galleries against int8 galleries;
  text tower   the photos (full precision) ranked for each text, full-precision against int8 texts.
A mean cosine says little about ranking: neighbours of a photo sit at cosines that differ in
the third decimal, which is the size of a trained ViT's int8 error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from photosearch.core.backends.base import normalize_rows

PHOTOS = 300
MIN_PHOTOS = 50  # fewer: top-10 lists out of a handful of photos agree by construction; stay fp32
MIN_AGREEMENT = 0.95
K = 10
TEXTS_MAX = 300
RULE = f"top-{K} neighbour lists agree with full precision >= {MIN_AGREEMENT:.0%}"

# Query texts when the library has no captions: objects, scenes, people, colours, times, styles.
BUILTIN_TEXTS = (
    "a dog", "a cat on a sofa", "a horse in a field", "birds on a wire", "a fish in an aquarium",
    "a red car", "a bicycle leaning on a wall", "a train at a station", "an airplane in the sky",
    "a boat on a lake", "a city street at night", "a crowded market", "an empty beach", "a snowy forest",
    "mountains at sunrise", "a desert road", "a waterfall", "fireworks", "a rainy window",
    "a birthday party", "a wedding", "children playing football", "an old man reading",
    "a woman laughing", "a group photo", "a selfie", "a baby sleeping", "people dancing at a concert",
    "a plate of pasta", "a cup of coffee", "a bowl of fruit", "a pizza", "a cake with candles",
    "a kitchen", "a living room", "a bedroom", "a library with books", "an office desk with a laptop",
    "a church", "a bridge over a river", "a skyscraper", "a lighthouse", "a castle", "a garden with flowers",
    "a close-up of a yellow flower", "autumn leaves", "a black and white photo", "a blurry photo",
    "a screenshot of text", "a document", "a map", "a drawing", "a painting", "a cartoon",
    "something blue", "something green and small", "a sunset over the sea", "the moon", "a tree",
    "a hand holding a phone", "shoes", "a guitar", "a clock on the wall", "a computer keyboard",
)


def agreement(ref_gallery: np.ndarray, cand_gallery: np.ndarray, ref_q: np.ndarray, cand_q: np.ndarray,
              exclude_self: bool = False) -> float:
    """Mean overlap of the top-K lists: queries ref_q over ref_gallery against cand_q over cand_gallery."""
    k = min(K, len(ref_gallery) - (1 if exclude_self else 0))
    if k <= 0 or len(ref_q) == 0:
        return 1.0
    ref_scores = np.nan_to_num(ref_q @ ref_gallery.T, nan=-2.0)
    cand_scores = np.nan_to_num(cand_q @ cand_gallery.T, nan=-2.0)
    if exclude_self:
        np.fill_diagonal(ref_scores, -np.inf)
        np.fill_diagonal(cand_scores, -np.inf)
    ref_top = np.argsort(-ref_scores, axis=1, kind="stable")[:, :k]
    cand_top = np.argsort(-cand_scores, axis=1, kind="stable")[:, :k]
    overlaps = [len(set(a) & set(b)) / k for a, b in zip(ref_top, cand_top, strict=True)]
    return float(np.mean(overlaps))


def check(
    encoder: Any,
    pixels: np.ndarray,
    texts: Sequence[str],
    text_source: str,
    candidate: Callable[[str], Callable[[np.ndarray], np.ndarray] | None] | None = None,
) -> dict[str, Any] | None:
    """The verdict for both towers, or None when there are too few photos or no int8 candidate.

    pixels: the first photos, preprocessed [N, 3, S, S]; encoder: the full-precision encoder.
    """
    if len(pixels) < MIN_PHOTOS:
        return None
    make = candidate or encoder.int8_candidate
    image_int8, text_int8 = make("image"), make("text")
    if image_int8 is None or text_int8 is None:
        return None
    texts = list(dict.fromkeys(t for t in texts if t.strip()))[:TEXTS_MAX]
    ref_img = np.concatenate([encoder.encode_images(pixels[i : i + 32]) for i in range(0, len(pixels), 32)])
    cand_img = normalize_rows(np.concatenate([image_int8(pixels[i : i + 32]) for i in range(0, len(pixels), 32)]))
    ref_txt = encoder.encode_texts(texts)
    cand_txt = normalize_rows(text_int8(encoder.tokenize(texts)))
    by_text = agreement(ref_img, cand_img, ref_txt, ref_txt)
    by_photo = agreement(ref_img, cand_img, ref_img, cand_img, exclude_self=True)
    image = (by_text * len(texts) + by_photo * len(pixels)) / (len(texts) + len(pixels))
    text = agreement(ref_img, ref_img, ref_txt, cand_txt)
    return {
        "rule": RULE,
        "photos": len(pixels),
        "texts": len(texts),
        "text_source": text_source,
        "image": {"agreement": round(image, 4), "by_text": round(by_text, 4), "by_photo": round(by_photo, 4),
                  "used": image >= MIN_AGREEMENT},
        "text": {"agreement": round(text, 4), "used": text >= MIN_AGREEMENT},
    }


def accepted(verdict: dict[str, Any] | None) -> set[str]:
    if not verdict:
        return set()
    return {t for t in ("image", "text") if isinstance(verdict.get(t), dict) and verdict[t].get("used") is True}


def run_for_library(store: Any, encoder: Any) -> dict[str, Any] | None:
    """Decode the library's first photos and check both towers; None when it cannot decide yet."""
    from photosearch.core.images import ImageError, decode

    rows = store.query("SELECT path FROM photos WHERE state = 'indexed' AND offline = 0 ORDER BY id LIMIT ?", (PHOTOS,))
    if len(rows) < MIN_PHOTOS:
        return None
    pixels = []
    for (path,) in rows:
        try:
            pixels.append(encoder.preprocess(decode(path, min_side=int(encoder.image_size)).image))
        except ImageError:
            continue  # moved or broken since it was indexed: the others still count
    captions = [t for (t,) in store.query("SELECT DISTINCT text FROM captions ORDER BY id LIMIT ?", (TEXTS_MAX,))]
    texts, source = (captions, "captions") if len(captions) >= 20 else (list(BUILTIN_TEXTS), "built-in")
    return check(encoder, np.stack(pixels) if pixels else np.zeros((0,)), texts, source)
