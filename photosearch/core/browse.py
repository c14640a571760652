"""Browsing without a query: every photo newest first by date (taken, else the file's time), a page at
a time, and the months they fall in (for a timeline's year list). Mixed into SearchEngine.

Straight from SQLite through the photos_date index (partial: indexed photos only, so skipping rows
never touches the table): the first screen needs no vectors and no photo table in memory, so it is
there before the search engine has loaded anything.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from photosearch.core.filters import Filters
from photosearch.core.fsnames import from_db
from photosearch.core.types import SearchResult

DATE_SQL = "COALESCE(taken, mtime_ns / 1e9)"  # must match the photos_date index expression exactly


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    count: int
    start: int  # position of its first photo in the browse order


def _where(filters: Filters) -> tuple[str, list]:
    clauses, params = ["state = 'indexed'"], []
    if not filters.include_offline:
        clauses.append("offline = 0")
    if filters.folder:
        folder = filters.folder.rstrip(os.sep)
        clauses.append("(path = ? OR (path >= ? AND path < ?))")
        params += [folder, folder + os.sep, folder + chr(ord(os.sep) + 1)]
    if filters.after is not None:
        clauses.append(f"{DATE_SQL} >= ?")
        params.append(filters.after)
    if filters.before is not None:
        clauses.append(f"{DATE_SQL} < ?")
        params.append(filters.before)
    return " AND ".join(clauses), params


class BrowseMixin:
    def browse(self, k: int = 100, offset: int = 0, *, filters: Filters | None = None) -> list[SearchResult]:
        """Photos newest first, positions offset .. offset+k of the (filtered) browse order; score None."""
        where, params = _where(filters or Filters())
        rows = self.store.query(
            f"SELECT id, path, fingerprint, width, height, taken, offline, {DATE_SQL} FROM photos "
            f"WHERE {where} ORDER BY {DATE_SQL} DESC, id DESC LIMIT ? OFFSET ?",
            [*params, max(int(k), 0), max(int(offset), 0)],
        )
        results = [
            SearchResult(
                path=from_db(r[1]),
                score=None,
                photo_id=r[0],
                fingerprint=r[2] or "",
                width=r[3] or 0,
                height=r[4] or 0,
                taken=r[5],
                offline=bool(r[6]),
                date=r[7],
            )
            for r in rows
        ]
        return self._with_captions(results)

    def browse_count(self, filters: Filters | None = None) -> int:
        where, params = _where(filters or Filters())
        return int(self.store.query(f"SELECT COUNT(*) FROM photos WHERE {where}", params)[0][0])

    def months(self, filters: Filters | None = None) -> list[Month]:
        """The months of the browse order, newest first, with their photo counts and first positions.

        Walks the date index a month at a time (the newest photo before the current month, then the
        count of its month): two index lookups per month that has photos, never a pass over the table.
        """
        where, params = _where(filters or Filters())
        out: list[Month] = []
        position, upper = 0, None
        while True:
            below = "" if upper is None else f" AND {DATE_SQL} < ?"
            extra = [] if upper is None else [upper]
            sql = f"SELECT MAX({DATE_SQL}) FROM photos WHERE {where}{below}"
            (newest,) = self.store.query(sql, [*params, *extra])[0]
            if newest is None:
                return out
            when = dt.datetime.fromtimestamp(newest, dt.UTC)
            start = dt.datetime(when.year, when.month, 1, tzinfo=dt.UTC).timestamp()
            end = upper if upper is not None else newest + 1
            sql = f"SELECT COUNT(*) FROM photos WHERE {where} AND {DATE_SQL} >= ? AND {DATE_SQL} < ?"
            (count,) = self.store.query(sql, [*params, start, end])[0]
            out.append(Month(when.year, when.month, count, position))
            position += count
            upper = start
