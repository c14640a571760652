"""Metadata that is too big or hostile costs only the metadata, never the photo; readers never crash."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from photosearch.core import metadata
from photosearch.core.images import decode
from photosearch.core.query import parse_query


def _png_with_xmp(path: Path, xmp: str) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp, zip=True)
    info.add_text("Description", "kept only when small")
    Image.new("RGB", (64, 48), (200, 10, 10)).save(path, pnginfo=info)
    return path


def test_a_png_with_over_1_mb_of_compressed_xmp_keeps_its_pixels(tmp_path):
    xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/">' + "A" * (2 * 1024 * 1024) + "</x:xmpmeta>"
    decoded = decode(_png_with_xmp(tmp_path / "big.png", xmp))
    assert (decoded.width, decoded.height) == (64, 48)
    assert decoded.image.getpixel((10, 10)) == (200, 10, 10)
    assert decoded.captions == []  # the text chunks were dropped, nothing else


def test_a_small_xmp_still_gives_its_caption(tmp_path):
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description><rdf:Alt>'
        '<rdf:li xml:lang="x-default">A red square</rdf:li></rdf:Alt></dc:description>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    decoded = decode(_png_with_xmp(tmp_path / "small.png", xmp))
    assert ("xmp", "A red square") in decoded.captions


@settings(max_examples=300, deadline=None)
@given(packet=st.one_of(st.binary(max_size=600), st.text(max_size=600)))
def test_property_xmp_parser_never_raises(packet):
    captions = metadata.parse_xmp_captions(packet)
    assert isinstance(captions, list) and all(isinstance(c, str) for c in captions)


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.binary(max_size=200), st.text(max_size=200), st.integers(), st.none()))
def test_property_exif_text_decoders_never_raise(value):
    for reader in (metadata.decode_user_comment, metadata.decode_xp, metadata.to_text, metadata.clean_caption):
        out = reader(value)
        assert out is None or isinstance(out, str)
    assert metadata.parse_exif_datetime(value) is None or isinstance(metadata.parse_exif_datetime(value), float)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=200))
def test_property_query_parser_never_raises_and_excluded_terms_start_with_a_dash(text):
    parsed = parse_query(text)
    assert isinstance(parsed.text, str)
    for term in parsed.excluded:
        assert term and isinstance(term, str)
        assert f"-{term.split()[0]}" in text or '-"' in text
    if not text.strip():
        assert parsed.empty
