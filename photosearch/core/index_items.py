"""What the indexer passes between its decode threads and its committing thread: a photo to index, what
decoding it gave, and the photos of one content met within a run."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Job:
    photo_id: int
    path: str
    size: int
    fingerprint: str | None  # trusted when set: the file's (size, mtime) matched when it was taken


@dataclass
class Prepared:
    job: Job
    kind: str  # "skip" | "known" (content already embedded) | "decoded" | "copy" (of `first`, in this run)
    fingerprint: str | None = None
    first: int | None = None  # for a copy: the photo id decoding its content
    reason: str = ""
    pixels: np.ndarray | None = None
    width: int | None = None
    height: int | None = None
    taken: float | None = None
    captions: list[tuple[str, str]] = field(default_factory=list)
    sidecar: str | None = None
    phash: int | None = None  # perceptual hash of the same decode (duplicate finder)


class Twins:
    """Photos of one content within a run. The first to claim a fingerprint is decoded and encoded;
    its copies share its vector, so 2,000 copies cost one decode and one encode however the batches
    and decode threads fall. Claimed from the decode threads; the rest is kept by the committing thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first: dict[str, int] = {}
        # Firsts that could not be indexed. Their copies are decoded each by itself: the fingerprint
        # reads only the ends of a file, so a copy damaged in the middle must not condemn the others.
        self.failed: set[int] = set()
        # The metadata captions of each content decoded in this run, for its copies.
        self.captions: dict[str, list[tuple[str, str]]] = {}

    def claim(self, fp: str, photo_id: int) -> int:
        """The photo id that decodes this content: `photo_id` if it is the first to ask."""
        with self._lock:
            return self._first.setdefault(fp, photo_id)
