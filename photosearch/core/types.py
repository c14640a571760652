"""Plain data passed between the core and its front ends (CLI, GUI). No Qt, no tensors."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SearchResult:
    """One photo in a ranked result list."""

    path: str
    score: float
    caption: str | None = None
    photo_id: int = 0
    fingerprint: str = ""
    width: int = 0
    height: int = 0
    taken: float | None = None
    offline: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "score": round(self.score, 6), "caption": self.caption}


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

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "caption": self.caption, "score": round(self.score, 6)}


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
    encoded: int = 0
    offline: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

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
