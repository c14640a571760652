"""Perceptual hash (pHash): 64 bits from the low frequencies of a photo's DCT, so resized, re-encoded,
slightly cropped or losslessly converted copies of a photo land a few bits apart.

The indexer hashes the upright decode it already makes for the encoder (EXIF rotation applied), so a
copy rotated by its EXIF tag hashes like the original. Libraries indexed before hashes existed are
filled in by `backfill` from a small decode.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable

import numpy as np
from PIL import Image

from photosearch.core.fsnames import from_db as path_from_db
from photosearch.core.images import ImageError, decode
from photosearch.core.store import Store

HASH_SIDE = 32  # the image is reduced to 32x32 grey before the DCT
LOW = 8  # keep the 8x8 lowest frequencies: 64 bits
BACKFILL_SIDE = 256  # what the indexer decodes at; hashes from the two agree to a bit or two


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


_DCT = _dct_matrix(HASH_SIDE)


def phash(image: Image.Image) -> int:
    """The 64-bit perceptual hash of an image, as an unsigned int."""
    grey = image.convert("L").resize((HASH_SIDE, HASH_SIDE), Image.Resampling.BOX)
    pixels = np.asarray(grey, dtype=np.float64)
    low = (_DCT @ pixels @ _DCT.T)[:LOW, :LOW].ravel()
    # The median of the AC terms: the DC term (mean brightness) would skew it on dark or bright photos.
    bits = low > np.median(low[1:])
    return int(np.packbits(bits).view(">u8")[0])


def to_db(value: int) -> int:
    """SQLite integers are signed 64-bit: store the same bits as a signed number."""
    return value - (1 << 64) if value >= 1 << 63 else value


def from_db(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def store_hash(conn: sqlite3.Connection, fingerprint: str, value: int) -> None:
    conn.execute(
        "INSERT INTO phashes(fingerprint, hash) VALUES (?, ?) "
        "ON CONFLICT(fingerprint) DO UPDATE SET hash = excluded.hash",
        (fingerprint, to_db(value)),
    )


def load_hashes(store: Store) -> dict[str, int]:
    return {fp: from_db(h) for fp, h in store.query("SELECT fingerprint, hash FROM phashes")}


def missing(store: Store) -> list[tuple[str, str]]:
    """(fingerprint, one path) of indexed, reachable content that has no hash yet."""
    rows = store.query(
        "SELECT p.fingerprint, MIN(p.path) FROM photos p WHERE p.state = 'indexed' AND p.offline = 0 "
        "AND p.fingerprint IS NOT NULL AND NOT EXISTS (SELECT 1 FROM phashes h WHERE h.fingerprint = p.fingerprint) "
        "GROUP BY p.fingerprint ORDER BY 2"
    )
    return [(fp, path_from_db(path)) for fp, path in rows]  # a file's own name: odd ones too are found


def backfill(store: Store, cancel: threading.Event | None = None, todo: Iterable[tuple[str, str]] | None = None) -> int:
    """Hash photos indexed before hashes existed; an unreadable one is left for the indexer to report."""
    count = 0
    for fp, path in missing(store) if todo is None else todo:
        if cancel is not None and cancel.is_set():
            break
        try:
            value = phash(decode(path, min_side=BACKFILL_SIDE).image)
        except (ImageError, OSError, ValueError):
            continue
        with store.write() as conn:
            store_hash(conn, fp, value)
        count += 1
    return count


def popcount64(values: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (numpy 2's bitwise_count; a byte table on numpy 1.26)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(np.asarray(values, dtype=np.uint64))
    as_bytes = np.ascontiguousarray(values, dtype=np.uint64).view(np.uint8).reshape(*values.shape, 8)
    return _BYTE_BITS[as_bytes].sum(axis=-1, dtype=np.int32)


_BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.int32)
