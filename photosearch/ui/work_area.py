"""The splitter under the top bar: folder sidebar | photos | caption panel.

The photos always keep room for one whole tile (their view's minimum width). When the window is too
narrow for the side panels as well, the caption panel is hidden first, then the sidebar; they come back
when the window is wide enough again. The panels' widths are left out of the minimum width the window
is told, or it could never be made narrow enough for them to give way.

Before a panel is hidden it gets narrower: as the window narrows, the caption panel and then the sidebar
shrink toward their minimum so that the photos keep two columns (at 800 px: both panels and two
columns). A splitter handle dragged by hand sets the panels' widths; dragged to leave the photos less
than two columns, the panels keep those widths and the photos give way down to one tile.

View ▸ Show folders and Show caption panel are ticked while their panel is on screen (the caption
panel: would be, with a query). A panel hidden for lack of room says so in the status bar; asking for one
makes room for it (the other panel gives way) or, when even that is not enough, says to widen the window.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import QSplitter, QWidget

CAPTION_MIN_WIDTH = 220  # narrower, a caption row shows a word or two per line
SIDEBAR, CAPTIONS = "sidebar", "captions"
NAMES = {SIDEBAR: ("the folders", "them"), CAPTIONS: ("the caption panel", "it")}  # in a sentence
TITLES = {SIDEBAR: "Folders", CAPTIONS: "Caption panel"}  # at its start


class WorkArea(QSplitter):
    message = Signal(str)  # a one-line note for the status bar

    def __init__(self, sidebar: QWidget, centre: QWidget, captions: QWidget,
                 centre_goal: Callable[[], int] = lambda: 0, parent=None) -> None:
        """centre_goal: the width the photos get before the panels keep theirs (two columns)."""
        super().__init__(parent)
        self.sidebar, self.centre, self.captions = sidebar, centre, captions
        self._centre_goal = centre_goal
        captions.setMinimumWidth(CAPTION_MIN_WIDTH)
        for widget in (sidebar, centre, captions):
            self.addWidget(widget)
        self.setStretchFactor(1, 1)
        self.setChildrenCollapsible(False)
        self.wanted = {SIDEBAR: True, CAPTIONS: True}  # the person's choice (View menu)
        self.has_content = {SIDEBAR: True, CAPTIONS: True}  # caption matches belong to a query
        self.widths = {SIDEBAR: 220, CAPTIONS: 320}  # what the panels get when there is room
        self._goal_first = True  # the photos get their goal before the panels their widths (not after a
        # handle was dragged to leave them less: then the panels keep the widths dragged, the photos give)
        self._kept_last = SIDEBAR  # the panel that gives way last: the one asked for last
        self.shown = {SIDEBAR: True, CAPTIONS: True}
        self.room_for = {SIDEBAR: True, CAPTIONS: True}
        self._actions: dict[str, QAction] = {}
        self.splitterMoved.connect(self._remember_drag)

    # -- the person's choices -------------------------------------------------------------------------
    def bind_actions(self, folders: QAction, captions: QAction) -> None:
        """The View menu's checkable items: ticking one asks for its panel, and the tick follows it."""
        self._actions = {SIDEBAR: folders, CAPTIONS: captions}
        for panel, action in self._actions.items():
            action.toggled.connect(lambda on, p=panel: self.ask_for(p, on))
        self._sync_ticks()

    def ask_for(self, panel: str, on: bool) -> bool:
        """Show (on) or hide a panel; a panel asked for is kept longest. False when there is no room."""
        self.wanted[panel] = on
        if on:
            self._kept_last = panel
        self.relayout()
        if on and not self.room_for[panel]:
            name, pronoun = NAMES[panel]
            self.message.emit(f"No room for {name}: widen the window to show {pronoun}")
        return self.room_for[panel]

    def set_content(self, panel: str, present: bool) -> None:
        """Whether the panel has something to show (the caption panel: a query)."""
        if self.has_content[panel] != present:
            self.has_content[panel] = present
            self.relayout()

    def _remember_drag(self, _pos: int, _index: int) -> None:
        sizes = self.sizes()
        for panel, size in ((SIDEBAR, sizes[0]), (CAPTIONS, sizes[2])):
            if self._panel(panel).isVisible():
                self.widths[panel] = size
        self._goal_first = sizes[1] >= self._centre_goal()

    # -- laying out -------------------------------------------------------------------------------------
    def relayout(self) -> None:
        self._show_what_fits()
        self._share_out()

    def _panel(self, panel: str) -> QWidget:
        return self.sidebar if panel == SIDEBAR else self.captions

    @staticmethod
    def _own_min(widget: QWidget) -> int:
        return max(widget.minimumWidth(), widget.minimumSizeHint().width())

    def _min_width(self, widget: QWidget) -> int:
        return self._own_min(widget) + self.handleWidth()

    def _fit(self, present: set[str]) -> set[str]:
        """The panels of present that fit beside a whole tile: both, else the one kept last, else the other."""
        room = self.width() - self._min_width(self.centre)
        other = CAPTIONS if self._kept_last == SIDEBAR else SIDEBAR
        for choice in ({SIDEBAR, CAPTIONS}, {self._kept_last}, {other}):
            if choice <= present and sum(self._min_width(self._panel(p)) for p in choice) <= room:
                return choice
        return set()

    def _show_what_fits(self) -> None:
        present = {p for p in self.wanted if self.wanted[p] and self.has_content[p]}
        fits = self._fit(present)
        was_shown = dict(self.shown)
        for panel in (SIDEBAR, CAPTIONS):
            self.room_for[panel] = panel in self._fit(present | {panel})
            self.shown[panel] = panel in fits
            self._panel(panel).setVisible(self.shown[panel])
        if self.shown != was_shown:
            self.refresh()  # the handles shown or hidden now, not at a later event: _share_out counts them
        for panel in (CAPTIONS, SIDEBAR):
            if was_shown[panel] and panel in present and not self.shown[panel] and self.isVisible():
                # Short: the status bar of a narrow window cuts a long line off.
                self.message.emit(f"{TITLES[panel]} hidden: widen the window to see {NAMES[panel][1]}")
        self._sync_ticks()

    def _sync_ticks(self) -> None:
        for panel, action in self._actions.items():
            ticked = self.wanted[panel] and self.room_for[panel]
            if action.isChecked() != ticked:
                action.blockSignals(True)  # the tick follows the panel; it asks for nothing
                action.setChecked(ticked)
                action.blockSignals(False)

    def _share_out(self) -> None:
        """The panels' widths: as wanted, less what the photos need for their goal (two columns; one tile
        after a handle was dragged into them), the caption panel narrowing first, neither below its minimum."""
        shown = [p for p in (CAPTIONS, SIDEBAR) if self.shown[p]]
        total = self.width() - self.handleWidth() * len(shown)
        centre_min = self._own_min(self.centre)
        goal = max(self._centre_goal() if self._goal_first else 0, centre_min)
        widths = {p: max(self.widths[p], self._own_min(self._panel(p))) for p in shown}
        excess = sum(widths.values()) - (total - goal)
        for panel in shown:
            cut = max(0, min(excess, widths[panel] - self._own_min(self._panel(panel))))
            widths[panel] -= cut
            excess -= cut
        centre = total - sum(widths.values())
        self.setSizes([widths.get(SIDEBAR, self.widths[SIDEBAR]), centre, widths.get(CAPTIONS, self.widths[CAPTIONS])])

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._show_what_fits()  # before the splitter shares out the new width
        super().resizeEvent(event)
        self._share_out()

    def minimumSizeHint(self) -> QSize:
        """The photos' minimum only: the side panels give way instead (see _show_what_fits)."""
        hint = super().minimumSizeHint()
        return QSize(self._min_width(self.centre), hint.height())
