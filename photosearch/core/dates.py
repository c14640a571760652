"""Dates as the user types them (`2019`, `2019-07`, `2019-07-14`) and as results report them.

A photo's date is its EXIF DateTimeOriginal (stored as the camera wrote it, read as UTC), else the
file's modification time. Both are compared in UTC so a filter never shifts with the local zone.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re

from photosearch.core.errors import PhotoSearchError

_DAY_S = 86_400
_BOUND = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def parse_date_bound(text: str, *, end: bool) -> float:
    """POSIX seconds of the start of a day/month/year, or (end=True) of the start of the next one.

    `--after 2019 --before 2019` therefore means all of 2019: after is inclusive of its start,
    before is inclusive of its whole period. Raises PhotoSearchError for anything else.
    """
    match = _BOUND.match((text or "").strip())
    if match is None:
        raise PhotoSearchError(f"not a date: {text!r} (use YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = int(match.group(1)), match.group(2), match.group(3)
    try:
        start = _dt.datetime(year, int(month or 1), int(day or 1), tzinfo=_dt.UTC)
    except ValueError:
        raise PhotoSearchError(f"not a date: {text!r} (use YYYY, YYYY-MM or YYYY-MM-DD)") from None
    if not end:
        return start.timestamp()
    if day is not None:
        last = start
    elif month is not None:
        last = start.replace(day=calendar.monthrange(year, start.month)[1])
    else:
        last = start.replace(month=12, day=31)
    # The next period's start counted in seconds from the last day's: datetime stops at year 9999, so
    # the end of 9999 (the start of 10000) exists only as a number. UTC days are all 86,400 s long.
    return last.timestamp() + _DAY_S


def iso_date(stamp: float | None) -> str | None:
    """ISO 8601 (to the second, no zone: camera clocks have none) or None."""
    if stamp is None:
        return None
    try:
        return _dt.datetime.fromtimestamp(stamp, _dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return None
