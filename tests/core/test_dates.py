from __future__ import annotations

import datetime as dt

import pytest

from photosearch.core.dates import iso_date, parse_date_bound
from photosearch.core.errors import PhotoSearchError
from photosearch.core.filters import Filters


def _utc(*parts: int) -> float:
    return dt.datetime(*parts, tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2019", _utc(2019, 1, 1), _utc(2020, 1, 1)),
        ("2019-12", _utc(2019, 12, 1), _utc(2020, 1, 1)),
        ("2019-02", _utc(2019, 2, 1), _utc(2019, 3, 1)),
        ("2020-02-29", _utc(2020, 2, 29), _utc(2020, 3, 1)),
        (" 2019-7-4 ", _utc(2019, 7, 4), _utc(2019, 7, 5)),
    ],
)
def test_bounds_cover_the_whole_period(text, start, end):
    assert parse_date_bound(text, end=False) == start
    assert parse_date_bound(text, end=True) == end


@pytest.mark.parametrize("bad", ["", "19", "2019-13", "2019-02-30", "yesterday", "2019/07/04", "2019-07-04T10"])
def test_bad_dates_are_one_line_errors(bad):
    with pytest.raises(PhotoSearchError, match="not a date") as info:
        parse_date_bound(bad, end=False)
    assert "\n" not in str(info.value)


def test_filters_from_text_and_iso_output():
    f = Filters.from_text(after="2019", before="2019-06", folder="")
    assert f.after == _utc(2019, 1, 1) and f.before == _utc(2019, 7, 1) and f.folder is None and f.dated
    assert not Filters().dated
    assert iso_date(_utc(2019, 7, 14, 10, 0, 5)) == "2019-07-14T10:00:05"
    assert iso_date(None) is None


@pytest.mark.parametrize(
    ("text", "start", "last_day"),
    [("9999", _utc(9999, 1, 1), _utc(9999, 12, 31)), ("9999-12", _utc(9999, 12, 1), _utc(9999, 12, 31)),
     ("9999-12-31", _utc(9999, 12, 31), _utc(9999, 12, 31)), ("0001", _utc(1, 1, 1), _utc(1, 12, 31)),
     ("0001-01-01", _utc(1, 1, 1), _utc(1, 1, 1))],
)  # fmt: skip
def test_the_first_and_last_years_datetime_knows_are_whole_periods_too(text, start, last_day):
    # The end of year 9999 is the start of year 10000, which datetime cannot hold: it is still a bound.
    assert parse_date_bound(text, end=False) == start
    assert parse_date_bound(text, end=True) == last_day + 86400


@pytest.mark.parametrize(("after", "before"), [("2021", "2019"), ("2019-07", "2019-06"), ("2019-06-02", "2019-06-01")])
def test_a_reversed_date_range_is_a_one_line_error(after, before):
    """From later than To matches nothing: it is a mistake to say so, not an empty answer."""
    with pytest.raises(PhotoSearchError, match="reversed") as info:
        Filters.from_text(after=after, before=before)
    assert after in str(info.value) and before in str(info.value) and "\n" not in str(info.value)
    assert Filters.from_text(after=before, before=after).dated  # the other way round is fine
    assert Filters.from_text(after="2019-06", before="2019-06").dated  # one month: from its start to its end
