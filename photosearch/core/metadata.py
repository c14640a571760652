"""Captions and dates stored inside photos (EXIF, XMP, IPTC, PNG text, comments).

Everything here reads from an already-open PIL image and must survive hostile
metadata: each source is parsed on its own and any failure just drops that source.
"""

from __future__ import annotations

import datetime as _dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from typing import Any

from PIL import Image, IptcImagePlugin

MAX_CAPTION_CHARS = 2000

# EXIF tags (IFD0 unless noted)
_IMAGE_DESCRIPTION = 0x010E
_MAKE = 0x010F
_MODEL = 0x0110
_DATETIME = 0x0132
_ORIENTATION = 0x0112
_XP_TITLE = 0x9C9B
_XP_COMMENT = 0x9C9C
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003  # Exif IFD
_USER_COMMENT = 0x9286  # Exif IFD

_IPTC_HEADLINE = (2, 105)
_IPTC_CAPTION = (2, 120)

_PNG_TEXT_KEYS = ("description", "title", "comment")

_NS_DC = "{http://purl.org/dc/elements/1.1/}"
_NS_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Text that cameras, phones and editors write by default; it says nothing about the photo.
_BOILERPLATE = frozenset(
    {
        "olympus digital camera",
        "sony dsc",
        "dcim",
        "default",
        "samsung",
        "<kenox s630 / samsung s630>",
        "picasa",
        "description",
        "untitled",
        "image",
        "photo",
        "digital camera",
        "minolta digital camera",
        "konica minolta digital camera",
        "exif_jpeg_picture",
        "created with gimp",
        "applemark",
        "lead technologies inc. v1.01",
        "optimized by jpegmini",
        "screenshot",
    }
)
# Encoder banners written into JPEG COM markers.
_BOILERPLATE_PREFIXES = ("creator: gd-jpeg", "intel(r) jpeg library", "file written by adobe photoshop")

_WS = re.compile(r"\s+")
_EXIF_DATE = re.compile(r"(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def read_embedded_captions(img: Image.Image) -> list[tuple[str, str]]:
    """(source, text) pairs for every meaningful caption stored in the image's metadata."""
    exif = _safe_exif(img)
    camera = _camera_names(exif)
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for source, reader in (
        ("exif", lambda: _exif_texts(exif)),
        ("xmp", lambda: _xmp_texts(img)),
        ("iptc", lambda: _iptc_texts(img)),
        ("png", lambda: _png_texts(img)),
        ("comment", lambda: [img.info.get("comment")]),
    ):
        for text in _guarded(reader):
            clean = clean_caption(text)
            if clean is None or clean.casefold() in camera or clean in seen:
                continue
            seen.add(clean)
            found.append((source, clean))
    return found


def read_date_taken(img: Image.Image) -> float | None:
    """EXIF DateTimeOriginal (else DateTime) as POSIX seconds, reading the naive time as UTC."""
    exif = _safe_exif(img)
    if exif is None:
        return None
    candidates = [_ifd_get(exif, _EXIF_IFD, _DATETIME_ORIGINAL), _get(exif, _DATETIME)]
    for value in candidates:
        stamp = parse_exif_datetime(value)
        if stamp is not None:
            return stamp
    return None


def read_orientation(img: Image.Image) -> int:
    """EXIF orientation 1..8; 1 when absent or unreadable."""
    exif = _safe_exif(img)
    value = _get(exif, _ORIENTATION) if exif is not None else None
    if isinstance(value, (tuple, list)) and value:
        value = value[0]
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def parse_exif_datetime(value: Any) -> float | None:
    """'YYYY:MM:DD HH:MM:SS' (tolerating NULs and other separators) -> POSIX seconds, else None."""
    text = to_text(value)
    if not text:
        return None
    match = _EXIF_DATE.search(text)
    if match is None:
        return None
    parts = [int(p) if p else 0 for p in match.groups()]
    try:
        when = _dt.datetime(*parts, tzinfo=_dt.UTC)  # type: ignore[misc]
    except (ValueError, OverflowError):
        return None
    if when.year < 1826:  # before photography: a placeholder such as 0001:01:01
        return None
    return when.timestamp()


def clean_caption(value: Any) -> str | None:
    """Normalised caption text, or None for empty, placeholder or unprintable values."""
    text = to_text(value)
    if text is None:
        return None
    text = _WS.sub(" ", text.replace("\x00", " ")).strip()
    if not text or not any(ch.isalnum() for ch in text):
        return None
    folded = text.casefold()
    if folded in _BOILERPLATE or folded.startswith(_BOILERPLATE_PREFIXES):
        return None
    return text[:MAX_CAPTION_CHARS].rstrip()


def to_text(value: Any) -> str | None:
    """Decode metadata values tolerantly: str as is, bytes as UTF-8 then Latin-1."""
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
        try:
            value = bytes(value)
        except ValueError:
            return None
    if isinstance(value, (bytes, bytearray)):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    return None


# --- sources -------------------------------------------------------------------------


def _guarded(reader: Any) -> list[Any]:
    # Each source is independent: garbage in one must not hide captions from another.
    try:
        return list(reader())
    except Exception:  # hostile metadata can make PIL raise anything
        return []


def _safe_exif(img: Image.Image) -> Image.Exif | None:
    try:
        exif = img.getexif()
        exif.get(_ORIENTATION)  # forces lazy parsing so errors surface here
        return exif
    except Exception:  # broken EXIF is ignored, never fatal
        return None


def _get(exif: Image.Exif, tag: int) -> Any:
    try:
        return exif.get(tag)
    except Exception:
        return None


def _ifd_get(exif: Image.Exif, ifd: int, tag: int) -> Any:
    try:
        return exif.get_ifd(ifd).get(tag)
    except Exception:
        return None


def _camera_names(exif: Image.Exif | None) -> set[str]:
    # A caption that merely repeats the camera make/model is boilerplate too.
    if exif is None:
        return set()
    make = (to_text(_get(exif, _MAKE)) or "").replace("\x00", "").strip()
    model = (to_text(_get(exif, _MODEL)) or "").replace("\x00", "").strip()
    names = {make, model, f"{make} {model}"}
    return {_WS.sub(" ", n).casefold() for n in names if n.strip()}


def _exif_texts(exif: Image.Exif | None) -> Iterator[Any]:
    if exif is None:
        return
    yield _get(exif, _IMAGE_DESCRIPTION)
    yield decode_user_comment(_ifd_get(exif, _EXIF_IFD, _USER_COMMENT))
    yield decode_xp(_get(exif, _XP_COMMENT))
    yield decode_xp(_get(exif, _XP_TITLE))


def decode_user_comment(value: Any) -> str | None:
    """EXIF UserComment: an 8-byte charset prefix, then the text."""
    if isinstance(value, str):
        return value
    if not isinstance(value, (bytes, bytearray)):
        return None
    data = bytes(value)
    prefix, body = data[:8], data[8:]
    if prefix.startswith(b"UNICODE"):
        return _decode_utf16(body)
    if prefix.startswith(b"JIS"):
        for codec in ("iso2022_jp", "shift_jis"):
            try:
                return body.decode(codec)
            except UnicodeDecodeError:
                continue
        return None
    if prefix.startswith(b"ASCII") or prefix == b"\x00" * 8:
        return to_text(body)
    return to_text(data)  # no recognised prefix: some writers omit it


def _decode_utf16(body: bytes) -> str:
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return body.decode("utf-16", errors="replace")
    # No BOM: ASCII-heavy text has its zero bytes on the high-order side, which tells the order.
    even_zeros = body[0::2].count(0)
    odd_zeros = body[1::2].count(0)
    codec = "utf-16-be" if even_zeros > odd_zeros else "utf-16-le"
    return body[: len(body) // 2 * 2].decode(codec, errors="replace")


def decode_xp(value: Any) -> str | None:
    """Windows XP* tags: UTF-16LE bytes (PIL may hand them over as a tuple of ints)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)):
        try:
            value = bytes(value)
        except (ValueError, TypeError):
            return None
    if not isinstance(value, (bytes, bytearray)):
        return None
    data = bytes(value)
    return data[: len(data) // 2 * 2].decode("utf-16-le", errors="replace")


def parse_xmp(packet: Any) -> ET.Element | None:
    """The root element of an XMP packet (str or bytes); None for anything unparsable."""
    if isinstance(packet, str):
        data = packet.encode("utf-8", errors="replace")
    elif isinstance(packet, (bytes, bytearray)):
        data = bytes(packet)
    else:
        return None
    lowered = data.lower()
    # Refuse DTDs outright: no entity expansion (billion laughs) or external entities.
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        return None
    start, end = data.find(b"<"), data.rfind(b">")
    if start < 0 or end < start:
        return None
    try:
        return ET.fromstring(data[start : end + 1])
    except (ET.ParseError, ValueError, RecursionError):
        return None


def _xmp_texts(img: Image.Image) -> list[str]:
    packet = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
    return parse_xmp_captions(packet) if packet else []


def parse_xmp_captions(packet: Any) -> list[str]:
    """dc:description and dc:title texts of an XMP packet; [] for anything unparsable."""
    root = parse_xmp(packet)
    if root is None:
        return []
    texts: list[str] = []
    for tag in ("description", "title"):
        for node in root.iter(_NS_DC + tag):
            texts.extend(_alt_texts(node))
        for node in root.iter(_NS_RDF + "Description"):
            attr = node.get(_NS_DC + tag)  # short form: dc:title="..." as an attribute
            if attr:
                texts.append(attr)
    return texts


def _alt_texts(node: ET.Element) -> list[str]:
    items = list(node.iter(_NS_RDF + "li"))
    if not items:
        return [node.text] if node.text else []
    items.sort(key=lambda li: li.get(_XML_LANG, "") != "x-default")  # x-default first
    return [li.text for li in items if li.text]


def _iptc_texts(img: Image.Image) -> list[Any]:
    info = IptcImagePlugin.getiptcinfo(img)  # type: ignore[arg-type]
    if not info:
        return []
    texts: list[Any] = []
    for key in (_IPTC_CAPTION, _IPTC_HEADLINE):
        value = info.get(key)
        texts.extend(value if isinstance(value, list) else [value])
    return texts


def _png_texts(img: Image.Image) -> list[Any]:
    if img.format != "PNG":
        return []
    text_chunks: dict[str, Any] = dict(getattr(img, "text", None) or img.info)
    return list(_by_key(text_chunks, _PNG_TEXT_KEYS))


def _by_key(mapping: dict[str, Any], keys: Iterable[str]) -> Iterator[Any]:
    lowered = {k.lower(): v for k, v in mapping.items() if isinstance(k, str)}
    for key in keys:
        if key in lowered:
            yield lowered[key]
