"""Render the app icon from resources/photosearch.svg for the installers (run at build time).

Usage: python packaging/make_icons.py [OUT_DIR]   (default build/icons)
Writes hicolor PNGs (hicolor/<N>x<N>/apps/photosearch.png), photosearch.ico (Windows) and
photosearch.icns (macOS). Needs PySide6 (QtSvg) and Pillow, both runtime dependencies.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "photosearch.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(svg: Path, size: int, out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"could not write {out}")


def main(argv: list[str]) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # QImage/QPainter need one
    out = Path(argv[0]) if argv else ROOT / "build" / "icons"
    pngs = {}
    for size in PNG_SIZES:
        path = out / "hicolor" / f"{size}x{size}" / "apps" / "photosearch.png"
        render(SVG, size, path)
        pngs[size] = path
    largest = Image.open(pngs[512])
    # Pillow scales each smaller size down from the largest image.
    largest.save(out / "photosearch.ico", sizes=[(s, s) for s in ICO_SIZES])
    largest.save(out / "photosearch.icns")
    del app
    print(f"icons written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
