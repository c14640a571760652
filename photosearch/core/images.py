"""Safe, fast image decoding for the indexer and for query images.

Every problem with a file surfaces as ImageError with a short human reason, so the
indexer can list it as skipped and carry on.
"""

from __future__ import annotations

import functools
import io
import os
import re
import stat
import struct
import tempfile
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from photosearch.core import metadata
from photosearch.core.keywords import keyword_captions

MAX_PIXELS = 150_000_000
# JPEGs decode at up to 1/8 scale via draft(), so their declared size may be larger.
MAX_JPEG_PIXELS = 4 * MAX_PIXELS

# PIL raises above 2 * MAX_IMAGE_PIXELS: line that up with our most generous limit so
# our own check (with a clearer message) decides, and silence its softer warning.
Image.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS // 2
warnings.simplefilter("ignore", Image.DecompressionBombWarning)
# Broken EXIF is ignored on purpose; PIL's per-file complaints would only flood the log.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.TiffImagePlugin")

_BASE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
try:
    import pillow_heif

    pillow_heif.register_heif_opener()
    _BASE_EXTENSIONS |= {".heic", ".heif"}
except ImportError:  # HEIC support is optional
    pass

IMAGE_EXTENSIONS: frozenset[str] = frozenset(_BASE_EXTENSIONS)

QUERY_MIN_SIDE = 256
_WHITE = (255, 255, 255)
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_HIGH_DEPTH_MODES = {"I", "F", "I;16", "I;16L", "I;16B", "I;16N", "I;16S", "I;32", "I;32B", "I;32S"}
_ICC_MODES = {"RGB", "CMYK", "L"}

# Exception types PIL and its plugins raise for malformed files.
MAX_PNG_BYTES = 512 * 1024 * 1024  # read whole only to drop oversized text chunks
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    KeyError,
    IndexError,
    TypeError,
    ZeroDivisionError,
    RuntimeError,
    MemoryError,
    Image.DecompressionBombError,
)

# EXIF orientation -> transpose that makes the pixels upright (same table as ImageOps).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageError(Exception):
    """A file that cannot be used as a photo; str() is a short one-line reason."""


@dataclass
class DecodedImage:
    image: Image.Image  # RGB, upright, shorter side >= min_side unless the original is smaller
    width: int  # full original size, after orientation
    height: int
    taken: float | None = None
    captions: list[tuple[str, str]] = field(default_factory=list)


def decode(path: str | os.PathLike[str], min_side: int = 256) -> DecodedImage:
    """Decode a photo for indexing; raises ImageError for any problem with the file."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ImageError(_os_reason(exc)) from exc
    if not stat.S_ISREG(st.st_mode):
        raise ImageError("not a regular file")  # a FIFO would block open()
    if st.st_size == 0:
        raise ImageError("empty file")
    try:
        with open(path, "rb") as fh:
            return _decode_stream(fh, min_side)
    except OSError as exc:  # open() itself; decoding errors are already ImageError
        raise ImageError(_os_reason(exc)) from exc


def open_query_image(source: str | os.PathLike[str] | bytes) -> Image.Image:
    """An image used as a search query (path or raw bytes, e.g. from the clipboard)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise ImageError("empty file")
        return _decode_stream(io.BytesIO(data), QUERY_MIN_SIDE).image
    return decode(source, QUERY_MIN_SIDE).image


def make_thumbnail(img: Image.Image, size: int = 256) -> Image.Image:
    """A copy whose longer side is at most `size` (never upscaled)."""
    thumb = img.copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return thumb


def save_thumbnail(img: Image.Image, dest: Path) -> None:
    """Write a JPEG thumbnail atomically so readers never see a half-written file."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    rgb = img if img.mode == "RGB" else _to_rgb(img)
    fd, tmp = tempfile.mkstemp(prefix=".thumb-", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            rgb.save(fh, "JPEG", quality=85)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- pipeline ------------------------------------------------------------------------


def _decode_stream(fh: IO[bytes], min_side: int) -> DecodedImage:
    try:
        with Image.open(fh) as im:
            return _decode_open(im, min_side)
    except ImageError:
        raise
    except ValueError as exc:
        if "MAX_TEXT_CHUNK" not in str(exc):
            raise ImageError(_decode_reason(exc)) from exc
        # A PNG text chunk (often compressed XMP) over PIL's limit: the pixels are fine, drop the text.
        stripped = _png_without_text(fh)
        if stripped is None:
            raise ImageError(_decode_reason(exc)) from exc
        return _decode_stream(stripped, min_side)
    except _DECODE_ERRORS as exc:
        raise ImageError(_decode_reason(exc)) from exc


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


def _png_without_text(fh: IO[bytes]) -> IO[bytes] | None:
    """The same PNG with its text chunks left out (None when it is not a well-formed PNG)."""
    fh.seek(0)
    data = fh.read(MAX_PNG_BYTES + 1)
    if len(data) > MAX_PNG_BYTES or not data.startswith(_PNG_SIGNATURE):
        return None
    out, pos = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        end = pos + 12 + length
        if end > len(data):
            return None
        if data[pos + 4 : pos + 8] not in _PNG_TEXT_CHUNKS:
            out.append(data[pos:end])
        pos = end
    return io.BytesIO(b"".join(out))


def _decode_open(im: Image.Image, min_side: int) -> DecodedImage:
    width, height = im.size
    _check_declared_size(im)
    if im.format == "JPEG":
        _jpeg_draft(im, min_side)
        if im.width * im.height > MAX_PIXELS:  # draft could not shrink it enough
            raise ImageError(_too_large(width, height, MAX_PIXELS))
    im.load()  # raises on truncated data (LOAD_TRUNCATED_IMAGES stays off)
    # Metadata after load(): PNG text chunks may follow the pixel data.
    orientation = metadata.read_orientation(im)
    taken = metadata.read_date_taken(im)
    captions = metadata.read_embedded_captions(im) + keyword_captions(im)
    # Shrink before colour management and rotation so both work on the small image.
    small = _shrink(_flatten(im), min_side)
    image = _orient(_to_rgb(small, im.info.get("icc_profile")), orientation)
    if orientation >= 5:
        width, height = height, width
    return DecodedImage(image=image, width=width, height=height, taken=taken, captions=captions)


def _check_declared_size(im: Image.Image) -> None:
    w, h = im.size
    if w <= 0 or h <= 0:
        raise ImageError("corrupt image data (zero size)")
    limit = MAX_JPEG_PIXELS if im.format == "JPEG" else MAX_PIXELS
    if w * h > limit:
        raise ImageError(_too_large(w, h, limit))


def _jpeg_draft(im: Image.Image, min_side: int) -> None:
    # draft() picks the largest DCT scale (1/2/4/8) with both sides >= the requested
    # size, so asking for a square of min_side keeps the shorter side >= min_side.
    side = max(1, min_side)
    if min(im.size) >= 2 * side:
        im.draft("RGB", (side, side))


def _flatten(im: Image.Image) -> Image.Image:
    """Reduce every mode to L, RGB or CMYK; transparency is composited over white."""
    if im.mode in _HIGH_DEPTH_MODES:
        return _to_8bit(im)
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        rgba = im.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, _WHITE)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if im.mode in ("L", "RGB", "CMYK"):
        return im
    return im.convert("RGB")  # 1, P, YCbCr, LAB, HSV, ...


def _to_8bit(im: Image.Image) -> Image.Image:
    """16/32-bit grey or float to 8-bit, scaled by the format's range rather than clipped."""
    arr = np.asarray(im).astype(np.float64)
    if im.mode.startswith("I;16"):
        scaled = arr / 257.0
    elif im.mode == "F" and arr.size and np.nanmin(arr) >= 0.0 and np.nanmax(arr) <= 1.0:
        scaled = arr * 255.0
    elif im.mode != "F" and arr.size and arr.min() >= 0 and arr.max() <= 65535:
        scaled = arr / 257.0  # PIL opens 16-bit grey PNGs as "I" with 0..65535
    else:
        lo, hi = (float(np.nanmin(arr)), float(np.nanmax(arr))) if arr.size else (0.0, 1.0)
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
    return Image.fromarray(np.nan_to_num(scaled).clip(0, 255).round().astype(np.uint8))


def _shrink(im: Image.Image, min_side: int) -> Image.Image:
    # Box-filter reduction by a whole factor: fast, anti-aliased, and the shorter side
    # stays within [min_side, 2 * min_side).
    factor = min(im.size) // max(1, min_side)
    if min(im.size) <= 2 * min_side or factor < 2:
        return im
    return im.reduce(factor)


def _to_rgb(im: Image.Image, icc_profile: bytes | None = None) -> Image.Image:
    if icc_profile and im.mode in _ICC_MODES:
        converted = _icc_to_srgb(im, icc_profile)
        if converted is not None:
            return converted
    return im if im.mode == "RGB" else im.convert("RGB")


def _icc_to_srgb(im: Image.Image, icc_profile: bytes) -> Image.Image | None:
    try:
        transform = _srgb_transform(bytes(icc_profile), im.mode)
        return ImageCms.applyTransform(im, transform)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken or mismatched profile is ignored, as browsers do


@functools.lru_cache(maxsize=16)
def _srgb_transform(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform:
    # Phone libraries share a handful of profiles; building a transform costs milliseconds.
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
    target = ImageCms.createProfile("sRGB")
    return ImageCms.buildTransform(source, target, mode, "RGB")


def _orient(im: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return im.transpose(method) if method is not None else im


# --- reasons -------------------------------------------------------------------------


def _too_large(width: int, height: int, limit: int) -> str:
    return f"image too large ({width}x{height} pixels, limit {limit // 1_000_000} MP)"


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "unreadable: file not found"
    if isinstance(exc, PermissionError):
        return "unreadable: permission denied"
    if isinstance(exc, IsADirectoryError):
        return "not a regular file"
    return f"unreadable: {_one_line(exc.strerror or str(exc)).lower()}"


def _decode_reason(exc: BaseException) -> str:
    message = _one_line(str(exc))
    if isinstance(exc, UnidentifiedImageError):
        return "not an image"
    if isinstance(exc, Image.DecompressionBombError):
        # PIL refused it inside Image.open, before we saw the size; its message has the count.
        found = re.search(r"\((\d+) pixels\)", message)
        declared = f"{int(found.group(1)) // 1_000_000} MP, " if found else ""
        return f"image too large ({declared}limit {MAX_PIXELS // 1_000_000} MP)"
    if isinstance(exc, MemoryError):
        return "image too large (out of memory)"
    if isinstance(exc, EOFError) or "truncated" in message.lower():
        return "truncated image data"
    return f"corrupt image data ({message[:80]})" if message else "corrupt image data"


def _one_line(text: str) -> str:
    return " ".join(text.split())
