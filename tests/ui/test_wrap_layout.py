"""The top bar's layout: one row when there is room, more rows (never past the edge) when there is not."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit, QPushButton, QSizePolicy, QWidget

from photosearch.ui.wrap_layout import WrapLayout


def _bar(qtbot) -> tuple[QWidget, WrapLayout, QLineEdit, list[QPushButton]]:
    bar = QWidget()
    qtbot.addWidget(bar)
    layout = WrapLayout(bar)
    layout.setContentsMargins(4, 4, 4, 4)
    edit = QLineEdit()
    edit.setMinimumWidth(200)
    edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    layout.addWidget(edit)
    buttons = [QPushButton(f"Button number {n}") for n in range(3)]
    for button in buttons:
        layout.addWidget(button)
    return bar, layout, edit, buttons


def test_a_wide_bar_is_one_row_and_the_expanding_widget_takes_the_room(qtbot) -> None:
    bar, layout, edit, buttons = _bar(qtbot)
    wide = layout.sizeHint().width() + 300
    bar.resize(wide, layout.heightForWidth(wide))
    bar.show()
    layout.activate()
    assert len({w.geometry().center().y() for w in (edit, *buttons)}) == 1
    assert edit.width() > 200 + 250  # the spare width went to the search field
    assert buttons[-1].geometry().right() == wide - 1 - 4  # flush with the right margin


def test_a_narrow_bar_wraps_its_widgets_inside_its_width(qtbot) -> None:
    bar, layout, edit, buttons = _bar(qtbot)
    narrow = 260
    one_row = layout.heightForWidth(layout.sizeHint().width())
    assert layout.heightForWidth(narrow) > one_row  # it asks for the height of its rows
    assert layout.minimumSize().width() <= narrow  # the window may be this narrow
    bar.resize(narrow, layout.heightForWidth(narrow))
    bar.show()
    layout.activate()
    for widget in (edit, *buttons):
        assert bar.rect().contains(widget.geometry()), widget.geometry()
    rows = sorted({w.geometry().y() for w in (edit, *buttons)})
    assert len(rows) >= 3 and edit.geometry().y() == rows[0] and edit.width() == narrow - 8


def test_an_inserted_widget_takes_its_place_and_leaves_with_its_widget(qtbot) -> None:
    _bar_widget, layout, edit, buttons = _bar(qtbot)
    extra = QPushButton("Inserted")
    layout.insertWidget(1, extra)
    assert [layout.itemAt(i).widget() for i in range(layout.count())] == [edit, extra, *buttons]
    extra.deleteLater()
    qtbot.waitUntil(lambda: layout.count() == 4)  # the layout lets go of a deleted widget's item
    assert [layout.itemAt(i).widget() for i in range(layout.count())] == [edit, *buttons]
