"""Test helpers: photos on disk with a date taken (EXIF DateTimeOriginal), IPTC keywords or a file time."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

from PIL import Image

from tests.conftest import make_photo


def iptc_block(keywords: list[str]) -> bytes:
    """An APP13 Photoshop segment holding one IPTC 2:25 Keywords record per keyword."""
    iptc = b"".join(b"\x1c\x02\x19" + struct.pack(">H", len(k.encode())) + k.encode() for k in keywords)
    iptc += b"\x00" * (len(iptc) % 2)
    block = b"Photoshop 3.0\x00" + b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc))
    block += iptc
    return b"\xff\xed" + struct.pack(">H", len(block) + 2) + block


def write_photo(
    path: Path,
    seed: int,
    *,
    taken: str | None = None,
    keywords: list[str] | None = None,
    mtime: float | None = None,
) -> Path:
    """A distinct JPEG; taken as 'YYYY:MM:DD HH:MM:SS' goes into the Exif IFD's DateTimeOriginal."""
    make_photo(path, seed)
    with Image.open(path) as img:
        image = img.copy()
    exif = Image.Exif()
    if taken:
        exif[0x8769] = {0x9003: taken}
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes() if taken else b"")
    data = buf.getvalue()
    if keywords:
        data = data[:2] + iptc_block(keywords) + data[2:]
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path
