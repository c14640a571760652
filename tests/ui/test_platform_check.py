"""Missing xcb libraries are all named, with the command that installs them."""

from __future__ import annotations

import os
import subprocess
import sys

from photosearch.ui import platform_check


def test_every_library_that_cannot_load_is_named(monkeypatch) -> None:
    absent = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0"}
    monkeypatch.setattr(platform_check, "_loadable", lambda name: name not in absent)
    assert platform_check.missing_libraries() == sorted(absent)


def test_this_machine_can_load_what_it_has() -> None:
    assert set(platform_check.missing_libraries()) <= set(platform_check.XCB_LIBRARIES)


def test_package_names_follow_debian_naming() -> None:
    assert platform_check.debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert platform_check.debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert platform_check.debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"


def test_the_message_names_all_and_the_install_command() -> None:
    message = platform_check.xcb_problem(["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert message.endswith("sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1")
    assert platform_check.xcb_problem([]) is None


def test_only_an_xcb_start_is_checked() -> None:
    assert not platform_check.wants_xcb({"QT_QPA_PLATFORM": "offscreen"})
    assert platform_check.wants_xcb({"QT_QPA_PLATFORM": "xcb"}) == platform_check.sys.platform.startswith("linux")


def test_gui_start_reports_missing_libraries_in_one_line(tmp_path) -> None:
    # Its own process: the check runs before Qt starts, and this test process has a QApplication already.
    script = (
        "import sys; from photosearch.ui import platform_check as pc; "
        "pc.missing_libraries = lambda: ['libxcb-icccm.so.4', 'libxcb-keysyms.so.1']; "
        "pc.sys.platform = 'linux'; from photosearch import cli; sys.exit(cli.main(sys.argv[1:]))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PHOTOSEARCH_CONFIG": str(tmp_path / "config")}
    command = [sys.executable, "-c", script, "--library", str(tmp_path / "lib"), "gui"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "libxcb-icccm.so.4, libxcb-keysyms.so.1" in done.stderr
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in done.stderr
