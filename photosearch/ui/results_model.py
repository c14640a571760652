"""List models for the ranked grid and the caption panel.

Thumbnails are asked for in data(DecorationRole), which the view calls only for tiles it paints;
that is what keeps a 10,000-result list cheap: nothing is decoded for rows never scrolled to.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Sequence

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QPersistentModelIndex, Qt, QUrl, Slot

from photosearch.core.types import CaptionResult, SearchResult
from photosearch.ui.badges import badge_labels
from photosearch.ui.month_headers import HeaderRole, with_month_headers
from photosearch.ui.thumbnails import ThumbnailLoader

PathRole = Qt.ItemDataRole.UserRole + 1
ScoreRole = Qt.ItemDataRole.UserRole + 2
ItemRole = Qt.ItemDataRole.UserRole + 3
HtmlRole = Qt.ItemDataRole.UserRole + 4
ThumbStateRole = Qt.ItemDataRole.UserRole + 5  # "ready" | "loading" | "failed"
WhyRole = Qt.ItemDataRole.UserRole + 6  # issue 11: what matched, e.g. ("image", "caption")

_Index = QModelIndex | QPersistentModelIndex


def highlight_html(text: str, terms: Sequence[str]) -> str:
    """Caption as HTML with the matched words in bold; everything from the caption is escaped."""
    words = sorted({t for t in terms if t and t.strip()}, key=len, reverse=True)
    if not words:
        return html.escape(text)
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append(f"<b>{html.escape(match.group(0))}</b>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def format_score(score: float) -> str:
    return f"{score:.3f}"


def copies_text(item: CaptionResult) -> str:
    """"2 copies": the other paths of the same photo whose same caption this one row stands for."""
    count = len(item.copies)
    return f"{count} cop{'y' if count == 1 else 'ies'}"


class _ThumbModel(QAbstractListModel):
    """Shared plumbing: rows keyed by path, repainted when their thumbnail arrives."""

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._rows_by_path: dict[str, list[int]] = {}
        loader.ready.connect(self._on_thumbnail)

    def _reindex(self, paths: Sequence[str]) -> None:
        self._rows_by_path = {}
        for row, path in enumerate(paths):
            self._rows_by_path.setdefault(path, []).append(row)

    def row_of(self, path: str) -> int:
        rows = self._rows_by_path.get(path)
        return rows[0] if rows else -1

    def _thumb(self, path: str, fingerprint: str):
        return self._loader.pixmap(path, fingerprint)

    def _thumb_state(self, path: str) -> str:
        if self._loader.failed(path):
            return "failed"
        return "ready" if self._loader.settled(path) else "loading"

    @Slot(str)
    def _shared_data(self, item: SearchResult | CaptionResult, role: int):
        """Roles both lists answer the same way: the thumbnail, and the item's path, score and self."""
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumb(item.path, item.fingerprint)
        if role == PathRole:
            return item.path
        if role == ScoreRole:
            return item.score
        if role == ItemRole:
            return item
        if role == ThumbStateRole:
            return self._thumb_state(item.path)
        if role == WhyRole:
            return getattr(item, "why", ())
        return None

    def _on_thumbnail(self, path: str) -> None:
        for row in self._rows_by_path.get(path, ()):
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole, ThumbStateRole])


def paths_mime(paths: Sequence[str]) -> QMimeData:
    """Photos as the clipboard and a drag carry them: file URLs, so a file manager, mail or chat app gets
    the real files, and the paths as text, one a line, for a text field."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    mime.setText("\n".join(paths))
    return mime


class PhotoRowsModel(_ThumbModel):
    """A photo view's rows (the results grid's, the timeline's): photos, and month headers (str rows) that
    are neither selected nor dragged; photos drag out as files (paths_mime)."""

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(loader, parent)
        self._rows: list[SearchResult | str] = []

    def result(self, row: int) -> SearchResult | None:
        item = self._rows[row] if 0 <= row < len(self._rows) else None
        return None if isinstance(item, str) else item

    def headers(self) -> list[str]:
        return [r for r in self._rows if isinstance(r, str)]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if index.isValid() and self.result(index.row()) is None:
            return Qt.ItemFlag.ItemIsEnabled  # a header: not selectable, not dragged
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list", "text/plain"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        picked = [self.result(i.row()) for i in indexes if i.isValid()]
        return paths_mime([r.path for r in picked if r is not None])

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


class ResultsModel(PhotoRowsModel):
    """The ranked grid's rows; sorted by date, a month header (a str row) goes before each new month."""

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(loader, parent)
        self._results: list[SearchResult] = []

    def set_results(self, results: Sequence[SearchResult], headers: bool = False) -> None:
        self.beginResetModel()
        self._results = list(results)
        self._rows = with_month_headers(self._results) if headers else list(self._results)
        self._reindex(["" if isinstance(r, str) else r.path for r in self._rows])
        self.endResetModel()

    def results(self) -> list[SearchResult]:
        return list(self._results)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        if isinstance(item, str):  # a month header
            return item if role in (HeaderRole, Qt.ItemDataRole.DisplayRole) else None
        if role == Qt.ItemDataRole.DisplayRole:
            return os.path.basename(item.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [html.escape(item.path)]
            if item.score is not None:
                lines.append(f"score {format_score(item.score)}")
            if item.caption:
                lines.append(html.escape(item.caption))
            if item.why:  # all of them: a small tile shows some as "+N"
                lines.append("matched by " + ", ".join(badge_labels(item.why)))
            if item.offline:
                lines.append("<i>on a drive that is not connected</i>")
            return "<br>".join(lines)
        return self._shared_data(item, role)


class CaptionModel(_ThumbModel):
    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(loader, parent)
        self._captions: list[CaptionResult] = []
        self._html: list[str] = []

    def set_captions(self, captions: Sequence[CaptionResult]) -> None:
        self.beginResetModel()
        self._captions = list(captions)
        self._html = [highlight_html(c.caption, c.matched_terms) for c in self._captions]
        self._reindex([c.path for c in self._captions])
        self.endResetModel()

    def captions(self) -> list[CaptionResult]:
        return list(self._captions)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._captions)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._captions):
            return None
        item = self._captions[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.caption
        if role == HtmlRole:
            return self._html[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            if not item.copies:
                return html.escape(item.path)
            return "<br>".join([html.escape(item.path), f"+{copies_text(item)}:", *map(html.escape, item.copies)])
        return self._shared_data(item, role)
