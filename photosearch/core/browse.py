"""Browsing without a query: every photo newest first by date (taken, else the file's time), a page at
a time, and the months they fall in (for a timeline's year list). Mixed into SearchEngine.

Straight from SQLite through the photos_date index (partial: indexed photos only, so skipping rows
never touches the table): the first screen needs no vectors and no photo table in memory, so it is
there before the search engine has loaded anything. Pages are asked for by position, but skipping
100,000 index entries costs milliseconds, so each page and month list leaves anchors (position ->
the sort key just before it) and the next page starts at the nearest anchor by a keyset range,
until the library changes.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
from dataclasses import dataclass

from photosearch.core.filters import Filters
from photosearch.core.fsnames import from_db
from photosearch.core.types import SearchResult

DATE_SQL = "COALESCE(taken, mtime_ns / 1e9)"  # must match the photos_date index expression exactly
# Rows after the anchor (date, id) in the newest-first order: the range uses the photos_date index.
AFTER_SQL = f" AND {DATE_SQL} <= ? AND ({DATE_SQL} < ? OR id < ?)"
NO_ID = -1  # an anchor at a month boundary: every photo of that date is in the newer month
MAX_ANCHORED_FILTERS = 8
MAX_ANCHORS = 5_000
SQL_INT_MAX = 2**63 - 1
# Offline photos with an online twin. `+p.state`: read the few offline ones through photos_offline, not
# every photo through photos_date (0.3 s at 100k photos, 20k of them offline; 0.05 s this way).
OFFLINE_TWINS_SQL = (
    "SELECT p.id FROM photos p WHERE p.offline = 1 AND +p.state = 'indexed' AND EXISTS "
    "(SELECT 1 FROM photos o WHERE o.fingerprint = p.fingerprint AND o.offline = 0 AND o.state = 'indexed')"
)
TWINS_TABLE = "temp.offline_twins"  # per connection, refilled when the library changes
WITHIN = "within"


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    count: int
    start: int  # position of its first photo in the browse order


def _where(filters: Filters, twins: str = "") -> tuple[str, list]:
    """twins: how to leave out offline photos whose content an online photo has (the old rows of a renamed
    or moved watched folder), as search does: "" (none is offline), TWINS_TABLE (the library's), or
    WITHIN (only those whose online twin these filters allow: asked for, an offline folder shows its own)."""
    where, params = _clauses(filters)
    if twins == TWINS_TABLE:
        where += f" AND id NOT IN {TWINS_TABLE}"  # a lookup by id: the date index alone still answers
    elif twins == WITHIN:
        twin, twin_params = _clauses(filters, "o.")
        where += (
            " AND (offline = 0 OR NOT EXISTS (SELECT 1 FROM photos o WHERE o.fingerprint = photos.fingerprint "
            f"AND o.offline = 0 AND {twin}))"
        )
        params += twin_params
    return where, params


def _clauses(filters: Filters, table: str = "") -> tuple[str, list]:
    date = f"COALESCE({table}taken, {table}mtime_ns / 1e9)"  # unqualified: DATE_SQL, as the index has it
    clauses, params = [f"{table}state = 'indexed'"], []
    if not filters.include_offline:
        clauses.append(f"{table}offline = 0")
    if filters.folder:
        folder = filters.folder.rstrip(os.sep)
        clauses.append(f"({table}path = ? OR ({table}path >= ? AND {table}path < ?))")
        params += [folder, folder + os.sep, folder + chr(ord(os.sep) + 1)]
    if filters.after is not None:
        clauses.append(f"{date} >= ?")
        params.append(filters.after)
    if filters.before is not None:
        clauses.append(f"{date} < ?")
        params.append(filters.before)
    return " AND ".join(clauses), params


class _Anchors:
    """Known places in one filtered browse order: position p starts right after the key (date, id)."""

    def __init__(self, version: tuple[int, int]) -> None:
        self.version = version
        self.positions: list[int] = []
        self.keys: list[tuple[float, int]] = []

    def before(self, offset: int) -> tuple[int, tuple[float, int]] | None:
        at = bisect.bisect_right(self.positions, offset) - 1
        return (self.positions[at], self.keys[at]) if at >= 0 else None

    def add(self, position: int, key: tuple[float, int]) -> None:
        at = bisect.bisect_left(self.positions, position)
        if at < len(self.positions) and self.positions[at] == position:
            return
        if len(self.positions) >= MAX_ANCHORS:
            return  # deep enough: skipping from the nearest one stays cheap
        self.positions.insert(at, position)
        self.keys.insert(at, key)


class BrowseMixin:
    def browse(self, k: int = 100, offset: int = 0, *, filters: Filters | None = None) -> list[SearchResult]:
        """Photos newest first, positions offset .. offset+k of the (filtered) browse order; score None."""
        filters = filters or Filters()
        where, params = _where(filters, self._twins(filters))
        # Beyond SQLite's 64-bit integers a count means "all of them" and an offset "past the end".
        k, offset = min(max(int(k), 0), SQL_INT_MAX), min(max(int(offset), 0), SQL_INT_MAX)
        anchors = self._browse_anchors(filters)
        start = anchors.before(offset)
        skip = offset
        if start is not None:
            position, (date, photo_id) = start
            where += AFTER_SQL
            params += [date, date, photo_id]
            skip = offset - position
        rows = self.store.query(
            f"SELECT id, path, fingerprint, width, height, taken, offline, {DATE_SQL} FROM photos "
            f"WHERE {where} ORDER BY {DATE_SQL} DESC, id DESC LIMIT ? OFFSET ?",
            [*params, k, skip],
        )
        if rows:
            with self._browse_lock:
                anchors.add(offset + len(rows), (rows[-1][7], rows[-1][0]))
        captions = self.best_captions([from_db(r[1]) for r in rows]) if rows else {}
        return [
            SearchResult(
                path=(path := from_db(r[1])),
                score=None,
                caption=captions.get(path),
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

    def _browse_anchors(self, filters: Filters) -> _Anchors:
        """This filtered order's anchors, dropped whenever anyone commits to the library."""
        version = self.store.data_version()
        with self._browse_lock:
            anchors = self._anchors.get(filters)
            if anchors is None or anchors.version != version:
                if len(self._anchors) >= MAX_ANCHORED_FILTERS:
                    self._anchors.clear()
                anchors = self._anchors[filters] = _Anchors(version)
            return anchors

    def _some_offline(self) -> bool:
        """Whether any photo is offline (one lookup in the photos_offline index), until the library changes."""
        version = self.store.data_version()
        cached = getattr(self, "_offline_seen", None)
        if cached is None or cached[0] != version:
            cached = (version, bool(self.store.query("SELECT 1 FROM photos WHERE offline = 1 LIMIT 1")))
            self._offline_seen = cached
        return cached[1]

    def _twins(self, filters: Filters) -> str:
        """How _where leaves out offline photos shown online elsewhere (see there) for these filters."""
        if not filters.include_offline or not self._some_offline():
            return ""
        if filters.folder:  # the folder's range already reads each row: check its twins on the way
            return WITHIN
        # The timeline (dates too: twins share the date taken): the ids to leave out, found once per change
        # of the library and kept in a temporary table of this thread's connection, so every page and count
        # still reads the date index alone.
        conn, version = self.store.conn, self.store.data_version()
        if getattr(conn, "twins_version", None) != version:
            self.store.query(f"CREATE TEMP TABLE IF NOT EXISTS {TWINS_TABLE[5:]}(id INTEGER PRIMARY KEY)")
            self.store.query(f"DELETE FROM {TWINS_TABLE}")
            self.store.query(f"INSERT INTO {TWINS_TABLE} {OFFLINE_TWINS_SQL}")
            conn.twins_version = version
        return TWINS_TABLE

    def browse_count(self, filters: Filters | None = None) -> int:
        filters = filters or Filters()
        where, params = _where(filters, self._twins(filters))
        return int(self.store.query(f"SELECT COUNT(*) FROM photos WHERE {where}", params)[0][0])

    def months(self, filters: Filters | None = None) -> list[Month]:
        """The months of the browse order, newest first, with their photo counts and first positions.

        Walks the date index a month at a time (the newest photo before the current month, then the
        count of its month): two index lookups per month that has photos, never a pass over the table.
        """
        filters = filters or Filters()
        where, params = _where(filters, self._twins(filters))
        anchors = self._browse_anchors(filters)
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
            if upper is not None:  # a jump to this month starts here
                with self._browse_lock:
                    anchors.add(position, (upper, NO_ID))
            position += count
            upper = start
