"""The searching half of Library: query vectors from text or images, photo and caption search, browsing,
and the Recall@K evaluation of a caption CSV. Mixed into Library, whose store, engine and encoder it uses."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

import numpy as np
from PIL import Image

from photosearch.core.browse import Month
from photosearch.core.caption_files import read_caption_csv
from photosearch.core.errors import PhotoSearchError
from photosearch.core.filters import Filters
from photosearch.core.fsnames import from_db
from photosearch.core.fusion import BEST_POOL, best_matches_cut, mix_vectors
from photosearch.core.images import ImageError, open_query_image
from photosearch.core.query import parse_query
from photosearch.core.search import combine_query
from photosearch.core.types import CaptionResult, SearchResult

ImageSource = str | os.PathLike | bytes | Image.Image
EVAL_BATCH = 256  # captions per text-tower batch in evaluate(): bounded memory (issue 13)
QUERY_VECTORS_KEPT = 16  # encoded outside query images remembered (a few vectors: a few KB)


class QueryVectorCache:
    """Vectors of query images from outside the library, so the app's two asks of one query (its photos,
    then its captions) decode and encode the image once. Keyed by the model and the file's path, size and
    mtime (a changed file is encoded afresh) or by the hash of raw image data; the oldest go first."""

    def __init__(self, kept: int = QUERY_VECTORS_KEPT) -> None:
        self._kept = kept
        self._vectors: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # searches run on any thread

    @staticmethod
    def key(model_id: str, source: ImageSource) -> tuple | None:
        """None for a source that cannot be named cheaply (an Image object) or a file that is gone."""
        if isinstance(source, bytes):
            return (model_id, "data", hashlib.sha256(source).hexdigest())
        if isinstance(source, str | os.PathLike):
            path = os.path.abspath(source)
            try:
                stat = os.stat(path)
            except OSError:
                return None
            return (model_id, "file", path, stat.st_size, stat.st_mtime_ns)
        return None

    def get(self, key: tuple | None) -> np.ndarray | None:
        if key is None:
            return None
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
            return None if vector is None else vector.copy()

    def put(self, key: tuple | None, vector: np.ndarray) -> None:
        if key is None:
            return
        with self._lock:
            self._vectors[key] = vector.copy()
            self._vectors.move_to_end(key)
            while len(self._vectors) > self._kept:
                self._vectors.popitem(last=False)


class LibrarySearchMixin:
    # -- search ------------------------------------------------------------------------------
    def text_vector(self, text: str) -> np.ndarray | None:
        parsed = parse_query(text)
        if parsed.empty:
            return None
        enc = self.encoder()
        texts = ([parsed.text] if parsed.text else []) + list(parsed.excluded)
        vectors = enc.encode_texts(texts)
        positive = vectors[0] if parsed.text else None
        excluded = vectors[1:] if parsed.text else vectors
        return combine_query(positive, excluded if len(excluded) else None)

    def image_vector(self, source: ImageSource) -> np.ndarray:
        """A query image: a library photo's stored vector when it has one, else encoded now."""
        if isinstance(source, str | os.PathLike):
            path = os.path.abspath(source)
            if not os.path.exists(path):
                raise PhotoSearchError(f"no such image: {source}")
            stored = self.engine().vector_for_path(path)
            if stored is not None:
                return stored / max(float(np.linalg.norm(stored)), 1e-12)
        key = QueryVectorCache.key(self.model_id, source)  # before decoding: the file read is the one named
        remembered = self._query_vectors.get(key)
        if remembered is not None:
            return remembered
        try:
            image = source if isinstance(source, Image.Image) else open_query_image(source)
        except ImageError as exc:
            raise PhotoSearchError(f"cannot use that image as a query: {exc}") from None
        enc = self.encoder()
        vector = enc.encode_images(enc.preprocess(image.convert("RGB"))[None])[0]
        self._query_vectors.put(key, vector)
        return vector

    def search_text(
        self,
        text: str,
        k: int = 50,
        *,
        min_score: float | None = None,
        folder: str | None = None,
        include_offline: bool = True,
        filters: Filters | None = None,
        best: bool = False,
        sort: str = "relevance",
    ) -> list[SearchResult]:
        """Photos for a text: CLIP similarity fused with the words of captions, keywords and names."""
        vector = self.text_vector(text)
        if vector is None:
            return []
        filters = filters or Filters(folder=folder, include_offline=include_offline)
        return self.engine().search_fused(
            vector, parse_query(text), k, filters=filters, min_score=min_score, best=best, sort=sort
        )

    def search_image(
        self,
        source: ImageSource | list[ImageSource],
        k: int = 50,
        *,
        min_score: float | None = None,
        folder: str | None = None,
        include_offline: bool = True,
        filters: Filters | None = None,
        best: bool = False,
        sort: str = "relevance",
        plus: str | None = None,
        minus: Iterable[str] = (),
        minus_images: Iterable[ImageSource] = (),
        weight: float = 0.5,
    ) -> list[SearchResult]:
        """Photos like one or several images, optionally plus words and minus words or images.

        weight (0..1): how much the words count against the images (see fusion.mix_vectors).
        """
        vector = self.image_query_vector(source, plus=plus, minus=minus, minus_images=minus_images, weight=weight)
        if vector is None:
            return []
        filters = filters or Filters(folder=folder, include_offline=include_offline)
        return self.engine().search_fused(vector, None, k, filters=filters, min_score=min_score, best=best, sort=sort)

    def image_query_vector(
        self,
        source: ImageSource | list[ImageSource],
        *,
        plus: str | None = None,
        minus: Iterable[str] = (),
        minus_images: Iterable[ImageSource] = (),
        weight: float = 0.5,
    ) -> np.ndarray | None:
        """The one vector of an image query (one or several images, words added or taken away), for the
        photos and their captions alike; None when nothing is left (an image minus itself)."""
        sources = list(source) if isinstance(source, list | tuple) else [source]
        images = [self.image_vector(s) for s in sources]
        plus_vector = self.text_vector(plus) if plus and plus.strip() else None
        minus_texts = [m for m in minus if m and m.strip()]
        negatives = list(self.encoder().encode_texts(minus_texts)) if minus_texts else []
        negatives += [self.image_vector(s) for s in minus_images]
        return mix_vectors(images, plus_vector, negatives, weight)

    def browse(self, k: int = 100, offset: int = 0, *, filters: Filters | None = None) -> list[SearchResult]:
        """Every photo the filters allow, newest first by date taken (else file time); score None."""
        return self.engine().browse(k, offset, filters=filters)

    def months(self, filters: Filters | None = None) -> list[Month]:
        return self.engine().months(filters)

    def search_captions(
        self,
        text: str | None = None,
        image: ImageSource | list[ImageSource] | None = None,
        k: int = 20,
        folder: str | None = None,
        *,
        filters: Filters | None = None,
        best: bool = False,
        plus: str | None = None,
        minus: Iterable[str] = (),
        minus_images: Iterable[ImageSource] = (),
        weight: float = 0.5,
    ) -> list[CaptionResult]:
        """Captions matching a text (CLIP text-text + verbatim words) or an image query (CLIP image-text).

        An image query is search_image's: one or several images, plus/minus words and images, weight;
        its captions rank by the very vector its photos do (image_query_vector).
        filters and best as in search_text: only captions of photos the filters allow, and with best
        only those scoring closer to the top caption than to the typical one (fusion.best_matches_cut)."""
        filters = filters or (Filters(folder=folder) if folder else None)
        parsed = None
        if image is not None:
            vector = self.image_query_vector(image, plus=plus, minus=minus, minus_images=minus_images, weight=weight)
            if vector is None:
                return []
        else:
            parsed = parse_query(text or "")
            vector = self.text_vector(text or "")
            if vector is None:
                return []
        found = self.engine().search_captions(vector, max(k, BEST_POOL) if best else k, parsed, filters=filters)
        if best and found:
            cut = best_matches_cut(np.array([c.score for c in found]))
            found = [c for c in found if c.score >= cut]
        return found[:k]

    def evaluate(
        self,
        csv_path: str | os.PathLike,
        ks: Iterable[int] = (1, 5, 10),
        progress: Callable[[int, int], None] | None = None,
    ) -> dict:
        """Text -> image Recall@K of a caption CSV's rows against this library (the seeds' evaluation).

        Captions are encoded and ranked EVAL_BATCH at a time, so memory stays bounded however long
        the CSV; progress(done, total) is called after each batch."""
        ks = sorted({int(k) for k in ks if int(k) > 0}) or [1, 5, 10]
        parsed = read_caption_csv(csv_path, self._inside())
        engine = self.engine()
        indexed = {from_db(p) for (p,) in self.store.query("SELECT path FROM photos WHERE state = 'indexed'")}
        pairs = [(p, t) for p, t in parsed.rows if p in indexed]
        hits = dict.fromkeys(ks, 0)
        for start in range(0, len(pairs), EVAL_BATCH):
            chunk = pairs[start : start + EVAL_BATCH]
            vectors = self.encoder().encode_texts([t for _, t in chunk])
            for (path, _), vector in zip(chunk, vectors, strict=True):
                ranked = [r.path for r in engine.search(vector, max(ks))]
                for k in ks:
                    hits[k] += path in ranked[:k]
            if progress is not None:
                progress(start + len(chunk), len(pairs))
        out: dict = {"queries": len(pairs), "skipped_rows": len(parsed.rows) - len(pairs)}
        for k in ks:
            out[f"recall@{k}"] = hits[k] / len(pairs) if pairs else 0.0
        return out
