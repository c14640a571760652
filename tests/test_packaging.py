"""The installer recipes' data (package resources, desktop entry, AppStream file, Info.plist) and the
bundle's rules for what it leaves out, checked against the installed packages without a build."""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import plistlib
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
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


def _bundle_rules():
    path = ROOT / "packaging" / "pyinstaller" / "bundle_rules.py"
    spec = importlib.util.spec_from_file_location("bundle_rules", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)  # a hard link: no second 180 MB of OpenVINO on disk
    except OSError:
        shutil.copy2(src, dst)


_OPENVINO_RUN = """
import json, sys
from pathlib import Path
import numpy as np, onnx
from onnx import TensorProto, helper
from photosearch.core.backends import openvino as ov_backend

export = Path(sys.argv[1])
for tower, kind in (("image", TensorProto.FLOAT), ("text", TensorProto.INT64)):
    x = helper.make_tensor_value_info("x", kind, [2, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], [float(v) for v in np.arange(16)])
    nodes = [helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT),
             helper.make_node("MatMul", ["xf", "w"], ["y"])]
    graph = helper.make_graph(nodes, tower, [x], [y], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    (export / tower).mkdir(parents=True)
    onnx.save(model, str(export / tower / "model.onnx"))
folder = ov_backend.convert(export, print)
backend = ov_backend.OpenVinoBackend(folder, "f32")
image = backend.encode_images(np.ones((2, 4), np.float32))
text = backend.encode_texts(np.ones((2, 4), np.int64))
import openvino
print(json.dumps({"image": image.tolist(), "text": text.tolist(), "precision": ov_backend.best_precision(),
                  "openvino": openvino.__file__, "torch": "torch" in sys.modules}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LD_DEBUG is glibc's")
def test_bundled_openvino_converts_and_runs_our_export_with_what_the_rules_keep(tmp_path: Path) -> None:
    # The bundle's OpenVINO: the installed package minus what bundle_rules leaves out. The app's own
    # convert + compile + infer must work from it alone, load no library the rules drop, import no torch.
    openvino = pytest.importorskip("openvino")
    pytest.importorskip("onnx")
    rules = _bundle_rules()
    installed = Path(openvino.__file__).parent
    dropped = sorted(p.name for p in installed.rglob("*") if p.is_file() and rules.left_out(p.name))
    assert "libopenvino_intel_gpu_plugin.so" in dropped and "libopenvino_pytorch_frontend.so.2641" in dropped
    site = tmp_path / "site"
    shutil.copytree(installed, site / "openvino", copy_function=_link_or_copy,
                    ignore=lambda _dir, names: [n for n in names if rules.left_out(n) or n == "__pycache__"])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "LD_DEBUG": "libs"}
    done = subprocess.run([sys.executable, "-c", _OPENVINO_RUN, str(tmp_path / "export")],
                          capture_output=True, text=True, timeout=300, env=env)
    messages = [line for line in done.stderr.splitlines() if not re.match(r"\s*\d+:", line)]  # not LD_DEBUG's
    assert done.returncode == 0, "\n".join(messages[-30:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["openvino"]).parent == site / "openvino"  # the trimmed copy, not the installed one
    expected = (np.ones((2, 4)) @ np.arange(16).reshape(4, 4)).tolist()
    assert result["image"] == expected and result["text"] == expected
    assert result["precision"] in ("bf16", "f32")
    assert result["torch"] is False  # convert_model found the ONNX frontend: no probe of the PyTorch one
    loaded = set(re.findall(r"calling init: (\S+)", done.stderr))
    openvino_libs = {Path(p).name for p in loaded if "openvino" in p}
    assert "libopenvino_intel_cpu_plugin.so" in openvino_libs and "libopenvino_onnx_frontend.so.2641" in openvino_libs
    assert not [name for name in openvino_libs if rules.left_out(name)]


def _needed(library: Path) -> list[str]:
    dump = subprocess.run(["objdump", "-p", str(library)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"^\s*NEEDED\s+(\S+)", dump, flags=re.MULTILINE)


@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("objdump"), reason="ELF, binutils")
def test_bundle_rules_keep_every_library_torch_and_openvino_link() -> None:
    # A left-out library that something links would make `import torch` (or openvino) fail in the bundle.
    rules = _bundle_rules()
    roots = []
    for package in ("torch", "openvino"):
        found = importlib.util.find_spec(package)
        if found and found.origin:
            roots.append(Path(found.origin).parent)
    if not roots:
        pytest.skip("neither torch nor openvino is installed")
    site = roots[0].parent
    linked = {}
    for library in [p for r in roots for p in (r / "lib", r / "libs") if p.is_dir() for p in p.glob("*.so*")]:
        if not rules.left_out(library.name):  # what the bundle ships must find everything it links
            for name in _needed(library):
                linked.setdefault(name, library.name)
    for nvidia_lib in (site / "nvidia").glob("*/lib/*.so*") if (site / "nvidia").is_dir() else []:
        if nvidia_lib.name in linked and not rules.left_out(nvidia_lib.name):
            for name in _needed(nvidia_lib):
                linked.setdefault(name, nvidia_lib.name)
    assert "libcudnn.so.9" in linked or "torch" not in str(roots)  # the CUDA build links cuDNN's loader
    wrongly_dropped = {name: by for name, by in linked.items() if rules.left_out(name)}
    assert not wrongly_dropped


def test_bundle_rules_drop_only_named_extras() -> None:
    rules = _bundle_rules()
    for kept in ("libcudnn.so.9", "libcublasLt.so.13", "libnccl.so.2", "libtorch_cuda.so", "libopenvino.so.2641",
                 "libopenvino_intel_cpu_plugin.so", "libopenvino_onnx_frontend.so.2641",
                 "libopenvino_ir_frontend.so.2641", "py_onnx_frontend.cpython-311-x86_64-linux-gnu.so", "libtbb.so.12",
                 "torch_shm_manager"):
        assert not rules.left_out(kept), kept
    for dropped in ("libcudnn_engines_precompiled.so.9", "libcusolver.so.12", "libopenvino_intel_npu_plugin.so",
                    "libopenvino_tensorflow_frontend.so.2641", "py_pytorch_frontend.cpython-311-x86_64-linux-gnu.so",
                    "protoc", "protoc-3.21.12.0"):
        assert rules.left_out(dropped), dropped


@pytest.mark.parametrize("script", ["linux/build.sh", "macos/build.sh", "windows/build.ps1"])
def test_every_build_replaces_opencv_python_by_the_headless_cv2(script: str) -> None:
    # The spec refuses to build while opencv-python is installed; each build script must swap it first.
    assert _bundle_rules().NOT_IN_BUILD == ("opencv-python",)
    text = (ROOT / "packaging" / script).read_text(encoding="utf-8")
    install = text.index("pyinstaller==")
    swap = text.index("uninstall -q -y opencv-python opencv-python-headless")
    assert install < swap < text.index('install -q "opencv-python-headless==') < text.index("make_icons.py")


@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("strip"), reason="ELF, binutils")
def test_stripping_removes_the_symbol_table_and_the_module_still_imports(tmp_path: Path) -> None:
    # The spec strips every collected binary that has a .symtab; the result must still load.
    rules = _bundle_rules()
    regex_spec = importlib.util.find_spec("regex._regex")
    if not regex_spec or not regex_spec.origin or not rules.has_symtab(regex_spec.origin):
        pytest.skip("needs regex's extension module shipped with its symbol table")
    original = Path(regex_spec.origin)
    stripped = tmp_path / original.name
    subprocess.run([*rules.STRIP_COMMAND, "-o", str(stripped), str(original)], check=True)
    assert not rules.has_symtab(stripped)
    assert stripped.stat().st_size < original.stat().st_size
    code = "import _regex, sys; assert _regex.__file__.startswith(sys.argv[1]), _regex.__file__"
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=120)
    assert done.returncode == 0, done.stderr
    (tmp_path / "not-elf.txt").write_text("text", encoding="utf-8")
    assert not rules.has_symtab(tmp_path / "not-elf.txt")


def _load_segments_aligned(path: Path) -> bool:
    # What the dynamic loader checks for each PT_LOAD segment: offset and address agree modulo p_align.
    data = path.read_bytes()[:65536]
    phoff = int.from_bytes(data[0x20:0x28], "little")
    entry_size, count = int.from_bytes(data[0x36:0x38], "little"), int.from_bytes(data[0x38:0x3A], "little")
    for index in range(count):
        header = data[phoff + index * entry_size: phoff + (index + 1) * entry_size]
        if int.from_bytes(header[0:4], "little") != 1:  # PT_LOAD
            continue
        offset, vaddr = int.from_bytes(header[8:16], "little"), int.from_bytes(header[16:24], "little")
        align = int.from_bytes(header[48:56], "little")
        if align > 1 and offset % align != vaddr % align:
            return False
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("strip"), reason="ELF, binutils")
def test_the_libraries_the_spec_strips_stay_loadable(tmp_path: Path) -> None:
    # Stripping a library patchelf has rewritten (auditwheel's *.libs) can misalign its segments, which
    # is why the spec strips only the named ones; each must still have aligned segments once stripped.
    torch_spec = importlib.util.find_spec("torch")
    if not torch_spec or not torch_spec.origin:
        pytest.skip("torch is not installed")
    rules = _bundle_rules()
    library = Path(torch_spec.origin).parent / "lib" / "libtorch_python.so"
    if not library.is_file() or not rules.has_symtab(library):
        pytest.skip("this torch's libtorch_python.so has no symbol table to strip")
    assert library.name in rules.UNSTRIPPED
    stripped = tmp_path / library.name
    subprocess.run([*rules.STRIP_COMMAND, "-o", str(stripped), str(library)], check=True)
    assert not rules.has_symtab(stripped) and _load_segments_aligned(stripped)
    assert stripped.stat().st_size < library.stat().st_size * 0.8
    assert not [name for name in rules.UNSTRIPPED if ".libs" in name]  # base names, never auditwheel's


@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("strip"), reason="ELF, binutils")
def test_the_alignment_check_agrees_with_the_dynamic_loader(tmp_path: Path) -> None:
    # numpy's auditwheel-patched OpenBLAS is the library whose stripping broke the bundle: the check
    # above must say what the loader says about it, stripped or not.
    import ctypes

    numpy_spec = importlib.util.find_spec("numpy")
    assert numpy_spec and numpy_spec.origin
    vendored = sorted((Path(numpy_spec.origin).parents[1] / "numpy.libs").glob("*openblas*.so*"))
    if not vendored:
        pytest.skip("this numpy vendors no OpenBLAS")
    stripped = tmp_path / vendored[0].name
    subprocess.run([*_bundle_rules().STRIP_COMMAND, "-o", str(stripped), str(vendored[0])], check=True)
    for library in (vendored[0], stripped):
        try:
            ctypes.CDLL(str(library))
            loads = True
        except OSError:
            loads = False
        assert _load_segments_aligned(library) == loads, library
