"""Missing xcb libraries are all named, with the command that installs them."""

from __future__ import annotations

from photosearch.ui import platform_check

LDD = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)
\tlibxkbcommon-x11.so.0 => not found
"""


def test_every_missing_library_is_read_from_ldd() -> None:
    assert platform_check.parse_ldd(LDD) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0"]


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


def test_gui_start_reports_missing_libraries_in_one_line(monkeypatch, capsys, tmp_path) -> None:
    from photosearch import cli

    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(platform_check, "missing_libraries", lambda: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    monkeypatch.setattr(platform_check.sys, "platform", "linux")
    code = cli.main(["--library", str(tmp_path / "lib"), "gui"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "libxcb-icccm.so.4, libxcb-keysyms.so.1" in err
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in err
