"""What a query may return: a folder, a date range, online photos only. Shared by search, similar, browse."""

from __future__ import annotations

from dataclasses import dataclass

from photosearch.core.dates import parse_date_bound


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
        """From what a user typed: dates as YYYY, YYYY-MM or YYYY-MM-DD (PhotoSearchError otherwise)."""
        return cls(
            folder=folder or None,
            after=parse_date_bound(after, end=False) if after else None,
            before=parse_date_bound(before, end=True) if before else None,
            include_offline=include_offline,
        )
