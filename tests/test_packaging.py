"""The installer recipes' data: package resources, desktop entry, AppStream file, Info.plist."""

from __future__ import annotations

import configparser
import importlib.util
import os
import plistlib
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import photosearch

ROOT = Path(__file__).resolve().parents[1]
PACKAGED = Path(photosearch.__file__).parent / "resources"
SHARED = ("photosearch.svg", "photosearch.desktop", "org.photosearch.PhotoSearch.metainfo.xml")


def _desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


@pytest.mark.parametrize("name", SHARED)
def test_package_resources_are_the_repository_resources(name: str) -> None:
    # The wheel carries copies (package data); resources/ stays the one the installers read.
    assert (PACKAGED / name).read_bytes() == (ROOT / "resources" / name).read_bytes()


def test_desktop_entry_declares_no_file_types_the_app_cannot_open() -> None:
    entry = _desktop_entry(ROOT / "resources" / "photosearch.desktop")
    assert "MimeType" not in entry  # `gui` takes no file argument
    assert entry["Exec"] == "photosearch gui"  # installers rewrite it to an absolute path
    assert entry["Icon"] == "photosearch"


def test_metainfo_names_this_version_and_the_desktop_entry() -> None:
    tree = ET.parse(ROOT / "resources" / "org.photosearch.PhotoSearch.metainfo.xml")
    versions = [r.get("version") for r in tree.getroot().iter("release")]
    assert versions and versions[0] == photosearch.__version__
    assert tree.getroot().findtext("launchable") == "photosearch.desktop"


def test_info_plist_is_a_valid_plist_with_version_and_bundle_id() -> None:
    spec = importlib.util.spec_from_file_location("info_plist", ROOT / "packaging" / "macos" / "info_plist.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = plistlib.loads(plistlib.dumps(module.info_plist(photosearch.__version__, "PhotoSearch")))
    assert data["CFBundleShortVersionString"] == photosearch.__version__
    assert data["CFBundleIdentifier"] == "org.photosearch.PhotoSearch"
    assert data["CFBundleExecutable"] == "PhotoSearch"
    assert data["NSDesktopFolderUsageDescription"]


def test_inno_setup_script_takes_its_version_from_the_build() -> None:
    iss = (ROOT / "packaging" / "windows" / "photosearch.iss").read_text(encoding="utf-8")
    assert "PrivilegesRequired=lowest" in iss  # per-user install, no admin rights
    assert '#define AppVersion GetEnv("PHOTOSEARCH_VERSION")' in iss
    assert "photosearch.ico" in iss


@pytest.mark.skipif(sys.platform == "win32" or not shutil.which("sh"), reason="POSIX shell script")
def test_install_desktop_entry_writes_the_absolute_program_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "my venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"  # a venv's python: this one, with photosearch importable
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    python.chmod(0o755)
    program = bin_dir / "photosearch-gui"
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    subprocess.run(
        ["sh", str(ROOT / "packaging" / "linux" / "install-desktop-entry.sh"), str(program)],
        check=True, cwd=tmp_path, env=env, capture_output=True,
    )
    entry = _desktop_entry(tmp_path / "data" / "applications" / "photosearch.desktop")
    assert entry["Exec"] == f'"{program}"'  # quoted: the path has a space
    assert (tmp_path / "data" / "icons" / "hicolor" / "scalable" / "apps" / "photosearch.svg").is_file()


def test_frozen_launcher_turns_cudnn_off_even_after_a_plain_lookup() -> None:
    # The bundle ships no cuDNN engines; the device check looks torch up before importing it.
    code = f"""
import importlib.util, sys
src = open({str(ROOT / "packaging" / "pyinstaller" / "launch.py")!r}, encoding="utf-8").read()
namespace = {{}}
exec(compile(src[: src.index("if getattr(sys, 'frozen'".replace("'", '"'))], "launch.py", "exec"), namespace)
sys.meta_path.insert(0, namespace["_TorchWithoutCuDNN"]())
assert importlib.util.find_spec("torch") is not None
import torch
print(torch.backends.cudnn.enabled)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
