"""The app's look: Fusion style, a light palette and a small stylesheet (one place to tune it).

Every control a keyboard reaches draws a blue ring while it has focus: Fusion draws none on buttons,
tool buttons or sliders once a stylesheet styles them (or at all, for the latter two)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

STYLESHEET = """
QMainWindow { background: #f6f7f9; }
#topBar { background: #ffffff; border-bottom: 1px solid #e3e6eb; }
#refineBar { background: #ffffff; border-bottom: 1px solid #e3e6eb; }
#searchBar { background: #f1f3f6; border: 1px solid #dde1e7; border-radius: 10px; min-height: 36px; }
#searchBar:focus-within { border-color: #2563eb; }
#searchEdit { background: transparent; font-size: 15px; padding: 4px 2px; }
#searchIcon { color: #6b7280; font-size: 14px; }
#imageChip { background: #dbe7ff; border-radius: 8px; }
#imageChip QToolButton { border: none; background: transparent; padding: 0 2px; }
#imageChip[restore="true"] { background: #eceff3; }
#imageChip[minus="true"] { background: #fde2e2; }
#imageChip QLabel { color: #1e3a8a; }
#sidebar { background: #fbfbfc; border-right: 1px solid #e3e6eb; }
#captionPanel { background: #fbfbfc; border-left: 1px solid #e3e6eb; }
#sectionHeading { color: #6b7280; font-size: 11px; font-weight: 600; letter-spacing: 1px; padding: 2px 2px 6px 2px; }
#folderList { border: none; background: transparent; }
#folderList::item { padding: 6px 4px; border-radius: 6px; }
#folderList::item:selected { background: #dbe7ff; color: #111827; }
#captionList { border: 2px solid transparent; border-radius: 6px; background: transparent; }
#captionList:focus { border-color: #2563eb; }
#grid { border: none; background: #f6f7f9; }
#hint { color: #6b7280; font-size: 15px; }
#emptyTitle { font-size: 22px; font-weight: 600; color: #111827; }
#emptyBody { font-size: 14px; color: #4b5563; padding: 6px 0 16px 0; }
QPushButton { padding: 6px 12px; border-radius: 6px; border: 1px solid #d1d5db; background: #ffffff; }
QPushButton:hover { background: #f3f4f6; }
QPushButton:focus { border: 2px solid #2563eb; padding: 5px 11px; }
QToolButton { padding: 3px 8px; border-radius: 6px; border: 1px solid #d1d5db; background: #ffffff; }
QToolButton:hover { background: #f3f4f6; }
QToolButton:checked { background: #dbe7ff; }
QToolButton:focus { border: 2px solid #2563eb; padding: 2px 7px; }
QToolButton[popupMode="2"] { padding-right: 18px; }
QToolButton[popupMode="2"]:focus { padding-right: 17px; }
QToolButton::menu-indicator { subcontrol-origin: padding; subcontrol-position: center right; right: 5px; }
QSlider { border: 2px solid transparent; border-radius: 5px; }
QSlider:focus { border-color: #2563eb; }
#primaryButton { background: #2563eb; color: white; border-color: #2563eb; }
#primaryButton:hover { background: #1d4ed8; }
QStatusBar { background: #ffffff; border-top: 1px solid #e3e6eb; color: #374151; }
QStatusBar QLabel { padding: 0 8px; color: #4b5563; }
#deviceLabel { font-weight: 600; color: #1e3a8a; }
QProgressBar { border: 1px solid #d1d5db; border-radius: 5px; background: #f3f4f6; height: 16px; text-align: center; }
QProgressBar::chunk { background: #60a5fa; border-radius: 4px; }
QScrollBar:vertical { background: transparent; width: 10px; margin: 2px; }
QScrollBar::handle:vertical { background: #cfd4dc; border-radius: 4px; min-height: 30px; }
QScrollBar::handle:vertical:hover { background: #aab1bc; }
QScrollBar::add-line, QScrollBar::sub-line { height: 0; width: 0; }
QScrollBar::add-page, QScrollBar::sub-page { background: transparent; }
#central[dropTarget="true"] { border: 3px solid #2563eb; background: #eef4ff; }
#filterLabel { color: #1e3a8a; font-weight: 600; }
#skippedButton { color: #b45309; border: none; padding: 0 8px; }
#skippedButton:hover { text-decoration: underline; }
#noticeBar { background: #fff7e6; border-bottom: 1px solid #f5d9a8; }
#noticeText { color: #7c4a03; }
QSplitter::handle { background: transparent; width: 1px; }
"""


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")  # same look on every platform, and in offscreen screenshots
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#f6f7f9"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#111827"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#111827"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#2563eb"))
    palette.setColor(QPalette.ColorRole.Midlight, QColor("#e5e7eb"))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#6b7280"))
    app.setPalette(palette)
    app.setStyleSheet(STYLESHEET)
