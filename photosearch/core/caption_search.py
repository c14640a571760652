"""Caption search (CLIP text-text or image-text similarity plus verbatim word matches), and the
caption each result shows. Mixed into SearchEngine, whose store and lock it uses."""

from __future__ import annotations

import math
import os

import numpy as np

from photosearch.core.fsnames import from_db
from photosearch.core.query import Query, fts_literal
from photosearch.core.store import blob_to_vectors
from photosearch.core.types import CaptionResult, SearchResult

# Which caption a result shows first; keywords (a list of words) and unknown sources come last.
CAPTION_SOURCE_ORDER = ("csv", "sidecar", "xmp", "iptc", "exif", "png", "comment")
HIDDEN_SOURCES = ("keyword", "ocr")  # evidence for search (the preview shows OCR text apart), not a caption
_CAPTION_CHUNK = 65536


class CaptionSearchMixin:
    def _with_captions(self, results: list[SearchResult]) -> list[SearchResult]:
        if not results:
            return results
        best = self.best_captions([r.path for r in results])
        return [SearchResult(**{**r.__dict__, "caption": best.get(r.path)}) if r.path in best else r for r in results]

    def best_captions(self, paths: list[str]) -> dict[str, str]:
        marks = ",".join("?" * len(paths))
        rows = self.store.query(f"SELECT path, source, text FROM captions WHERE path IN ({marks})", paths)
        rank = {s: i for i, s in enumerate(CAPTION_SOURCE_ORDER)}
        chosen: dict[str, tuple[int, str]] = {}
        for stored, source, text in rows:
            if source in HIDDEN_SOURCES:
                continue
            path = from_db(stored)
            key = rank.get(source, len(rank))
            if path not in chosen or key < chosen[path][0]:
                chosen[path] = (key, text)
        return {p: t for p, (_, t) in chosen.items()}

    # -- captions ----------------------------------------------------------------------------
    def _refresh_captions(self) -> None:
        """Append caption vectors committed since the last look (fetched in chunks, so the peak stays
        near the array itself); reload them all only when some at or below the last id went away."""
        version = self.store.data_version()
        if version == self._captions_version:
            return
        ids, vectors = self._caption_ids, self._caption_vectors
        last = int(ids[-1]) if len(ids) else 0
        if len(ids):
            (still_there,) = self.store.query(
                "SELECT COUNT(*) FROM caption_embeddings WHERE model_id = ? AND caption_id <= ?", (self.model_id, last)
            )[0]
            if still_there != len(ids):
                ids, vectors, last = np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float16), 0
        new_ids, new_vectors = [ids], [vectors] if len(ids) else []
        cursor = self.store.conn.execute(
            "SELECT caption_id, vector FROM caption_embeddings WHERE model_id = ? AND caption_id > ? "
            "ORDER BY caption_id",
            (self.model_id, last),
        )
        while rows := cursor.fetchmany(_CAPTION_CHUNK):
            dim = len(rows[0][1]) // 2
            new_ids.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
            new_vectors.append(blob_to_vectors([r[1] for r in rows], dim))
        if len(new_ids) > 1 or not len(ids):
            self._caption_ids = np.concatenate(new_ids) if len(new_ids) > 1 else new_ids[0]
            self._caption_vectors = np.concatenate(new_vectors) if new_vectors else np.zeros((0, 0), np.float16)
        else:
            self._caption_ids, self._caption_vectors = ids, vectors
        self._captions_version = version

    def caption_similarities(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            self._refresh_captions()
            ids, vectors = self._caption_ids, self._caption_vectors
        q = np.asarray(query, dtype=np.float32)
        sims = np.empty(len(ids), dtype=np.float32)
        for start in range(0, len(ids), _CAPTION_CHUNK):
            sims[start : start + _CAPTION_CHUNK] = vectors[start : start + _CAPTION_CHUNK].astype(np.float32) @ q
        return ids, sims

    def search_captions(
        self, query_vector: np.ndarray, k: int = 20, parsed: Query | None = None, folder: str | None = None
    ) -> list[CaptionResult]:
        """Captions by CLIP similarity, plus up to +1.0 for the query's words found verbatim (IDF-weighted)."""
        ids, sims = self.caption_similarities(query_vector)
        lexical, matched = self._lexical(parsed) if parsed else ({}, {})
        banned = self._excluded(parsed) if parsed else set()
        wide = min(max(k * 5, 50), len(ids))
        top = ids[np.argpartition(-sims, wide - 1)[:wide]].tolist() if wide else []
        candidates = (set(top) | set(lexical)) - banned
        similarity = _lookup(ids, sims, candidates)  # only the candidates', not a dict of every caption
        scored = sorted(((similarity.get(c, 0.0) + lexical.get(c, 0.0), c) for c in candidates), key=lambda t: -t[0])
        results = self._caption_results(scored, similarity, lexical, matched, folder, k)
        return results

    def _caption_results(self, scored, similarity, lexical, matched, folder, k) -> list[CaptionResult]:
        out: list[CaptionResult] = []
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
                if row is None or (folder and not _under(from_db(row[1]), folder)):
                    continue
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
                    return out
        return out

    def _term_hits(self, term: str) -> set[int]:
        rows = self.store.query("SELECT rowid FROM captions_fts WHERE captions_fts MATCH ?", (fts_literal(term),))
        return {r[0] for r in rows}

    def _lexical(self, parsed: Query) -> tuple[dict[int, float], dict[int, list[str]]]:
        if not parsed.keywords:
            return {}, {}
        (total,) = self.store.query("SELECT COUNT(*) FROM captions")[0]
        hits = {t: self._term_hits(t) for t in parsed.keywords}
        idf = {t: math.log(1 + (total - len(h) + 0.5) / (len(h) + 0.5)) for t, h in hits.items()}
        weight = sum(idf.values()) or 1.0
        coverage: dict[int, float] = {}
        matched: dict[int, list[str]] = {}
        for term, rows in hits.items():
            for cid in rows:
                coverage[cid] = coverage.get(cid, 0.0) + idf[term] / weight
                matched.setdefault(cid, []).append(term)
        return coverage, matched

    def _excluded(self, parsed: Query) -> set[int]:
        banned: set[int] = set()
        for term in parsed.excluded:
            banned |= self._term_hits(term)
        return banned


def _lookup(ids: np.ndarray, values: np.ndarray, wanted: set[int]) -> dict[int, float]:
    """{id: value} for the wanted ids found in the sorted array ids."""
    if not wanted or not len(ids):
        return {}
    keys = np.fromiter(wanted, dtype=np.int64, count=len(wanted))
    pos = np.minimum(np.searchsorted(ids, keys), len(ids) - 1)
    found = ids[pos] == keys
    return dict(zip(keys[found].tolist(), values[pos[found]].tolist(), strict=True))


def _under(path: str, folder: str) -> bool:
    folder = folder.rstrip(os.sep)
    return path == folder or path.startswith(folder + os.sep)
