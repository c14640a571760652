"""A layout that lays its widgets out in a row and wraps them onto further rows when the row is too
narrow: the top bar keeps every control on the window however small it is (or however large the scale
factor), instead of widening the window past the screen.

Widgets whose horizontal size policy can expand (the search box) are packed at their minimum width and
share what is left of their row; the others keep their size hint, shrunk only when alone on a row that is
narrower than they are; one that wraps its own widgets too (the filter chips) is given the height of
its rows at that width.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QWidget


class WrapLayout(QLayout):
    def __init__(self, parent: QWidget | None = None, spacing: int = 8) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._cached: tuple[int, int] | None = None  # (width, height) of the last heightForWidth

    # -- QLayout's list of items ----------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)
        self.invalidate()

    def insertWidget(self, index: int, widget: QWidget) -> None:
        self.addWidget(widget)  # Qt makes the item (and owns it, as for every other item)
        if 0 <= index < len(self._items) - 1:
            self._items.insert(index, self._items.pop())
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if not 0 <= index < len(self._items):
            return None
        self.invalidate()
        return self._items.pop(index)

    def invalidate(self) -> None:
        self._cached = None
        super().invalidate()

    # -- sizes ------------------------------------------------------------------------------------------
    def spacing(self) -> int:
        return self._spacing

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation.Horizontal

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        if self._cached is None or self._cached[0] != width:
            self._cached = (width, self._arrange(QRect(0, 0, width, 0), apply=False))
        return self._cached[1]

    def sizeHint(self) -> QSize:
        """Everything on one row."""
        items = self._shown()
        width = sum(self._packed_width(i) for i in items) + self._spacing * max(len(items) - 1, 0)
        height = max((i.sizeHint().height() for i in items), default=0)
        return QSize(width, height).grownBy(self.contentsMargins())

    def minimumSize(self) -> QSize:
        """As narrow as the widest single widget (each on a row of its own)."""
        items = self._shown()
        width = max((i.minimumSize().width() for i in items), default=0)
        height = max((i.minimumSize().height() for i in items), default=0)
        return QSize(width, height).grownBy(self.contentsMargins())

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    # -- placing ----------------------------------------------------------------------------------------
    def _shown(self) -> list[QLayoutItem]:
        return [i for i in self._items if not i.isEmpty()]

    @staticmethod
    def _expands(item: QLayoutItem) -> bool:
        widget = item.widget()
        policy = widget.sizePolicy().horizontalPolicy().value if widget is not None else 0
        return bool(policy & QSizePolicy.PolicyFlag.ExpandFlag.value)

    def _packed_width(self, item: QLayoutItem) -> int:
        return item.minimumSize().width() if self._expands(item) else item.sizeHint().width()

    def _rows(self, width: int) -> list[list[QLayoutItem]]:
        rows: list[list[QLayoutItem]] = []
        used = 0
        for item in self._shown():
            need = self._packed_width(item)
            if rows and used + self._spacing + need <= width:
                rows[-1].append(item)
                used += self._spacing + need
            else:
                rows.append([item])
                used = need
        return rows

    def _arrange(self, rect: QRect, apply: bool) -> int:
        """Place the items in rect (when apply); returns the height they take."""
        margins: QMargins = self.contentsMargins()
        area = rect.marginsRemoved(margins)
        y = area.y()
        for n, row in enumerate(self._rows(area.width())):
            y += self._spacing if n else 0
            widths = self._row_widths(row, area.width())
            heights = [self._height(i, w) for i, w in zip(row, widths, strict=True)]
            if apply:
                self._place_row(row, widths, heights, QPoint(area.x(), y), max(heights))
            y += max(heights)
        return y - area.y() + margins.top() + margins.bottom()

    @staticmethod
    def _height(item: QLayoutItem, width: int) -> int:
        """A widget that wraps too (the filter chips) is as tall as its rows at that width."""
        return item.heightForWidth(width) if item.hasHeightForWidth() else item.sizeHint().height()

    def _row_widths(self, row: list[QLayoutItem], width: int) -> list[int]:
        widths = [min(self._packed_width(i), width) for i in row]
        spare = width - sum(widths) - self._spacing * (len(row) - 1)
        growing = [n for n, i in enumerate(row) if self._expands(i)]
        for n in growing:
            widths[n] += spare // len(growing)
        return widths

    def _place_row(self, row: list[QLayoutItem], widths: list[int], heights: list[int], at: QPoint,
                   row_height: int) -> None:
        x = at.x()
        for item, width, height in zip(row, widths, heights, strict=True):
            item.setGeometry(QRect(QPoint(x, at.y() + (row_height - height) // 2), QSize(width, height)))
            x += width + self._spacing
