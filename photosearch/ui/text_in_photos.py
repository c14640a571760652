"""The words read from a photo (OCR), as the preview shows them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

OCR_SOURCE = "ocr"  # photosearch.core.ocr.OCR_SOURCE, without importing the OCR engine into the GUI


def ocr_text(details: dict | None) -> str:
    return "\n".join(c["text"] for c in (details or {}).get("captions", []) if c.get("source") == OCR_SOURCE)


def text_in_photo_label(details: dict | None) -> QLabel:
    """'Text in photo: …' (plain text, selectable); hidden when none was read."""
    label = QLabel()
    label.setObjectName("textInPhoto")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)  # read from pixels: never markup
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    show_text_in_photo(label, details)
    return label


def show_text_in_photo(label: QLabel, details: dict | None) -> None:
    """Another photo in the same preview (Left/Right): its text, or the label hidden."""
    text = ocr_text(details)
    label.setText(f"Text in photo: {' · '.join(text.splitlines())}" if text else "")
    label.setVisible(bool(text))
