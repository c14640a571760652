"""Plain data passed between the core and its front ends (CLI, GUI). No Qt, no tensors."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from photosearch.core.dates import iso_date


@dataclass(frozen=True)
class SearchResult:
    """One photo in a ranked result list."""

    path: str
    score: float | None  # None when browsing (no query); see README "What the scores mean"
    caption: str | None = None
    photo_id: int = 0
    fingerprint: str = ""
    width: int = 0
    height: int = 0
    taken: float | None = None  # EXIF date taken, if the photo has one
    offline: bool = False
    date: float | None = None  # date taken, else the file's modification time (POSIX seconds)
    why: tuple[str, ...] = ()  # from "image", "caption", "filename", "keyword", "text-in-photo"
    similarity: float | None = None  # the CLIP cosine alone (score adds the text match)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "score": None if self.score is None else round(self.score, 6),
            "caption": self.caption,
            "date": iso_date(self.date),
            "why": list(self.why),
            "similarity": None if self.similarity is None else round(self.similarity, 6),
        }


@dataclass(frozen=True)
class CaptionResult:
    """One caption matching a query, with the photo it describes."""

    path: str
    caption: str
    score: float
    source: str = ""
    similarity: float = 0.0  # CLIP cosine between query and caption (or image and caption)
    lexical: float = 0.0  # IDF-weighted share of query words found verbatim in the caption, 0..1
    matched_terms: tuple[str, ...] = ()
    photo_id: int = 0
    fingerprint: str = ""
    copies: tuple[str, ...] = ()  # other paths of the same content with this caption, shown as this one row

    def to_json(self) -> dict[str, Any]:
        out = {"path": self.path, "caption": self.caption, "score": round(self.score, 6), "source": self.source}
        if self.copies:  # only then: a row without copies reads exactly as before
            out["copies"] = list(self.copies)
        return out


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class IndexSummary:
    added: int = 0
    updated: int = 0
    removed: int = 0
    moved: int = 0
    encoded: int = 0  # contents run through the model: copies of one content count once
    offline: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0
    moved_folders: list[Any] = field(default_factory=list)  # moved_folders.MovedFolder: offline, photos elsewhere

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "moved": self.moved,
            "encoded": self.encoded,
            "offline": self.offline,
            "skipped": [asdict(s) for s in self.skipped],
            "cancelled": self.cancelled,
            "moved_folders": [m.to_json() for m in self.moved_folders],
        }


@dataclass(frozen=True)
class Progress:
    """Reported by the indexer after each batch (and once at the start of encoding)."""

    phase: str  # "scanning" | "encoding" | "done"
    done: int
    total: int
    rate: float  # photos per second over the encoding so far
    eta_seconds: float | None
    current: str = ""
