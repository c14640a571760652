"""What a drop or paste carries: an image file, raw image data, or nothing we can search with."""

from __future__ import annotations

import os

from PySide6.QtCore import QBuffer, QIODevice, QMimeData
from PySide6.QtGui import QImage, QImageReader

from photosearch.ui.worker import ImageQuery

_EXTRA_IMAGE_SUFFIXES = {"heic", "heif"}  # decoded by the core (pillow-heif), not by Qt


def is_image_file(path: str) -> bool:
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    readable = {bytes(f).decode().lower() for f in QImageReader.supportedImageFormats()}
    return os.path.isfile(path) and (suffix in readable or suffix in _EXTRA_IMAGE_SUFFIXES or suffix == "jpg")


def image_queries_from_mime(mime: QMimeData | None) -> list[ImageQuery]:
    """Every image file a drop carries (several photos query together), else its raw image, else []."""
    if mime is None:
        return []
    files = [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and is_image_file(u.toLocalFile())]
    if files:
        return [ImageQuery(path=p, label=os.path.basename(p)) for p in files]
    single = image_query_from_mime(mime)
    return [single] if single is not None else []


def image_query_from_mime(mime: QMimeData | None) -> ImageQuery | None:
    """A dropped/pasted image file (local URL) or raw image data; None for anything else."""
    if mime is None:
        return None
    for url in mime.urls():
        if url.isLocalFile() and is_image_file(url.toLocalFile()):
            path = url.toLocalFile()
            return ImageQuery(path=path, label=os.path.basename(path))
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            buffer = QBuffer()
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            image.save(buffer, "PNG")
            return ImageQuery(data=bytes(buffer.data()), label="pasted image")
    for fmt in mime.formats():
        if fmt.startswith("image/"):
            data = bytes(mime.data(fmt))
            if data:
                return ImageQuery(data=data, label="dropped image")
    return None
