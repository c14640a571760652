"""Keywords stored inside photos (IPTC 2:25 Keywords, XMP dc:subject), kept as one caption row.

All of a photo's keywords go into one row of the captions table with source 'keyword' (joined by
", "), so they reach full-text search like any caption without a vector per keyword.
"""

from __future__ import annotations

from typing import Any

from PIL import Image, IptcImagePlugin

from photosearch.core.metadata import clean_caption, parse_xmp, to_text

KEYWORD_SOURCE = "keyword"
MAX_KEYWORDS = 200
_IPTC_KEYWORDS = (2, 25)
_NS_DC = "{http://purl.org/dc/elements/1.1/}"
_NS_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"


def read_keywords(img: Image.Image) -> list[str]:
    """Distinct keywords in file order (IPTC first, then XMP); [] when none or unreadable."""
    found: list[str] = []
    seen: set[str] = set()
    for reader in (_iptc_keywords, _xmp_keywords):
        try:
            values = list(reader(img))
        except Exception:  # hostile metadata can make PIL or the XML parser raise anything
            values = []
        for value in values:
            clean = clean_caption(value)
            if clean is None or clean.casefold() in seen:
                continue
            seen.add(clean.casefold())
            found.append(clean)
    return found[:MAX_KEYWORDS]


def keyword_captions(img: Image.Image) -> list[tuple[str, str]]:
    """The (source, text) caption row holding a photo's keywords, or nothing."""
    words = read_keywords(img)
    return [(KEYWORD_SOURCE, ", ".join(words))] if words else []


def _iptc_keywords(img: Image.Image) -> list[Any]:
    info = IptcImagePlugin.getiptcinfo(img)  # type: ignore[arg-type]
    if not info:
        return []
    value = info.get(_IPTC_KEYWORDS)
    return value if isinstance(value, list) else [value]


def _xmp_keywords(img: Image.Image) -> list[str]:
    packet = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
    return parse_xmp_keywords(packet) if packet else []


def parse_xmp_keywords(packet: Any) -> list[str]:
    """dc:subject items of an XMP packet; [] for anything unparsable (DTDs are refused outright)."""
    root = parse_xmp(packet)
    if root is None:
        return []
    words: list[str] = []
    for subject in root.iter(_NS_DC + "subject"):
        words.extend(li.text for li in subject.iter(_NS_RDF + "li") if li.text)
    return [w for w in (to_text(w) for w in words) if w]


BACKFILL_FLAG = "keywords_backfill"


def backfill_keywords(store: Any) -> int:
    """Read keywords of photos indexed before keywords were stored (once per library, on `index`).

    Only headers are read (PIL parses IPTC/XMP markers on open, no pixels are decoded). A photo
    that cannot be opened now is simply left without keywords; the flag clears either way.
    """
    if store.get_meta(BACKFILL_FLAG) != "pending":
        return 0
    rows = store.query(
        "SELECT path FROM photos p WHERE state = 'indexed' AND offline = 0 AND NOT EXISTS "
        "(SELECT 1 FROM captions c WHERE c.path = p.path AND c.source = ?)",
        (KEYWORD_SOURCE,),
    )
    found: list[tuple[str, str, str]] = []
    for (path,) in rows:
        try:
            with Image.open(path) as img:
                found.extend((path, source, text) for source, text in keyword_captions(img))
        except Exception:  # unreadable or gone: the next real change re-indexes it anyway
            continue
    with store.write() as conn:
        conn.executemany("INSERT OR IGNORE INTO captions(path, source, text) VALUES (?, ?, ?)", found)
        conn.execute("DELETE FROM meta WHERE key = ?", (BACKFILL_FLAG,))
    return len(found)
