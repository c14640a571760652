"""Caption CSVs that are damaged or hostile: each bad line is rejected with its number, good lines kept."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from photosearch.core.caption_csv import MAX_RECORD_BYTES, iter_caption_csv
from photosearch.core.caption_files import read_caption_csv
from photosearch.core.errors import PhotoSearchError


@pytest.fixture
def album(tmp_path: Path) -> Path:
    folder = tmp_path / "album"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg"):
        (folder / name).write_bytes(b"jpeg")
    return folder


def write(folder: Path, data: bytes) -> Path:
    path = folder / "captions.csv"
    path.write_bytes(data)
    return path


def rows(result) -> dict[str, str]:
    return {Path(p).name: t for p, t in result.rows}


def test_one_invalid_byte_rejects_its_line_only_and_good_lines_stay_exact(album):
    data = "image,description\na.jpg,Café in Zürich\n".encode() + b"b.jpg,caf\xe9 au lait\n" + "c.jpg,Ægir ☃\n".encode()
    result = read_caption_csv(write(album, data))
    assert rows(result) == {"a.jpg": "Café in Zürich", "c.jpg": "Ægir ☃"}
    assert result.rejected == [(3, "not valid UTF-8 (or UTF-16 with a byte order mark)")]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_boms(album, encoding):
    text = "image,description\na.jpg,Café ☃\n"
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        data = ("\ufeff" + text).encode(encoding)
    assert rows(read_caption_csv(write(album, data))) == {"a.jpg": "Café ☃"}


def test_a_huge_caption_rejects_its_line_only(album):
    big = "x" * (1024 * 1024)
    data = f"image,description\na.jpg,Short\nb.jpg,{big}\nc.jpg,After\n".encode()
    result = read_caption_csv(write(album, data))
    assert rows(result) == {"a.jpg": "Short", "c.jpg": "After"}
    assert result.rejected == [(3, f"line longer than {MAX_RECORD_BYTES // 1024} KB")]


def test_an_unclosed_quote_rejects_its_line_and_does_not_swallow_the_next(album):
    data = b'image,description\na.jpg,"Opened and never closed\nb.jpg,Kept\nc.jpg,"Quoted, fine"\n'
    result = read_caption_csv(write(album, data))
    assert rows(result) == {"b.jpg": "Kept", "c.jpg": "Quoted, fine"}
    assert result.rejected == [(2, "a quote opened on this line is never closed")]


def test_a_quoted_caption_may_span_lines(album):
    data = b'image,description\na.jpg,"Two\nlines"\nb.jpg,Next\n'
    result = read_caption_csv(write(album, data))
    assert rows(result) == {"a.jpg": "Two\nlines", "b.jpg": "Next"}
    assert result.rejected == []


def test_overlong_names_and_paths_are_rejected_lines_not_crashes(album):
    long_name = "n" * 300 + ".jpg"
    long_path = "/".join(["d" * 200] * 30) + "/x.jpg"
    data = f"image,description\n{long_name},Too long a name\n{long_path},Too long a path\na.jpg,Fine\n".encode()
    result = read_caption_csv(write(album, data))
    assert rows(result) == {"a.jpg": "Fine"}
    assert [line for line, _ in result.rejected + result.missing] and {2, 3} <= {
        line for line, _ in result.rejected + result.missing
    }


def test_a_header_followed_by_binary_bytes(album):
    data = b"image,description\n" + bytes(range(256)) * 64 + b"\na.jpg,Fine\n"
    result = read_caption_csv(write(album, data))
    assert rows(result) == {"a.jpg": "Fine"}
    assert result.rejected and all(line >= 2 for line, _ in result.rejected)


def test_rows_for_photos_outside_every_watched_folder_are_rejected(album, tmp_path):
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"jpeg")
    data = f"image,description\n{outside},Elsewhere\n/proc/self/environ,Secrets\na.jpg,Home\n".encode()
    result = read_caption_csv(write(album, data), inside=(str(album.resolve()),))
    assert rows(result) == {"a.jpg": "Home"}
    assert [r for _, r in result.rejected] == ["not inside a watched folder"] * 2


def test_streaming_reads_lazily(album):
    """The reader is a generator: the first rows arrive before the rest of the file is read."""
    lines = b"".join(f"a.jpg,Caption {i}\n".encode() for i in range(50_000))
    stream = iter_caption_csv(write(album, b"image,description\n" + lines))
    first = next(stream)
    assert first.kind == "row" and first.line == 2


# --- properties ---------------------------------------------------------------------

_CAPTION = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), min_size=1, max_size=60
).filter(lambda t: t.strip() == t and t)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    captions=st.lists(st.tuples(st.sampled_from(["a.jpg", "b.jpg", "c.jpg"]), _CAPTION), max_size=8),
    delimiter=st.sampled_from([",", "\t", ";"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_property_what_csv_writer_writes_comes_back_exactly(album, captions, delimiter, encoding):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["image", "description"])
    writer.writerows(captions)
    result = read_caption_csv(write(album, buffer.getvalue().encode(encoding)))
    assert [(Path(p).name, t) for p, t in result.rows] == captions
    assert result.rejected == [] and result.missing == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    good=st.lists(_CAPTION.filter(lambda t: '"' not in t and "," not in t and "\n" not in t), min_size=1, max_size=5),
    junk=st.binary(max_size=80),
    at=st.integers(min_value=0, max_value=5),
)
def test_property_a_junk_line_never_spoils_the_good_ones(album, good, junk, at):
    lines = [f"a.jpg,{t}".encode() for t in good]
    junk = junk.replace(b"\n", b" ").replace(b"\r", b" ").replace(b'"', b"'")
    lines.insert(min(at, len(lines)), b"b.jpg," + junk)
    result = read_caption_csv(write(album, b"image,description\n" + b"\n".join(lines) + b"\n"))
    kept = [t for p, t in result.rows if p.endswith("a.jpg")]
    assert kept == [t.strip() for t in good]
    assert all(line >= 2 for line, _ in result.rejected)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_property_any_bytes_parse_or_fail_in_one_line(album, data):
    try:
        result = read_caption_csv(write(album, b"image,description\n" + data))
    except PhotoSearchError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(os.path.isabs(p) and t for p, t in result.rows)
        lines = [line for line, _ in result.rejected + result.missing]
        assert len(lines) == len(set(lines)) and all(line >= 2 for line in lines)
