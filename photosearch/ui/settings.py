"""The desktop app's settings: a small JSON file in config_dir() (plain Python, no Qt).

The library is the source of truth for watched folders; they are mirrored here so a user's
config dir alone says what the app watches (and survives a library being rebuilt).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from photosearch.core.paths import config_dir
from photosearch.core.presets import PRESETS, ModelPreset, preset_for  # noqa: F401 (the UI imports them from here)

SETTINGS_NAME = "settings.json"


DEVICES = ("auto", "cpu", "cuda", "mps")
THUMB_MIN, THUMB_MAX, THUMB_DEFAULT = 96, 320, 160


@dataclass
class Settings:
    # None: use whatever model the library was indexed with (the core's own default for a new one).
    model: str | None = None
    pretrained: str | None = None
    device: str = "auto"
    offline: bool = False  # never download model weights (the CLI's --offline)
    thumb_size: int = THUMB_DEFAULT
    results_per_page: int = 200
    folders: list[str] = field(default_factory=list)
    window_geometry: str | None = None  # hex of QWidget.saveGeometry()
    read_text: bool = True  # read the words in photos (OCR) after indexing, so they can be searched

    @classmethod
    def path(cls) -> Path:
        return config_dir() / SETTINGS_NAME

    @classmethod
    def load(cls) -> Settings:
        """The saved settings; unknown keys and bad values fall back to defaults (never fails)."""
        try:
            raw = json.loads(cls.path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        settings = cls(**{k: v for k, v in raw.items() if k in known})
        return settings.validated()

    def validated(self) -> Settings:
        defaults = Settings()
        if self.device not in DEVICES:
            self.device = defaults.device
        self.offline = self.offline is True
        self.read_text = self.read_text is not False
        if not isinstance(self.thumb_size, int):
            self.thumb_size = defaults.thumb_size
        self.thumb_size = max(THUMB_MIN, min(THUMB_MAX, self.thumb_size))
        if not isinstance(self.results_per_page, int) or self.results_per_page < 1:
            self.results_per_page = defaults.results_per_page
        if not isinstance(self.folders, list):
            self.folders = []
        self.folders = [str(f) for f in self.folders if isinstance(f, str)]
        return self

    def save(self) -> None:
        """Write atomically so a crash mid-save never leaves a half file."""
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(asdict(self), out, indent=2)
            os.replace(tmp, path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            raise
