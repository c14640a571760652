"""The menu bar: File, Edit, View and Help, with the shortcuts desktop users expect."""

from __future__ import annotations

import html
import platform
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from photosearch import __version__ as app_version

if TYPE_CHECKING:
    from photosearch.ui.main_window import MainWindow

SHORTCUTS = (
    ("Ctrl+F", "Go to the search field"),
    ("Enter", "Search now (results also follow your typing)"),
    ("Down in the search field", "Go to the results"),
    ("Esc", "Clear the query"),
    ("Tab / Shift+Tab", "Next / previous control: search, chips, Filters, buttons, folders, results, captions"),
    ("Delete / Backspace on a chip", "Remove that filter or query image"),
    ("Space on a chip", "Remove a filter; search by a greyed-out (↺) image again"),
    ("Ctrl+O", "Search by an image file"),
    ("Ctrl+V", "Search by a pasted image"),
    ("Arrows, Enter / Space", "Move in the grid, preview the photo"),
    ("Left / Right in the preview", "Previous / next result"),
    ("Ctrl+C", "Copy the selected photos' paths"),
    ("Ctrl+A", "Select all photos (results or timeline)"),
    ("Ctrl++ / Ctrl+-, Ctrl+wheel", "Larger / smaller tiles"),
    ("F5", "Re-index the watched folders"),
    ("Ctrl+Q", "Quit"),
    ("Alt+F, Alt+E, Alt+V, Alt+H", "Open the File, Edit, View, Help menu"),
)


def _action(window: MainWindow, menu, text: str, slot, shortcut=None) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    return action


def build_menus(window: MainWindow) -> dict[str, QAction]:
    """Create the menus; returns the actions by name (tests trigger them)."""
    bar = window.menuBar()
    actions: dict[str, QAction] = {}
    file_menu = bar.addMenu("&File")
    actions["add_folder"] = _action(window, file_menu, "&Add folder…", window.choose_folder)
    actions["import_captions"] = _action(window, file_menu, "&Import captions…", window.choose_caption_file)
    actions["choose_model"] = _action(window, file_menu, "Choose a &model file…", window.choose_model_file)
    file_menu.addSeparator()
    actions["settings"] = _action(
        window, file_menu, "&Settings…", window.open_settings, QKeySequence.StandardKey.Preferences
    )
    file_menu.addSeparator()
    actions["quit"] = _action(window, file_menu, "&Quit", window.close, "Ctrl+Q")

    edit = bar.addMenu("&Edit")
    actions["copy"] = _action(window, edit, "&Copy", lambda: window.copy_paths(window.selected_paths()))
    # The search field keeps Ctrl+C / Ctrl+A for its text while it has focus (it overrides shortcuts).
    actions["copy"].setShortcut(QKeySequence.StandardKey.Copy)
    actions["select_all"] = _action(window, edit, "Select &all", window.select_all_results)
    actions["select_all"].setShortcut(QKeySequence.StandardKey.SelectAll)

    view = bar.addMenu("&View")
    actions["larger"] = _action(window, view, "&Larger tiles", lambda: window.step_tile_size(+16), "Ctrl++")
    actions["smaller"] = _action(window, view, "&Smaller tiles", lambda: window.step_tile_size(-16), "Ctrl+-")
    view.addSeparator()
    # Ticked while their panel is on screen; the work area (bind_actions) shows, hides and ticks them.
    for name, text in (("folders", "Show &folders"), ("captions", "Show &caption panel")):
        actions[name] = QAction(text, window, checkable=True)
        actions[name].setChecked(True)
        view.addAction(actions[name])
    view.addSeparator()
    actions["all_folders"] = _action(window, view, "&All folders", window.show_all_folders)

    help_menu = bar.addMenu("&Help")
    actions["shortcuts"] = _action(window, help_menu, "&Keyboard shortcuts", lambda: show_shortcuts(window))
    actions["about"] = _action(window, help_menu, "&About PhotoSearch", lambda: show_about(window))
    return actions


def about_text(window: MainWindow) -> str:
    library = window.ref.get()
    status = window.last_status or {}
    backend = status.get("backend") or ("not loaded" if not library.model_loaded else "?")
    return (
        f"PhotoSearch {app_version}\n\n"
        f"Model: {library.spec.describe()}\n"
        f"Backend: {backend} on {str(status.get('device') or 'cpu').upper()}\n"
        f"Library: {library.root}\n\n"
        f"Python {platform.python_version()}, Qt {qVersion()}, PySide6 {pyside_version}"
    )


def shortcuts_text() -> str:
    """A two-column table: tab stops in a message box misalign every key longer than one stop."""
    rows = "".join(
        f"<tr><td style='padding-right:18px; white-space:nowrap'><b>{html.escape(keys)}</b></td>"
        f"<td style='white-space:nowrap'>{html.escape(what)}</td></tr>"
        for keys, what in SHORTCUTS
    )
    return f"<table cellspacing='3'>{rows}</table>"


def show_about(window: MainWindow) -> None:
    window.about_box = QMessageBox(QMessageBox.Icon.Information, "About PhotoSearch", about_text(window), parent=window)
    window.about_box.open() if window.interactive else window.about_box.show()


def show_shortcuts(window: MainWindow) -> None:
    box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", shortcuts_text(), parent=window)
    box.setTextFormat(Qt.TextFormat.RichText)
    window.shortcuts_box = box
    box.open() if window.interactive else box.show()
