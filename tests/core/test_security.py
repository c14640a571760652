"""Security: no shell with photo paths, no unpickling, caption paths stay put, no network when offline.

(A .pt checkpoint holding a pickled callable is refused: tests/core/test_encoder.py
test_pickled_objects_are_refused covers it.)
"""

from __future__ import annotations

import ast
import json
import socket
from pathlib import Path

import pytest

import photosearch
from photosearch.cli import main
from photosearch.core.caption_files import read_caption_csv
from photosearch.core.encoder import ModelSpec, load_encoder
from photosearch.core.errors import PhotoSearchError
from photosearch.core.library import Library
from tests.conftest import TINY_MODEL, make_photo

PACKAGE = Path(photosearch.__file__).parent
_SHELL_CALLS = {
    ("os", "system"),
    ("os", "popen"),
    ("os", "startfile"),
    ("asyncio", "create_subprocess_shell"),
    ("asyncio", "create_subprocess_exec"),
}
_FORBIDDEN_MODULES = {"subprocess", "pty", "commands", "pickle", "cPickle", "marshal", "shelve", "dill"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _offences(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [f"{where} imports {a.name}" for a in node.names if a.name.split(".")[0] in _FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in _FORBIDDEN_MODULES:
                found.append(f"{where} imports from {node.module}")
            if node.module == "os":
                found += [f"{where} imports os.{a.name}" for a in node.names if (("os", a.name) in _SHELL_CALLS)]
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            parts = tuple(name.rsplit(".", 1)) if "." in name else ("", name)
            if parts in _SHELL_CALLS or name.startswith(("os.exec", "os.spawn", "os.posix_spawn")):
                found.append(f"{where} calls {name}")
            if name.endswith("QProcess") or name.endswith("QProcess.startDetached"):
                found.append(f"{where} starts a process ({name})")
            for kw in node.keywords:
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    found.append(f"{where} passes shell= to {name}")
            if name.endswith("torch.load") or (name == "load" and "torch" in ast.unparse(node.func)):
                safe = any(
                    kw.arg == "weights_only" and isinstance(kw.value, ast.Constant) and kw.value.value is True
                    for kw in node.keywords
                )
                if not safe:
                    found.append(f"{where} calls torch.load without weights_only=True")
    return found


def test_no_shell_no_processes_no_unpickling_anywhere_in_the_package():
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 20
    offences = [o for path in sources for o in _offences(path)]
    assert offences == []


def test_the_source_scan_catches_what_it_should(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text(
        "import subprocess\nimport os\nfrom os import system\nimport torch\n"
        "os.system('ls ' + p)\nsubprocess.run(f'convert {p}', shell=True)\nos.popen(p)\n"
        "os.execvp('x', ['x'])\ntorch.load(p)\ntorch.load(p, weights_only=True)\n",
        encoding="utf-8",
    )
    found = _offences(bad, tmp_path)
    assert [f.split(" ", 1)[0] for f in found] == [f"probe.py:{n}" for n in (1, 3, 5, 6, 7, 8, 9)], found


# ------------------------------------------------------------------ network


@pytest.fixture
def no_network(monkeypatch):
    attempts: list[str] = []

    def refuse(name):
        def blocked(*args, **kwargs):
            attempts.append(f"{name}{args[1:] if name.startswith('socket.') else args}")
            raise OSError("network access attempted in an offline test")

        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    yield attempts


def test_index_search_and_captions_make_no_network_calls(no_network, tmp_path, capsys):
    photos = tmp_path / "photos"
    for i in range(4):
        make_photo(photos / f"p{i}.jpg", seed=i)
    (photos / "p0.txt").write_text("a sidecar caption about a lighthouse", encoding="utf-8")
    (tmp_path / "captions.csv").write_text("image,description\nphotos/p1.jpg,a red boat\n", encoding="utf-8")
    lib = Library(tmp_path / "lib", model=TINY_MODEL, pretrained="random", offline=True)
    try:
        lib.add_folder(photos)
        assert lib.index().encoded == 4
        assert len(lib.search_text("a boat -car", k=4)) == 4
        assert lib.search_image(photos / "p2.jpg", k=1)[0].path == str(photos / "p2.jpg")
        assert lib.import_captions(tmp_path / "captions.csv")["imported"] == 1
        assert lib.search_captions("lighthouse")
        assert lib.search_captions(image=photos / "p1.jpg")
    finally:
        lib.close()
    code = main(["--library", str(tmp_path / "lib"), "--offline", "--json", "search", "boat", "-k", "2"])
    assert code == 0 and len(json.loads(capsys.readouterr().out)) == 2
    assert no_network == []


def test_offline_forbids_even_the_model_download(no_network):
    with pytest.raises(PhotoSearchError) as caught:
        load_encoder(ModelSpec("RN50", "openai"), device="cpu", offline=True)
    assert "\n" not in str(caught.value)
    assert no_network == []


# ------------------------------------------------------------------ caption CSV paths


def test_caption_csv_paths_resolve_inside_its_folder_and_must_be_files(tmp_path):
    album = tmp_path / "album"
    make_photo(album / "real" / "a.jpg", seed=1)
    (album / "inside_link").symlink_to(album / "real", target_is_directory=True)
    (album / "folder.jpg").mkdir()
    outside = make_photo(tmp_path / "secret" / "s.jpg", seed=2)
    (album / "out_link").symlink_to(outside.parent, target_is_directory=True)
    csv = album / "c.csv"
    csv.write_text(
        "image,description\n"
        "inside_link/a.jpg,through a link that stays inside\n"  # 2
        "folder.jpg,a folder named like a photo\n"  # 3
        "out_link/s.jpg,through a link that leads out\n"  # 4
        f"{outside},absolute paths are taken as written\n"  # 5
        "./real/../real/a.jpg,dots are fine\n"  # 6
        "/definitely/not/here.jpg,absolute but missing\n"  # 7
        "~/a.jpg,no home expansion\n",  # 8
        encoding="utf-8",
    )
    result = read_caption_csv(csv)
    a = str((album / "real" / "a.jpg").resolve())
    assert result.rows == [
        (a, "through a link that stays inside"),
        (str(outside.resolve()), "absolute paths are taken as written"),
        (a, "dots are fine"),
    ]
    assert result.missing == [(3, "folder.jpg"), (7, "/definitely/not/here.jpg"), (8, "~/a.jpg")]
    assert result.rejected == [(4, "path leads outside the CSV's folder")]
