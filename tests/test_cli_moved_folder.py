"""A watched folder renamed by the user: `index` names it once, and removing it keeps what was imported."""

from __future__ import annotations

import json

from photosearch.cli import main
from tests.conftest import TINY_MODEL, make_photos


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_renamed_folder_is_named_by_index_and_removing_it_keeps_its_captions(tmp_path, capsys):
    a, b = tmp_path / "rn" / "A", tmp_path / "rn" / "B"
    for i, made in enumerate(make_photos(a, 5)):
        made.rename(a / f"p{i}.jpg")
    lib = ["--library", str(tmp_path / "lib"), "--model", TINY_MODEL, "--pretrained", "random", "--offline"]
    assert run(capsys, *lib, "index", str(a))[0] == 0
    (tmp_path / "c.csv").write_text(f"image,caption\n{a / 'p0.jpg'},grandma birthday party\n", encoding="utf-8")
    assert run(capsys, *lib, "captions", "import", str(tmp_path / "c.csv"))[0] == 0
    a.rename(b)
    code, out, _ = run(capsys, *lib, "index", str(b))
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("added 5, updated 0, moved 0, removed 0, encoded 0, offline 5")
    hint = f"{a} is offline and its 5 photos are in {b}: if it moved, remove it with `photosearch folders remove {a}`"
    assert lines[1:] == [hint]
    code, out, _ = run(capsys, *lib, "--json", "index")
    assert json.loads(out)["moved_folders"] == [{"path": str(a), "photos": 5, "found": 5, "in": str(b)}]
    code, out, _ = run(capsys, *lib, "--json", "search", "grandma", "-k", "10")
    found = json.loads(out)
    assert sorted(r["path"] for r in found) == sorted(str(b / f"p{i}.jpg") for i in range(5))  # each photo once
    assert run(capsys, *lib, "folders", "remove", str(a))[0] == 0
    code, out, _ = run(capsys, *lib, "--json", "search", "grandma", "-k", "3")
    first = json.loads(out)[0]
    assert (first["path"], first["caption"]) == (str(b / "p0.jpg"), "grandma birthday party")
    code, out, _ = run(capsys, *lib, "index")
    assert len(out.splitlines()) == 1  # nothing offline any more: no hint


def test_status_lists_as_many_skipped_files_as_it_counts_after_a_rename(tmp_path, capsys):
    """The count leaves out the skipped files of an offline folder; the list left them in, so after a
    rename every skipped file was listed twice under a count half that size."""
    a, b = tmp_path / "rn" / "A", tmp_path / "rn" / "B"
    make_photos(a, 2)
    (a / "broken.jpg").write_bytes(b"not a photo")
    lib = ["--library", str(tmp_path / "lib"), "--model", TINY_MODEL, "--pretrained", "random", "--offline"]
    assert run(capsys, *lib, "index", str(a))[0] == 0
    a.rename(b)
    assert run(capsys, *lib, "index", str(b))[0] == 0
    code, out, _ = run(capsys, *lib, "--json", "status", "--skipped")
    data = json.loads(out)
    assert code == 0 and data["photos"]["skipped"] == 1
    assert [f["path"] for f in data["skipped_files"]] == [str(b / "broken.jpg")]
