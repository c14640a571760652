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


# --- stray quotes (QA: rows between two lines with a mid-field quote vanished) -------------


def test_a_quote_inside_an_unquoted_field_is_a_literal_character(album):
    data = (
        b'image,description\na.jpg,a 5" floppy disk beside the cat\nb.jpg,espresso cup\n'
        b'c.jpg,a 6" telescope view\nd.jpg,wall clock\n'
    )
    result = read_caption_csv(write(album, data))
    assert rows(result) == {
        "a.jpg": 'a 5" floppy disk beside the cat',
        "b.jpg": "espresso cup",
        "c.jpg": 'a 6" telescope view',
        "d.jpg": "wall clock",
    }
    assert result.rejected == [] and result.missing == []


def test_a_malformed_quoted_record_spanning_lines_rejects_its_first_line_only(album):
    # Read as CSV, the quote opened on line 2 closes on line 3 but is followed by text, which CSV
    # forbids: line 3 on its own is a good row and must not go down with line 2.
    data = b'image,description\na.jpg,"opened\nb.jpg,a 5" floppy\nc.jpg,Kept\n'
    lines = list(iter_caption_csv(write(album, data)))
    assert [(r.line, r.kind) for r in lines] == [(2, "rejected"), (3, "row"), (4, "row")]
    assert lines[0].text == "a quote opened on this line is never closed"
    assert lines[1].text == 'a 5" floppy'


_TEXTISH = st.text(alphabet="ab \"',;\t\n\r", max_size=30)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    captions=st.lists(st.tuples(st.sampled_from(["a.jpg", "b.jpg", "c.jpg"]), _TEXTISH), max_size=8),
    raw=st.lists(st.booleans(), min_size=8, max_size=8),
    delimiter=st.sampled_from([",", "\t", ";"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_property_well_formed_csv_reads_as_pythons_csv_module_reads_it(album, captions, raw, delimiter, newline):
    """Well-formed input, quoted by csv.writer or written bare as people type it (a bare field may hold
    a quote anywhere but at its start), gives the rows Python's csv module reads, none lost."""
    lines = [f"image{delimiter}description"]
    for (image, caption), bare in zip(captions, raw, strict=False):
        if bare and not caption.startswith('"') and not set(caption) & {delimiter, "\n", "\r"}:
            lines.append(f"{image}{delimiter}{caption}")
        else:
            buffer = io.StringIO(newline="")
            csv.writer(buffer, delimiter=delimiter).writerow([image, caption])  # quotes \r and \n too
            lines.append(buffer.getvalue().removesuffix("\r\n"))
    text = newline.join(lines) + newline
    expected = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))[1:]
    result = read_caption_csv(write(album, text.encode()))
    kept = [(image, caption.strip()) for image, caption in expected if caption.strip() and image.strip()]
    assert [(Path(p).name, t) for p, t in result.rows] == kept
    assert result.missing == [] and len(result.rejected) == len(expected) - len(kept)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(st.sampled_from(["a.jpg", "gone.jpg", '"a.jpg"', ""]), _TEXTISH), max_size=10))
def test_property_every_line_is_imported_missing_or_rejected_with_its_number(album, lines):
    """Each record (Row) starts on its own line number; the physical lines up to the next record are
    the ones it consumed and, read by Python's csv module, make exactly that one record. So no line
    goes missing without a trace, whatever quotes it holds."""
    physical = [f"{image},{text}".replace("\r", "").replace("\n", "") for image, text in lines]
    data = "\n".join(["image,description", *physical]) + "\n"
    found = list(iter_caption_csv(write(album, data.encode())))
    starts = [r.line for r in found]
    assert starts == sorted(set(starts))
    bounds = [*starts, len(physical) + 2]
    for row, end in zip(found, bounds[1:], strict=True):
        consumed = physical[row.line - 2 : end - 2]
        assert all(not line.strip() for line in physical[: starts[0] - 2] if starts)
        if row.kind == "rejected" and "quot" in row.text:
            assert len([line for line in consumed if line.strip()]) == 1
            continue
        records = list(csv.reader(io.StringIO("\n".join(consumed) + "\n", newline=""), strict=True))
        records = [r for r in records if r]
        assert len(records) == 1
        if row.kind == "row":
            assert records[0][1].strip() == row.text and Path(row.path).name == records[0][0].strip()
    if not found:
        assert all(not line.strip() for line in physical)


# --- line endings (QA: a classic Mac / Excel "CSV (Macintosh)" file was refused) -----------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("newline", ["\r", "\n", "\r\n"])
def test_cr_lf_and_crlf_line_ends_read_alike(album, newline, encoding):
    text = newline.join(["image,description", "a.jpg,Sunset", "", "gone.jpg,Lost", 'b.jpg,"Two\rlines"', "c.jpg,"])
    result = read_caption_csv(write(album, (text + newline).encode(encoding)))
    assert rows(result) == {"a.jpg": "Sunset", "b.jpg": "Two\rlines"}
    assert result.missing == [(4, "gone.jpg")]
    assert result.rejected == [(7, "empty caption")]  # a lone CR ends a line wherever it is, as in UTF-16


def test_mixed_line_ends_in_one_file(album):
    data = b"image,description\ra.jpg,One\r\nb.jpg,Two\nc.jpg,Three\r\rd.jpg,Four"
    lines = list(iter_caption_csv(write(album, data)))
    assert [(r.line, Path(r.path).name, r.text) for r in lines] == [
        (2, "a.jpg", "One"),
        (3, "b.jpg", "Two"),
        (4, "c.jpg", "Three"),
        (6, "d.jpg", "Four"),
    ]


def test_utf16_keeps_a_replacement_character_and_rejects_only_broken_lines(album):
    """U+FFFD is a character like any other; only a line that does not decode (a lone surrogate) goes."""
    head = "\ufeffimage,description\na.jpg,odd \ufffd sign\n".encode("utf-16-le")
    broken = "b.jpg,half ".encode("utf-16-le") + b"\x00\xd8" + "pair\n".encode("utf-16-le")
    result = read_caption_csv(write(album, head + broken + "c.jpg,After\n".encode("utf-16-le")))
    assert rows(result) == {"a.jpg": "odd \ufffd sign", "c.jpg": "After"}
    assert result.rejected == [(3, "not valid UTF-8 (or UTF-16 with a byte order mark)")]
