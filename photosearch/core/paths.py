"""Where PhotoSearch keeps its files (platformdirs), with overrides for tests and power users."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "PhotoSearch"


def library_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The library folder: --library, else $PHOTOSEARCH_LIBRARY, else the user data dir."""
    chosen = override or os.environ.get("PHOTOSEARCH_LIBRARY")
    if chosen:
        return Path(chosen).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Rebuildable files (exported ONNX models); $PHOTOSEARCH_CACHE overrides."""
    chosen = os.environ.get("PHOTOSEARCH_CACHE")
    if chosen:
        return Path(chosen).expanduser().resolve()
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """User settings of the desktop app; $PHOTOSEARCH_CONFIG overrides."""
    chosen = os.environ.get("PHOTOSEARCH_CONFIG")
    if chosen:
        return Path(chosen).expanduser().resolve()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
