"""open_clip's image eval transform in PIL + numpy (no torch), so decode threads can run it."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image


class Preprocessor:
    """open_clip's eval transform (resize, center crop, normalise) in PIL + numpy.

    Avoids torch per image so decode threads can run it concurrently; PIL releases
    the GIL while resizing.
    """

    def __init__(self, cfg: dict[str, Any]) -> None:
        size = cfg.get("size", 224)
        self.height, self.width = (size, size) if isinstance(size, int) else tuple(size)
        self.resize_mode = cfg.get("resize_mode", "shortest")
        self.fill = int(cfg.get("fill_color", 0))
        bilinear = cfg.get("interpolation") == "bilinear"
        self.resample = Image.Resampling.BILINEAR if bilinear else Image.Resampling.BICUBIC
        mean = np.asarray(cfg.get("mean"), dtype=np.float32).reshape(1, 1, -1)
        std = np.asarray(cfg.get("std"), dtype=np.float32).reshape(1, 1, -1)
        self._scale = 1.0 / (255.0 * std)
        self._offset = mean / std

    def __call__(self, img: Image.Image) -> np.ndarray:
        img = img if img.mode == "RGB" else img.convert("RGB")
        if self.resize_mode == "squash":
            img = img.resize((self.width, self.height), self.resample)
        elif self.resize_mode == "longest":
            img = self._fit_inside(img)
        else:
            img = self._center_crop(self._resize_shortest(img))
        pixels = np.asarray(img, dtype=np.float32)
        return np.ascontiguousarray((pixels * self._scale - self._offset).transpose(2, 0, 1))

    def _resize_shortest(self, img: Image.Image) -> Image.Image:
        w, h = img.size
        if self.width == self.height:
            # Same arithmetic as torchvision's Resize(int): the long side is truncated.
            short, long = (w, h) if w <= h else (h, w)
            new_long = int(self.width * long / short)
            size = (self.width, new_long) if w <= h else (new_long, self.width)
        else:
            scale = max(self.width / w, self.height / h)
            size = (max(self.width, round(w * scale)), max(self.height, round(h * scale)))
        return img if size == img.size else img.resize(size, self.resample)

    def _center_crop(self, img: Image.Image) -> Image.Image:
        w, h = img.size
        top = round((h - self.height) / 2.0)
        left = round((w - self.width) / 2.0)
        return img.crop((left, top, left + self.width, top + self.height))

    def _fit_inside(self, img: Image.Image) -> Image.Image:
        w, h = img.size
        scale = min(self.width / w, self.height / h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        canvas = Image.new("RGB", (self.width, self.height), (self.fill,) * 3)
        offset = ((self.width - size[0]) // 2, (self.height - size[1]) // 2)
        canvas.paste(img.resize(size, self.resample), offset)
        return canvas
