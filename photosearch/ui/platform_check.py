"""Before Qt starts on Linux/X11: name every system library its xcb platform plugin lacks.

Qt itself reports only xcb-cursor0 and then aborts the process; the plugin's other dependencies
(libxcb-icccm4, libxcb-keysyms1, ...) show up one at a time after each install. Trying to load each
library the plugin links (the list below, read from `ldd` on Qt 6's libqxcb.so and libQt6XcbQpa.so)
names them all at once (no subprocess), and each maps to its Debian/Ubuntu package by the naming rule.
Also runnable: `python -m photosearch.ui.platform_check` prints the packages to install (for CI).
"""

from __future__ import annotations

import ctypes
import os
import re
import sys

XCB_LIBRARIES = (
    "libX11-xcb.so.1",
    "libX11.so.6",
    "libxcb-cursor.so.0",  # dlopened by the plugin at run time
    "libxcb-icccm.so.4",
    "libxcb-image.so.0",
    "libxcb-keysyms.so.1",
    "libxcb-randr.so.0",
    "libxcb-render-util.so.0",
    "libxcb-render.so.0",
    "libxcb-shape.so.0",
    "libxcb-shm.so.0",
    "libxcb-sync.so.1",
    "libxcb-util.so.1",
    "libxcb-xfixes.so.0",
    "libxcb-xkb.so.1",
    "libxcb.so.1",
    "libxkbcommon-x11.so.0",
    "libxkbcommon.so.0",
)


def _loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries() -> list[str]:
    return sorted(name for name in XCB_LIBRARIES if not _loadable(name))


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
