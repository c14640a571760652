"""Before Qt starts on Linux/X11: name every system library its xcb platform plugin lacks.

Qt itself reports only xcb-cursor0 and then aborts the process; the plugin's other dependencies
(libxcb-icccm4, libxcb-keysyms1, ...) show up one at a time after each install. `ldd` on the
plugin lists them all at once, and each maps to its Debian/Ubuntu package by the usual naming rule.
Also runnable: `python -m photosearch.ui.platform_check` prints the packages to install (for CI).
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Loaded by the plugin at run time (dlopen), so ldd cannot see it.
DLOPENED = ("libxcb-cursor.so.0",)
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def _plugin_files() -> list[Path]:
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    return [p for p in (qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6") if p.exists()]


def parse_ldd(output: str) -> list[str]:
    return _NOT_FOUND.findall(output)


def _loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries() -> list[str]:
    missing: set[str] = set()
    ldd = shutil.which("ldd")
    for path in _plugin_files() if ldd else []:
        done = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=30, check=False)
        missing.update(parse_ldd(done.stdout))
    missing.update(name for name in DLOPENED if not _loadable(name))
    return sorted(missing)


def debian_package(soname: str) -> str:
    """libxcb-icccm.so.4 -> libxcb-icccm4; libxkbcommon-x11.so.0 -> libxkbcommon-x11-0 (Debian policy)."""
    match = re.match(r"^(lib[\w.+-]+?)\.so\.(\d+)", soname)
    if not match:
        return soname
    name, version = match.groups()
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def wants_xcb(env: dict[str, str] | None = None) -> bool:
    env = dict(os.environ) if env is None else env
    if not sys.platform.startswith("linux"):
        return False
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0].split(";")[0] == "xcb"
    return env.get("XDG_SESSION_TYPE", "") != "wayland" or not env.get("WAYLAND_DISPLAY")


def xcb_problem(missing: list[str] | None = None) -> str | None:
    """One line naming the missing libraries and the install command; None when nothing is missing."""
    missing = missing_libraries() if missing is None else missing
    if not missing:
        return None
    packages = " ".join(sorted({debian_package(m) for m in missing}))
    return (
        f"the desktop app cannot start: Qt's X11 support needs {', '.join(missing)}, which "
        f"{'is' if len(missing) == 1 else 'are'} not installed; on Debian or Ubuntu run: sudo apt install {packages}"
    )


if __name__ == "__main__":
    print(" ".join(sorted({debian_package(m) for m in missing_libraries()})))
