"""Browsing without a query: every photo newest first by date (taken, else the file's time), a page at
a time, and the months they fall in (for a timeline's headers and its year list). Mixed into SearchEngine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from photosearch.core.filters import Filters
from photosearch.core.types import SearchResult


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    count: int
    start: int  # position of its first photo in the browse order


class BrowseMixin:
    def browse(self, k: int = 100, offset: int = 0, *, filters: Filters | None = None) -> list[SearchResult]:
        """Photos newest first, positions offset .. offset+k of the (filtered) browse order; score None."""
        rows = self._browse_rows(filters or Filters())
        page = rows[max(offset, 0) : max(offset, 0) + max(k, 0)]
        if len(page) == 0:
            return []
        with self._lock:
            results = self._results(self._photos, [(int(r), None) for r in page.tolist()])
        return self._with_captions(results)

    def browse_count(self, filters: Filters | None = None) -> int:
        return len(self._browse_rows(filters or Filters()))

    def months(self, filters: Filters | None = None) -> list[Month]:
        """The months of the browse order, newest first, with their photo counts and first positions."""
        rows = self._browse_rows(filters or Filters())
        if len(rows) == 0:
            return []
        with self._lock:
            stamps = self._photos.dates[rows]
        months = stamps.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)  # months since 1970
        change = np.flatnonzero(np.diff(months)) + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [len(rows)]))
        out = []
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            value = int(months[start])
            out.append(Month(1970 + value // 12, value % 12 + 1, end - start, start))
        return out

    def _browse_rows(self, filters: Filters) -> np.ndarray:
        self.refresh_photos()
        with self._lock:
            photos = self._photos
            if photos is None or len(photos.ids) == 0:
                return np.zeros(0, dtype=np.int64)
            if self._date_order is None:
                # Newest first; the same second falls back to the newest row (later ids were added later).
                self._date_order = np.lexsort((-photos.ids, -photos.dates))
            order = self._date_order
            _, row_ok = self._allowed_vectors(photos, filters)
            return order if row_ok is None else order[row_ok[order]]
