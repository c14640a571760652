"""The splitter under the top bar: folder sidebar | photos | caption panel.

The photos always keep room for one whole tile (their view's minimum width). When the window is too
narrow for the side panels as well, the caption panel is hidden first, then the sidebar; they come back
when the window is wide enough again. The panels' widths are left out of the minimum width the window
is told, or it could never be made narrow enough for them to give way.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QSplitter, QWidget

CAPTION_MIN_WIDTH = 200  # narrower, a caption row shows a word or two per line


class WorkArea(QSplitter):
    def __init__(self, sidebar: QWidget, centre: QWidget, captions: QWidget, parent=None) -> None:
        super().__init__(parent)
        self.sidebar, self.centre, self.captions = sidebar, centre, captions
        captions.setMinimumWidth(CAPTION_MIN_WIDTH)
        for widget in (sidebar, centre, captions):
            self.addWidget(widget)
        self.setStretchFactor(1, 1)
        self.setChildrenCollapsible(False)
        self.captions_wanted = True  # there is a query and View ▸ Show caption panel is on
        self.room_for_sidebar = True
        self.room_for_captions = True

    def want_captions(self, wanted: bool) -> None:
        self.captions_wanted = wanted
        self._show_what_fits()

    def _min_width(self, widget: QWidget) -> int:
        return max(widget.minimumWidth(), widget.minimumSizeHint().width()) + self.handleWidth()

    def _show_what_fits(self) -> None:
        room = self.width() - self._min_width(self.centre)
        self.room_for_sidebar = room >= self._min_width(self.sidebar)
        self.room_for_captions = room >= self._min_width(self.sidebar) + self._min_width(self.captions)
        self.sidebar.setVisible(self.room_for_sidebar)
        self.captions.setVisible(self.captions_wanted and self.room_for_captions)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._show_what_fits()  # before the splitter shares out the new width
        super().resizeEvent(event)

    def minimumSizeHint(self) -> QSize:
        """The photos' minimum only: the side panels give way instead (see _show_what_fits)."""
        hint = super().minimumSizeHint()
        return QSize(self._min_width(self.centre), hint.height())
