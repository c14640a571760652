from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from photosearch.core import caption_files
from photosearch.core.caption_files import CsvCaptions, read_caption_csv, read_sidecar, sidecar_paths
from photosearch.core.errors import PhotoSearchError
from tests.conftest import unreadable_error


@pytest.fixture
def album(tmp_path: Path) -> Path:
    folder = tmp_path / "album"
    (folder / "sub").mkdir(parents=True)
    for name in ("a.jpg", "b.jpg", "sub/c.jpg", "with, comma.jpg"):
        (folder / name).write_bytes(b"jpeg")
    return folder


def write_csv(folder: Path, text: str, name: str = "captions.csv", encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def test_seed_format_relative_paths_and_repeats(album: Path) -> None:
    csv_path = write_csv(
        album, "image,description\na.jpg,A dog on a beach\nsub/c.jpg,Mountain lake\na.jpg,Second caption\n"
    )
    result = read_caption_csv(csv_path)
    a, c = str((album / "a.jpg").resolve()), str((album / "sub/c.jpg").resolve())
    assert result == CsvCaptions(
        rows=[(a, "A dog on a beach"), (c, "Mountain lake"), (a, "Second caption")], missing=[], rejected=[]
    )


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffImage,Caption\na.jpg,Sunset\n",
        "PATH;TEXT\na.jpg;Sunset\n",
        "file\tdescription\na.jpg\tSunset\n",
        "id,filename,caption,source\n1,a.jpg,Sunset,manual\n",
        "\n\n image , description \r\na.jpg,Sunset\r\n",
    ],
)
def test_header_aliases_and_delimiters(album: Path, text: str) -> None:
    result = read_caption_csv(write_csv(album, text))
    assert result.rows == [(str((album / "a.jpg").resolve()), "Sunset")]


def test_quoted_fields_and_line_numbers(album: Path) -> None:
    text = (
        "image,description\n"
        '"with, comma.jpg","Two lines,\nwith a comma"\n'  # lines 2-3
        "missing.jpg,Not there\n"  # line 4
        "\n"
        "b.jpg,\n"  # line 6
    )
    result = read_caption_csv(write_csv(album, text))
    assert result.rows == [(str((album / "with, comma.jpg").resolve()), "Two lines,\nwith a comma")]
    assert result.missing == [(4, "missing.jpg")]
    assert result.rejected == [(6, "empty caption")]


def test_rejected_rows(album: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.jpg").write_bytes(b"jpeg")
    (album / "link.jpg").symlink_to(tmp_path / "outside.jpg")
    text = (
        "image,description\n,No path\n../outside.jpg,Escapes\nlink.jpg,Escapes by symlink\n"
        "a.jpg,Has \x00 NUL\nsub/../a.jpg,Fine\n"
    )
    result = read_caption_csv(write_csv(album, text))
    assert result.rejected == [
        (2, "empty path"),
        (3, "path leads outside the CSV's folder"),
        (4, "path leads outside the CSV's folder"),
        (5, "contains NUL bytes"),
    ]
    assert result.rows == [(str((album / "a.jpg").resolve()), "Fine")]


def test_absolute_paths_may_be_anywhere(album: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.jpg"
    elsewhere.write_bytes(b"jpeg")
    result = read_caption_csv(write_csv(album, f"image,description\n{elsewhere},Far away\n{tmp_path}/gone.jpg,Gone\n"))
    assert result.rows == [(str(elsewhere.resolve()), "Far away")]
    assert result.missing == [(3, f"{tmp_path}/gone.jpg")]


def test_windows_separators(album: Path) -> None:
    result = read_caption_csv(write_csv(album, "image,description\nsub\\c.jpg,Lake\n"))
    assert result.rows == [(str((album / "sub/c.jpg").resolve()), "Lake")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-8-sig"])
def test_encodings(album: Path, encoding: str) -> None:
    result = read_caption_csv(write_csv(album, "image,description\na.jpg,Café in Zürich\n", encoding=encoding))
    assert result.rows == [(str((album / "a.jpg").resolve()), "Café in Zürich")]


def test_file_errors(album: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PhotoSearchError, match="not found"):
        read_caption_csv(album / "nope.csv")
    with pytest.raises(PhotoSearchError, match="not a file"):
        read_caption_csv(album)
    with pytest.raises(PhotoSearchError, match="needs a header row with columns image and description"):
        read_caption_csv(write_csv(album, "a.jpg,A dog\nb.jpg,A cat\n"))
    with pytest.raises(PhotoSearchError, match="needs a header row"):
        read_caption_csv(write_csv(album, ""))
    (album / "binary.csv").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(PhotoSearchError, match="needs a header row"):
        read_caption_csv(album / "binary.csv")


def test_unreadable_csv(album: Path) -> None:
    path = write_csv(album, "image,description\n")
    snippet = (
        "from photosearch.core.caption_files import read_caption_csv\n"
        "try:\n    read_caption_csv(target)\nexcept Exception as exc:\n    print(type(exc).__name__, exc)"
    )
    assert unreadable_error(path, snippet).startswith("PhotoSearchError")
    assert "not readable" in unreadable_error(path, snippet)


def test_error_messages_are_one_line(album: Path) -> None:
    with pytest.raises(PhotoSearchError) as info:
        read_caption_csv(write_csv(album, "no header here\n"))
    assert "\n" not in str(info.value)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.text(max_size=300),
        st.builds(
            lambda sep, rest: f"image{sep}description\n{rest}", st.sampled_from([",", ";", "\t"]), st.text(max_size=300)
        ),
    )
)
def test_fuzz_csv_parses_or_raises_photosearch_error(album: Path, body: str) -> None:
    path = album / "fuzz.csv"
    path.write_text(body, encoding="utf-8", errors="surrogatepass")
    try:
        result = read_caption_csv(path)
    except PhotoSearchError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        for photo, caption in result.rows:
            assert Path(photo).is_absolute() and caption.strip()
        assert all(line >= 2 for line, _ in result.missing + result.rejected)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_fuzz_csv_bytes(album: Path, data: bytes) -> None:
    path = album / "fuzz.csv"
    path.write_bytes(b"image,caption\n" + data)
    try:
        read_caption_csv(path)
    except PhotoSearchError as exc:
        assert str(exc)


def test_sidecar_candidates(tmp_path: Path) -> None:
    photo = tmp_path / "IMG_1.jpg"
    assert sidecar_paths(photo) == [tmp_path / "IMG_1.txt", tmp_path / "IMG_1.jpg.txt"]
    assert sidecar_paths(tmp_path / "noext") == [tmp_path / "noext.txt"]


def test_read_sidecar(tmp_path: Path) -> None:
    photo = tmp_path / "IMG_1.jpg"
    assert read_sidecar(photo) is None
    (tmp_path / "IMG_1.jpg.txt").write_text("  From the name.txt  \n")
    assert read_sidecar(photo) == "From the name.txt"
    (tmp_path / "IMG_1.txt").write_text("From the stem\n")
    assert read_sidecar(photo) == "From the stem"  # stem first
    (tmp_path / "IMG_1.txt").write_text("   \n")
    assert read_sidecar(photo) == "From the name.txt"  # empty stem file falls through


def test_sidecar_encodings_and_cap(tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    (tmp_path / "p.txt").write_bytes("Café".encode("latin-1"))
    assert read_sidecar(photo) == "Café"
    (tmp_path / "p.txt").write_bytes("\ufeffNaïve".encode())
    assert read_sidecar(photo) == "Naïve"
    big = "é" * 40_000  # 80 KB of UTF-8; the 64 KB cut lands mid-character on odd byte counts
    (tmp_path / "p.txt").write_bytes(b"x" + big.encode())
    text = read_sidecar(photo)
    assert text is not None and text.startswith("xé") and set(text[1:]) == {"é"}
    assert len(text.encode()) <= caption_files.MAX_SIDECAR_BYTES


def test_sidecar_that_is_a_folder_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "p.txt").mkdir()
    assert read_sidecar(tmp_path / "p.jpg") is None
