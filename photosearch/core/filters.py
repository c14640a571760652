"""What a query may return: a folder, a date range, online photos only. Shared by search, similar, browse."""

from __future__ import annotations

from dataclasses import dataclass

from photosearch.core.dates import parse_date_bound
from photosearch.core.errors import PhotoSearchError


@dataclass(frozen=True)
class Filters:
    folder: str | None = None
    after: float | None = None  # POSIX seconds, inclusive
    before: float | None = None  # POSIX seconds, exclusive
    include_offline: bool = True

    @property
    def dated(self) -> bool:
        return self.after is not None or self.before is not None

    @classmethod
    def from_text(
        cls,
        *,
        folder: str | None = None,
        after: str | None = None,
        before: str | None = None,
        include_offline: bool = True,
    ) -> Filters:
        """From what a user typed: dates as YYYY, YYYY-MM or YYYY-MM-DD (PhotoSearchError otherwise, and
        for a reversed range: it can match nothing, so it is a slip to point out, not an empty answer)."""
        start = parse_date_bound(after, end=False) if after else None
        end = parse_date_bound(before, end=True) if before else None
        if start is not None and end is not None and start >= end:
            raise PhotoSearchError(f"reversed date range: {after} comes after {before}, so nothing can match")
        return cls(folder=folder or None, after=start, before=end, include_offline=include_offline)
