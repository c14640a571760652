"""Filters and combined-query controls beside the search box: removable chips (dates, sort, best
matches) and, while an image query is on, words to add with a weight slider."""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSlider,
    QToolButton,
    QWidget,
)

from photosearch.core.errors import PhotoSearchError
from photosearch.core.filters import Filters
from photosearch.core.query import parse_query
from photosearch.ui.wrap_layout import WrapLayout

WEIGHT_STEPS = 100


@dataclass(frozen=True)
class SearchOptions:
    """What the chips and the weight control say; turned into Library keyword arguments."""

    after: str = ""
    before: str = ""
    folder: str = ""
    sort: str = "relevance"
    best: bool = False
    plus: str = ""
    weight: float = 0.5
    more_images: tuple = ()  # further query images (paths or bytes) beside the first one
    minus: tuple[str, ...] = ()  # words to take away ("-word" in the words box)
    minus_images: tuple = ()  # images to take away ("Less like this")

    def filters(self) -> Filters:
        return Filters.from_text(folder=self.folder or None, after=self.after or None, before=self.before or None)

    def text_kwargs(self) -> dict:
        return {"filters": self.filters(), "sort": self.sort, "best": self.best}

    def caption_kwargs(self) -> dict:
        """Library.search_captions' keywords: the caption panel obeys the grid's filters."""
        return {"filters": self.filters(), "best": self.best}

    def combined_kwargs(self) -> dict:
        """An image query's words and images taken away, with their weight: Library.search_image and
        search_captions both take them, so the grid and the caption panel rank by the same query."""
        return {"plus": self.plus or None, "weight": self.weight, "minus": list(self.minus),
                "minus_images": list(self.minus_images)}

    def image_kwargs(self) -> dict:
        """Library.search_image's keywords, as the CLI's `similar` passes them; more_images goes with the
        first image into its list of sources."""
        return {**self.text_kwargs(), **self.combined_kwargs(), "more_images": list(self.more_images)}


class DateDialog(QDialog):
    """From / to, each YYYY, YYYY-MM or YYYY-MM-DD (or empty); refuses anything else with a line of text."""

    def __init__(self, after: str = "", before: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Date range")
        form = QFormLayout(self)
        self.after_edit = QLineEdit(after)
        self.after_edit.setPlaceholderText("e.g. 2019 or 2019-07")
        self.before_edit = QLineEdit(before)
        self.before_edit.setPlaceholderText("e.g. 2020-06-30")
        self.error = QLabel("")
        self.error.setObjectName("dateError")
        self.error.setStyleSheet("color: #b91c1c;")
        form.addRow("From", self.after_edit)
        form.addRow("To", self.before_edit)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[str, str]:
        return self.after_edit.text().strip(), self.before_edit.text().strip()

    def try_accept(self) -> None:
        after, before = self.values()
        try:
            Filters.from_text(after=after or None, before=before or None)
        except PhotoSearchError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class FilterChips(QWidget):
    """A "Filters" menu and one removable chip per active filter; `changed` fires on every edit.

    The chips follow the Filters button in the Tab order; Space, Delete or Backspace on one removes
    its filter, and the focus goes on to the next chip (or back to the Filters button).
    """

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("filterChips")
        self.setStyleSheet(
            "#filterChip { background: #dbe7ff; color: #1e3a8a; border: none; border-radius: 12px; padding: 4px 10px; }"
            "#filterChip:hover { background: #c7d7fe; }"
            "#filterChip:focus { border: 2px solid #1d4ed8; padding: 2px 8px; }"
        )
        self._options = SearchOptions()
        self._layout = WrapLayout(self, spacing=4)  # many chips in a narrow window: more rows, none cut off
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.menu_button = QToolButton()
        self.menu_button.setText("Filters")
        self.menu_button.setToolTip("Filter by date, sort by date, or show only the best matches")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.menu_button)
        # Ticked while on (a menu without ticks hides what is in effect); unticking turns it off.
        self.date_action = menu.addAction("Date range…", self.choose_dates)
        self.sort_action = menu.addAction("Sort by date")
        self.sort_action.triggered.connect(lambda on: self.set_sort("date" if on else "relevance"))
        self.best_action = menu.addAction("Best matches only")
        self.best_action.triggered.connect(self.set_best)
        for action in (self.date_action, self.sort_action, self.best_action):
            action.setCheckable(True)
        self.menu_button.setMenu(menu)
        self._layout.addWidget(self.menu_button)
        self.chips: dict[str, QPushButton] = {}
        self.dialog: DateDialog | None = None

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            key = next((k for k, chip in self.chips.items() if chip is watched), None)
            if key is not None:
                self.remove(key)
                return True
        return super().eventFilter(watched, event)

    def options(self) -> SearchOptions:
        return self._options

    def update_options(self, **changes) -> None:
        new = replace(self._options, **changes)
        if new == self._options:
            return
        self._options = new
        self._rebuild()
        self.changed.emit()

    def set_dates(self, after: str, before: str) -> None:
        Filters.from_text(after=after or None, before=before or None)  # PhotoSearchError if not dates
        self.update_options(after=after, before=before)

    def set_sort(self, sort: str) -> None:
        self.update_options(sort=sort)

    def set_best(self, best: bool) -> None:
        self.update_options(best=best)

    def set_folder(self, folder: str) -> None:
        self.update_options(folder=folder or "")

    def choose_dates(self) -> None:
        self._tick()  # the click toggled the tick; only a date set puts it there
        self.dialog = DateDialog(self._options.after, self._options.before, self)
        self.dialog.accepted.connect(lambda: self.set_dates(*self.dialog.values()))
        self.dialog.open()

    def chip_texts(self) -> list[str]:
        return [chip.text() for chip in self.chips.values()]

    def remove(self, key: str) -> None:
        reset = {"after": {"after": ""}, "before": {"before": ""}, "sort": {"sort": "relevance"},
                 "best": {"best": False}, "folder": {"folder": ""}}[key]
        keys = list(self.chips)
        had_focus = key in self.chips and self.chips[key].hasFocus()
        self.update_options(**reset)
        if had_focus:  # removed from the keyboard: go on with the chip that took its place
            later = [k for k in keys[keys.index(key) + 1:] if k in self.chips]
            (self.chips[later[0]] if later else self.menu_button).setFocus(Qt.FocusReason.OtherFocusReason)

    def _rebuild(self) -> None:
        for chip in self.chips.values():
            chip.hide()  # gone at once, focus included: the new chips may take it now
            chip.deleteLater()
        self.chips = {}
        o = self._options
        wanted = []
        if o.folder:
            wanted.append(("folder", f"In {o.folder.rstrip('/').rsplit('/', 1)[-1]}"))
        if o.after:
            wanted.append(("after", f"From {o.after}"))
        if o.before:
            wanted.append(("before", f"To {o.before}"))
        if o.sort == "date":
            wanted.append(("sort", "Newest first"))
        if o.best:
            wanted.append(("best", "Best matches"))
        before: QWidget = self.menu_button
        for key, text in wanted:
            chip = QPushButton(f"{text}  ×")
            chip.setObjectName("filterChip")
            chip.setToolTip("Remove this filter (Delete)")
            chip.setAccessibleName(f"{text} filter")
            chip.setAccessibleDescription("Space or Delete removes this filter")
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            chip.clicked.connect(lambda _=False, k=key: self.remove(k))
            chip.installEventFilter(self)
            self._layout.addWidget(chip)
            if self.isVisible():
                chip.show()  # now, not after the next event: the focus may go to it at once
            self.chips[key] = chip
            QWidget.setTabOrder(before, chip)  # right after the Filters button, not at the window's end
            before = chip
        self._tick()

    def _tick(self) -> None:
        o = self._options
        self.date_action.setChecked(bool(o.after or o.before))
        self.sort_action.setChecked(o.sort == "date")
        self.best_action.setChecked(o.best)


class WeightControl(QWidget):
    """Words to add to an image query and how much they count (0 = the image alone, 1 = the words alone)."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("weightControl")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.plus_edit = QLineEdit()
        self.plus_edit.setPlaceholderText("+ words (“at night -people”)")
        self.plus_edit.setToolTip("Refine the image query with words; -word takes a word away")
        self.plus_edit.setClearButtonEnabled(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, WEIGHT_STEPS)
        self.slider.setValue(WEIGHT_STEPS // 2)
        self.slider.setFixedWidth(90)
        self.slider.setToolTip("How much the words count against the image")
        self.value_label = QLabel()
        row.addWidget(self.plus_edit)
        row.addWidget(QLabel("image"))
        row.addWidget(self.slider)
        row.addWidget(QLabel("words"))
        row.addWidget(self.value_label)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.changed)
        self.plus_edit.textChanged.connect(lambda _text: self._debounce.start())
        self.slider.valueChanged.connect(self._on_slider)
        self._on_slider(self.slider.value(), emit=False)

    def weight(self) -> float:
        return self.slider.value() / WEIGHT_STEPS

    def reset(self) -> None:
        """No words, middle weight, and no search: the caller searches (or has ended the query)."""
        self._debounce.stop()
        for widget in (self.plus_edit, self.slider):
            widget.blockSignals(True)
        self.plus_edit.clear()
        self.slider.setValue(WEIGHT_STEPS // 2)
        for widget in (self.plus_edit, self.slider):
            widget.blockSignals(False)
        self._on_slider(self.slider.value(), emit=False)

    def words(self) -> str:
        """The Refine words as typed, when they count (weight 0 is the images alone); else ""."""
        return self.plus_edit.text().strip() if self.weight() > 0 else ""

    def plus(self) -> str:
        """The words to add: the box without its -excluded terms (those are minus())."""
        return parse_query(self.plus_edit.text()).text

    def minus(self) -> tuple[str, ...]:
        """-word and -"a phrase" in the words box: taken away from the image query."""
        return parse_query(self.plus_edit.text()).excluded

    def _on_slider(self, value: int, emit: bool = True) -> None:
        self.value_label.setText(f"{value / WEIGHT_STEPS:.2f}")
        if emit:
            self._debounce.start()
