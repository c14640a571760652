from __future__ import annotations

import io
import struct
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from photosearch.core.metadata import (
    MAX_CAPTION_CHARS,
    parse_xmp_captions,
    read_date_taken,
    read_embedded_captions,
)

EXIF_IFD = 0x8769


def reopen(img: Image.Image, fmt: str, **params: object) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    out = Image.open(io.BytesIO(buf.getvalue()))
    out.load()
    return out


def exif_jpeg(ifd0: dict[int, object] | None = None, exif_ifd: dict[int, object] | None = None) -> Image.Image:
    exif = Image.Exif()
    for tag, value in (ifd0 or {}).items():
        exif[tag] = value
    sub = exif.get_ifd(EXIF_IFD)
    for tag, value in (exif_ifd or {}).items():
        sub[tag] = value
    return reopen(Image.new("RGB", (8, 8)), "JPEG", exif=exif.tobytes())


def xmp_packet(description: str = "", title: str = "", extra: str = "") -> bytes:
    def alt(tag: str, text: str) -> str:
        return f'<dc:{tag}><rdf:Alt><rdf:li xml:lang="x-default">{text}</rdf:li></rdf:Alt></dc:{tag}>' if text else ""

    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"{alt('description', description)}{alt('title', title)}{extra}</rdf:Description>"
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def iptc_jpeg(records: dict[tuple[int, int], bytes]) -> Image.Image:
    """A JPEG with an APP13 Photoshop block holding IPTC-NAA records."""
    iptc = b"".join(b"\x1c" + bytes(key) + struct.pack(">H", len(v)) + v for key, v in records.items())
    iptc += b"\x00" * (len(iptc) % 2)
    block = (
        b"Photoshop 3.0\x00" + b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    )
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG")
    data = buf.getvalue()
    return Image.open(io.BytesIO(data[:2] + b"\xff\xed" + struct.pack(">H", len(block) + 2) + block + data[2:]))


def test_exif_description_and_xp_tags() -> None:
    img = exif_jpeg(
        {
            0x010E: "A red kite over the ridge",
            0x9C9C: "Kite comment".encode("utf-16-le"),
            0x9C9B: "Kite title".encode("utf-16-le"),
        }
    )
    assert read_embedded_captions(img) == [
        ("exif", "A red kite over the ridge"),
        ("exif", "Kite comment"),
        ("exif", "Kite title"),
    ]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"ASCII\x00\x00\x00Boats in the harbour", "Boats in the harbour"),
        (b"UNICODE\x00" + "Schöne Brücke".encode("utf-16-le"), "Schöne Brücke"),
        (b"UNICODE\x00" + "Schöne Brücke".encode("utf-16-be"), "Schöne Brücke"),
        (b"UNICODE\x00" + "Schöne Brücke".encode("utf-16"), "Schöne Brücke"),
        (b"JIS\x00\x00\x00\x00\x00" + "富士山".encode("iso2022_jp"), "富士山"),
        (b"\x00" * 8 + b"Undefined charset", "Undefined charset"),
        (b"ASCII\x00\x00\x00" + b"\x00" * 40, None),  # blank comment padded with NULs
    ],
)
def test_user_comment_charsets(raw: bytes, text: str | None) -> None:
    captions = read_embedded_captions(exif_jpeg(exif_ifd={0x9286: raw}))
    assert captions == ([("exif", text)] if text else [])


def test_xmp_in_jpeg_prefers_x_default() -> None:
    extra = "<dc:subject><rdf:Bag><rdf:li>ignored keyword</rdf:li></rdf:Bag></dc:subject>"
    packet = xmp_packet("Fox in the snow", "Winter", extra).replace(
        b'<rdf:li xml:lang="x-default">Fox',
        b'<rdf:li xml:lang="de">Fuchs im Schnee</rdf:li><rdf:li xml:lang="x-default">Fox',
    )
    img = reopen(Image.new("RGB", (8, 8)), "JPEG", xmp=packet)
    assert read_embedded_captions(img) == [("xmp", "Fox in the snow"), ("xmp", "Fuchs im Schnee"), ("xmp", "Winter")]


def test_xmp_with_doctype_or_entities_is_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">&lol2;</dc:title></x:xmpmeta>'
    )
    assert parse_xmp_captions(laughs) == []
    assert parse_xmp_captions(xmp_packet("kept")) == ["kept"]


def test_png_text_and_xmp_chunks() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "Lighthouse")
    info.add_itxt("Description", "Lighthouse at night, long exposure")
    info.add_text("Software", "not a caption")
    info.add_itxt("XML:com.adobe.xmp", xmp_packet(title="Lighthouse").decode())
    img = reopen(Image.new("RGB", (8, 8)), "PNG", pnginfo=info)
    assert read_embedded_captions(img) == [("xmp", "Lighthouse"), ("png", "Lighthouse at night, long exposure")]


def test_iptc_caption_and_headline() -> None:
    img = iptc_jpeg({(2, 120): "Brücke über die Elbe".encode(), (2, 105): b"Dresden"})
    assert read_embedded_captions(img) == [("iptc", "Brücke über die Elbe"), ("iptc", "Dresden")]


def test_jpeg_and_gif_comments() -> None:
    assert read_embedded_captions(reopen(Image.new("RGB", (8, 8)), "JPEG", comment=b"Grandma's garden")) == [
        ("comment", "Grandma's garden")
    ]
    gif = reopen(Image.new("P", (8, 8)), "GIF", comment=b"Caf\xe9 sign")  # Latin-1 bytes
    assert read_embedded_captions(gif) == [("comment", "Café sign")]


@pytest.mark.parametrize(
    "placeholder",
    [
        "OLYMPUS DIGITAL CAMERA",
        "  sony dsc ",
        "<KENOX S630  / Samsung S630>",
        "DCIM",
        "Default",
        "...  --",
        "\x00\x00",
        "Created with GIMP",
    ],
)
def test_camera_placeholders_are_dropped(placeholder: str) -> None:
    img = exif_jpeg({0x010E: placeholder})
    assert read_embedded_captions(img) == []


def test_caption_equal_to_camera_model_is_dropped() -> None:
    img = exif_jpeg(
        {0x010F: "Canon", 0x0110: "Canon EOS 5D", 0x010E: "canon eos 5d ", 0x9C9B: "Canon".encode("utf-16-le")}
    )
    assert read_embedded_captions(img) == []


def test_normalisation_dedup_and_cap() -> None:
    long_text = "word " * 1000
    img = exif_jpeg({0x010E: "  Two\n\n  dogs\x00 playing  ", 0x9C9C: "Two dogs playing".encode("utf-16-le")})
    assert read_embedded_captions(img) == [("exif", "Two dogs playing")]
    capped = read_embedded_captions(exif_jpeg({0x010E: long_text}))
    assert len(capped[0][1]) <= MAX_CAPTION_CHARS and capped[0][1].startswith("word word")
    img = reopen(Image.new("RGB", (8, 8)), "JPEG", comment=b"Same text", xmp=xmp_packet("Same text"))
    assert read_embedded_captions(img) == [("xmp", "Same text")]


def test_date_taken_prefers_original() -> None:
    img = exif_jpeg({0x0132: "2020:01:01 00:00:00"}, {0x9003: "2021:06:15 12:30:45"})
    assert read_date_taken(img) == datetime(2021, 6, 15, 12, 30, 45, tzinfo=UTC).timestamp()
    assert (
        read_date_taken(exif_jpeg({0x0132: "2020:01:02 03:04:05"}))
        == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    )


@pytest.mark.parametrize(
    "garbage", ["0000:00:00 00:00:00", "    :  :     :  :  ", "2021:13:45 99:00:00", "yesterday", ""]
)
def test_garbage_dates_are_none(garbage: str) -> None:
    assert read_date_taken(exif_jpeg({0x0132: garbage}, {0x9003: garbage})) is None


def test_no_metadata_at_all() -> None:
    img = Image.new("RGB", (4, 4))
    assert read_embedded_captions(img) == [] and read_date_taken(img) is None


def test_broken_exif_does_not_raise() -> None:
    img = Image.new("RGB", (4, 4))
    img.info["exif"] = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\x01" * 30
    assert read_embedded_captions(img) == [] and read_date_taken(img) is None


def _assert_clean(captions: list[tuple[str, str]]) -> None:
    for source, text in captions:
        assert source in {"exif", "xmp", "iptc", "png", "comment"}
        assert text == text.strip() and 0 < len(text) <= MAX_CAPTION_CHARS and "\x00" not in text


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_xmp_never_raises(data: bytes) -> None:
    img = Image.new("RGB", (4, 4))
    img.info["xmp"] = data
    _assert_clean(read_embedded_captions(img))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_xmp_text_inside_valid_packet(text: str) -> None:
    img = Image.new("RGB", (4, 4))
    img.info["xmp"] = xmp_packet(text).decode("utf-8", errors="replace")
    _assert_clean(read_embedded_captions(img))


@settings(max_examples=150, deadline=None)
@given(
    user_comment=st.binary(max_size=120),
    xp=st.binary(max_size=60),
    description=st.binary(max_size=60),
    date=st.binary(max_size=30),
)
def test_fuzz_exif_values_never_raise(user_comment: bytes, xp: bytes, description: bytes, date: bytes) -> None:
    exif = Image.Exif()
    exif[0x9C9C] = xp
    exif[0x010E] = description
    exif[0x0132] = date
    exif.get_ifd(EXIF_IFD)[0x9286] = user_comment
    img = Image.new("RGB", (4, 4))
    img.info["exif"] = exif.tobytes()
    _assert_clean(read_embedded_captions(img))
    taken = read_date_taken(img)
    assert taken is None or isinstance(taken, float)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_raw_exif_block_never_raises(data: bytes) -> None:
    img = Image.new("RGB", (4, 4))
    img.info["exif"] = b"Exif\x00\x00" + data
    _assert_clean(read_embedded_captions(img))
    taken = read_date_taken(img)
    assert taken is None or isinstance(taken, float)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_iptc_never_raises(data: bytes) -> None:
    img = iptc_jpeg({(2, 120): b"seed"})
    img.info["photoshop"] = {0x0404: data}
    _assert_clean(read_embedded_captions(img))
