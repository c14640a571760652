"""Keywords inside photos: IPTC 2:25 and XMP dc:subject, into one 'keyword' caption row."""

from __future__ import annotations

import io

from PIL import Image

from photosearch.core.keywords import keyword_captions, parse_xmp_keywords, read_keywords
from tests.core.photo_meta import iptc_block

XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag>'
    "<rdf:li>Harbour</rdf:li><rdf:li>boats</rdf:li><rdf:li>harbour</rdf:li>"
    "</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"
)


def _jpeg(iptc: list[str] | None = None, xmp: str | None = None) -> Image.Image:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", xmp=xmp.encode() if xmp else b"")
    data = buf.getvalue()
    if iptc:
        data = data[:2] + iptc_block(iptc) + data[2:]
    return Image.open(io.BytesIO(data))


def test_iptc_and_xmp_keywords_are_read_once_each_in_order():
    img = _jpeg(["Lighthouse", "storm clouds", "lighthouse"], XMP)
    assert read_keywords(img) == ["Lighthouse", "storm clouds", "Harbour", "boats"]
    assert keyword_captions(img) == [("keyword", "Lighthouse, storm clouds, Harbour, boats")]


def test_no_keywords_no_row_and_hostile_xmp_is_refused():
    assert keyword_captions(_jpeg()) == []
    assert parse_xmp_keywords(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>') == []
    assert parse_xmp_keywords(b"<not closed") == []
    assert parse_xmp_keywords(12) == []
