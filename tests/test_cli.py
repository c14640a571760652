"""The command-line contract: JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from photosearch.cli import main
from tests.conftest import TINY_MODEL, make_photos


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli_library(tmp_path, photos_dir, capsys):
    lib = str(tmp_path / "lib")
    code, out, _ = run(
        capsys, "--library", lib, "--model", TINY_MODEL, "--pretrained", "random", "--json", "index", str(photos_dir)
    )
    assert code == 0, out
    return lib


def test_index_json_shape(tmp_path, photos_dir, capsys):
    (photos_dir / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    lib = str(tmp_path / "lib")
    code, out, _ = run(
        capsys, "--library", lib, "--model", TINY_MODEL, "--pretrained", "random", "--json", "index", str(photos_dir)
    )
    assert code == 0
    data = json.loads(out)
    assert {"added", "updated", "removed", "moved", "encoded", "skipped"} <= set(data)
    assert data["added"] == 10 and data["encoded"] == 9
    assert data["skipped"] == [{"path": str(photos_dir / "broken.jpg"), "reason": data["skipped"][0]["reason"]}]
    # Global options after the command work too, and the library remembers its model.
    code, out, _ = run(capsys, "index", "--library", lib, "--json")
    assert code == 0 and json.loads(out)["encoded"] == 0


def test_search_json_is_sorted_list(cli_library, capsys):
    code, out, _ = run(capsys, "--library", cli_library, "--json", "search", "a dog", "-k", "5")
    assert code == 0
    results = json.loads(out)
    assert len(results) == 5
    # The contract of issue 11 (every earlier field kept): date as ISO 8601 or null, why a list.
    assert all({"path", "score", "caption", "date", "why"} <= set(r) for r in results)
    assert all(isinstance(r["why"], list) for r in results)
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_similar_and_captions_json(cli_library, photos_dir, tmp_path, capsys):
    code, out, _ = run(
        capsys, "--library", cli_library, "--json", "similar", str(photos_dir / "photo_0001.jpg"), "-k", "3"
    )
    assert code == 0 and json.loads(out)[0]["path"] == str(photos_dir / "photo_0001.jpg")
    csv_path = tmp_path / "caps.csv"
    csv_path.write_text("image,caption\nphotos/photo_0001.jpg,a sailing boat at dawn\n", encoding="utf-8")
    code, out, _ = run(capsys, "--library", cli_library, "--json", "captions", "import", str(csv_path))
    assert code == 0 and json.loads(out)["imported"] == 1
    code, out, _ = run(capsys, "--library", cli_library, "--json", "captions", "search", "sailing boat")
    results = json.loads(out)
    assert code == 0 and results[0] == {
        "path": str(photos_dir / "photo_0001.jpg"),
        "caption": "a sailing boat at dawn",
        "score": results[0]["score"],
        "source": "csv",
    }
    code, out, _ = run(
        capsys, "--library", cli_library, "--json", "captions", "search", "--image", str(photos_dir / "photo_0001.jpg")
    )
    assert code == 0 and json.loads(out)[0]["caption"] == "a sailing boat at dawn"


def test_captions_search_shows_copies_of_a_photo_as_one_row(cli_library, photos_dir, capsys):
    import shutil

    from photosearch.core import ocr
    from photosearch.core.store import Store

    (photos_dir / "copy").mkdir()
    shutil.copy(photos_dir / "photo_0002.jpg", photos_dir / "copy" / "same.jpg")
    assert run(capsys, "--library", cli_library, "index", "--no-ocr")[0] == 0
    store = Store(Path(cli_library))
    with store.write() as conn:  # the text-in-photo pass, for that content
        conn.execute(
            "INSERT OR REPLACE INTO ocr_text(fingerprint, text, engine, done_at) "
            "SELECT fingerprint, 'HARBOUR MASTER', 't', 0 FROM photos WHERE path = ?",
            (str(photos_dir / "photo_0002.jpg"),),
        )
    ocr.sync_captions(store)
    store.close()
    assert run(capsys, "--library", cli_library, "index", "--no-ocr")[0] == 0  # embeds the two rows
    code, out, _ = run(capsys, "--library", cli_library, "captions", "search", "harbour master")
    lines = [line for line in out.splitlines() if "HARBOUR MASTER" in line]
    assert code == 0 and len(lines) == 1 and lines[0].endswith("HARBOUR MASTER  (+1 copy)")
    code, out, _ = run(capsys, "--library", cli_library, "--json", "captions", "search", "harbour master")
    (row,) = [r for r in json.loads(out) if r["caption"] == "HARBOUR MASTER"]
    assert {row["path"], *row["copies"]} == {str(photos_dir / "photo_0002.jpg"), str(photos_dir / "copy" / "same.jpg")}


def test_status_and_eval_json(cli_library, tmp_path, capsys):
    code, out, _ = run(capsys, "--library", cli_library, "--json", "status")
    data = json.loads(out)
    assert code == 0
    assert {"library", "model", "device", "photos", "captions"} <= set(data)
    assert data["photos"] == {"indexed": 9, "skipped": 0, "offline": 0, "pending": 0}
    assert data["device"] == "cpu"
    csv_path = tmp_path / "eval.csv"
    csv_path.write_text("image,description\n" + "".join(f"photos/photo_000{i}.jpg,thing {i}\n" for i in range(4)))
    code, out, _ = run(capsys, "--library", cli_library, "--json", "eval", str(csv_path), "-k", "1", "5", "10")
    data = json.loads(out)
    assert code == 0 and data["queries"] == 4 and {"recall@1", "recall@5", "recall@10"} <= set(data)


@pytest.mark.parametrize(
    "args, message",
    [
        (["search"], "the following arguments are required"),
        (["search", "x", "-k", "0"], "must be at least 1"),
        (["similar", "/no/such/file.jpg"], "no such image"),
        (["index", "/no/such/folder"], "no such folder"),
        (["captions", "import", "/no/such.csv"], "not found"),
        (["captions", "search"], "needs a TEXT"),
        (["--device", "tpu", "status"], "invalid choice"),
    ],
)
def test_user_mistakes_exit_2_with_one_line(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(
            main(["--library", str(tmp_path / "lib"), "--model", TINY_MODEL, "--pretrained", "random", *args])
        )
    _, err = capsys.readouterr()
    assert exc.value.code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_offline_without_weights_names_pretrained_path(tmp_path, photos_dir):
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
        "PHOTOSEARCH_CACHE": str(tmp_path / "cache"),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "photosearch",
            "--library",
            str(tmp_path / "lib"),
            "--offline",
            "index",
            str(photos_dir),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("photosearch: error:")]
    assert len(errors) == 1 and "--pretrained PATH" in errors[0] and "not on disk" in errors[0]
    assert "Traceback" not in proc.stderr


def test_module_entry_point_matches_console_script(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "photosearch", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.startswith("photosearch ")


def test_index_draws_no_progress_bar_into_a_file_or_pipe(tmp_path, photos_dir, capsys):
    # stderr captured here is not a terminal: a log gets the summary, not hundreds of redrawn bars
    code, out, err = run(
        capsys, "--library", str(tmp_path / "lib"), "--model", TINY_MODEL, "--pretrained", "random", "index",
        str(photos_dir), "--no-ocr",
    )
    assert code == 0 and "added" in out
    assert "\r" not in err and "photo/s" not in err


def test_human_output_lists_skipped_files(tmp_path, capsys):
    folder = tmp_path / "p"
    make_photos(folder, 2)
    (folder / "zero.png").write_bytes(b"")
    code, out, _ = run(
        capsys,
        "--library",
        str(tmp_path / "lib"),
        "--model",
        TINY_MODEL,
        "--pretrained",
        "random",
        "index",
        str(folder),
    )
    assert code == 0
    assert "skipped 1" in out and "zero.png" in out


def test_a_bad_folder_among_several_adds_none_of_them(tmp_path, photos_dir, capsys):
    lib = ["--library", str(tmp_path / "lib"), "--model", TINY_MODEL, "--pretrained", "random"]
    for command in (["index", str(photos_dir), str(tmp_path / "nonexist")], ["folders", "add", str(photos_dir), "/no"]):
        with pytest.raises(SystemExit) as exc:
            raise SystemExit(main([*lib, *command]))
        assert exc.value.code == 2 and "no such folder" in capsys.readouterr().err
        assert run(capsys, *lib, "--json", "folders")[1].strip() == "[]", command


@pytest.mark.parametrize("command", [["status"], ["restore"], ["search", "cat"], ["index", "--library", ""]])
def test_an_empty_library_option_is_refused_not_the_default_library(tmp_path, monkeypatch, capsys, command):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # where the default library would go
    monkeypatch.setenv("PHOTOSEARCH_LIBRARY", str(tmp_path / "env-lib"))
    with pytest.raises(SystemExit) as exc:
        main(["--library", "", "--model", TINY_MODEL, "--pretrained", "random", *command])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--library" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists() and not (tmp_path / "env-lib").exists()


def test_captions_search_json_names_each_rows_source_and_ocr_text_shows_as_ocr(cli_library, photos_dir, capsys):
    from photosearch.core.store import Store

    store = Store(Path(cli_library))
    with store.write() as conn:  # what the text-in-photo pass stores for a photo with a sign in it
        conn.execute(
            "INSERT INTO captions(path, source, text) VALUES (?, 'ocr', 'HARBOUR MASTER OFFICE')",
            (str(photos_dir / "photo_0002.jpg"),),
        )
    store.close()
    code, out, _ = run(capsys, "--library", cli_library, "--json", "captions", "search", "harbour master")
    rows = json.loads(out)
    assert code == 0 and rows[0]["caption"] == "HARBOUR MASTER OFFICE" and rows[0]["source"] == "ocr"
    assert all({"path", "caption", "score", "source"} <= set(r) for r in rows)
