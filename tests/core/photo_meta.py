"""Test helpers: photos on disk with a date taken (EXIF DateTimeOriginal), IPTC keywords or a file time; a
watched folder renamed after indexing."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

from PIL import Image

from tests.conftest import make_photo, make_photos


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


def index_then_rename(library, tmp_path: Path) -> tuple[Path, Path]:
    """Folder A (p0.jpg with IPTC keywords and an imported caption "grandma birthday party", p1-p4.jpg)
    indexed, renamed to B, and B indexed too: A is offline, B holds the same photos. Returns (A, B)."""
    a, b = tmp_path / "A", tmp_path / "B"
    write_photo(a / "p0.jpg", 0, keywords=["grandma", "cake"])
    for i, made in enumerate(make_photos(a, 4, start=1), start=1):
        made.rename(a / f"p{i}.jpg")
    library.add_folder(a)
    library.index()
    csv_path = tmp_path / "caps.csv"
    csv_path.write_text(f"image,caption\n{a / 'p0.jpg'},grandma birthday party\n", encoding="utf-8")
    assert library.import_captions(csv_path)["imported"] == 1
    a.rename(b)
    library.add_folder(b)
    summary = library.index()
    assert (summary.added, summary.encoded, summary.offline) == (5, 0, 5)
    return a, b
