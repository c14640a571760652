"""The command line against hostile names, captions and arguments: safe text, exact JSON, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from photosearch.cli import main
from tests.conftest import TINY_MODEL, make_photo

MODEL = ["--model", TINY_MODEL, "--pretrained", "random", "--backend", "torch"]
ODD = os.fsdecode(b"caf\xe9.jpg")


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse refusing an argument
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def odd_library(tmp_path, capsys):
    folder = tmp_path / "d"
    make_photo(folder / "a.jpg", seed=1)
    make_photo(folder / ODD, seed=2)
    evil = "Nice\x1b]0;pwned\x07 view\x1b[2J\nphotosearch: fake line\u202egpj.exe"
    (folder / "a.txt").write_text(evil)
    lib = str(tmp_path / "lib")
    code, _, err = run(capsys, "--library", lib, *MODEL, "index", str(folder))
    assert code == 0, err
    return lib, folder, evil


@pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")
def test_odd_name_and_hostile_caption_print_safely_and_json_stays_exact(odd_library, capsys):
    lib, folder, evil = odd_library
    code, out, _ = run(capsys, "--library", lib, *MODEL, "search", "photo", "-k", "5")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "caf\\xe9.jpg" in out
    assert len(out.strip().splitlines()) == 2  # the caption's newline forges no line
    assert "Nice\\x1b]0;pwned\\x07 view\\x1b[2J\\nphotosearch: fake line\\u202egpj.exe" in out
    code, out, _ = run(capsys, "--library", lib, *MODEL, "--json", "search", "photo", "-k", "5")
    data = json.loads(out)
    assert {r["path"] for r in data} == {str(folder / "a.jpg"), str(folder / ODD)}
    assert os.fsencode(next(r["path"] for r in data if r["path"].endswith("jpg") and "caf" in r["path"]))
    assert next(r["caption"] for r in data if r["caption"]) == evil
    code, out, _ = run(capsys, "--library", lib, *MODEL, "captions", "search", "view")
    assert code == 0 and "\x1b" not in out
    code, out, _ = run(capsys, "--library", lib, *MODEL, "status")
    assert code == 0 and str(folder) in out


def test_error_messages_are_made_safe(tmp_path, capsys):
    code, _, err = run(capsys, "--library", str(tmp_path / "lib"), *MODEL, "index", str(tmp_path / "no\x1b[2Jpe"))
    assert code == 2 and "\x1b" not in err and "no\\x1b[2Jpe" in err


@pytest.fixture
def plain_library(tmp_path, capsys):
    folder = tmp_path / "d"
    for i in range(3):
        make_photo(folder / f"p{i}.jpg", seed=i)
    lib = str(tmp_path / "lib")
    assert run(capsys, "--library", lib, *MODEL, "index", str(folder))[0] == 0
    return lib, folder


def test_a_query_that_begins_with_a_dash_is_an_excluded_term(plain_library, capsys):
    lib, _ = plain_library
    for args in (["-dog"], ["-k", "2", "-dog", "cat"], ["cat", "-dog", "-k2"], ["--json", "-dog"]):
        code, out, err = run(capsys, "--library", lib, *MODEL, "search", *args)
        assert code == 0, (args, err)
        assert out.strip()
    code, _, err = run(capsys, "--library", lib, *MODEL, "search", "cat", "--frobnicate")
    assert code == 2 and "frobnicate" in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308", "3.5", "-2", "abc"])
def test_min_score_must_be_a_finite_score_from_minus_1_to_3(plain_library, capsys, value):
    lib, _ = plain_library
    code, out, err = run(capsys, "--library", lib, *MODEL, "search", "cat", "--min-score", value)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "min-score" in err


def test_folder_filter_is_resolved_like_index_and_must_be_watched(plain_library, capsys, monkeypatch, tmp_path):
    lib, folder = plain_library
    monkeypatch.chdir(folder)
    for given in (".", "../d", str(folder) + "/"):
        code, out, err = run(capsys, "--library", lib, *MODEL, "--json", "search", "cat", "--folder", given)
        assert code == 0, err
        assert len(json.loads(out)) == 3, given
    code, _, err = run(capsys, "--library", lib, *MODEL, "search", "cat", "--folder", "..")
    assert code == 0  # a folder holding a watched folder is fine
    (tmp_path / "other").mkdir()
    code, out, err = run(capsys, "--library", lib, *MODEL, "search", "cat", "--folder", str(tmp_path / "other"))
    assert code == 2 and "not a watched folder" in err and out == ""


def test_overlong_names_in_csvs_are_rejected_lines_for_import_and_eval(plain_library, capsys, tmp_path):
    lib, folder = plain_library
    long_name = "n" * 300 + ".jpg"
    long_path = "/" + "/".join(["d" * 250] * 20) + "/x.jpg"
    csv_path = folder / "c.csv"
    csv_path.write_text(f"image,description\n{long_name},A\n{long_path},B\np0.jpg,A red kite\n")
    code, out, err = run(capsys, "--library", lib, *MODEL, "--json", "captions", "import", str(csv_path))
    assert code == 0, err
    report = json.loads(out)
    assert report["imported"] == 1 and report["rejected_count"] + report["missing_count"] == 2
    code, out, err = run(capsys, "--library", lib, *MODEL, "--json", "eval", str(csv_path))
    assert code == 0, err and json.loads(out)["queries"] == 1
    (folder / "bin.csv").write_bytes(b"image,description\n" + bytes(range(256)) * 8)
    code, out, err = run(capsys, "--library", lib, *MODEL, "captions", "import", str(folder / "bin.csv"))
    assert code == 0 and "Traceback" not in err


def test_too_little_address_space_is_one_line_not_a_crash(plain_library):
    lib, _ = plain_library
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (400 * 2**20, resource.RLIM_INFINITY))\n"
        "from photosearch.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, "--library", lib, "search", "cat"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("photosearch: error: not enough memory") and "GB" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_library_that_fails_to_map_for_lack_of_memory_says_so(plain_library, capsys, monkeypatch):
    lib, _ = plain_library
    import photosearch.core.library as library_module

    def fail(self):
        raise ImportError("libtorch_cuda.so: failed to map segment from shared object")

    monkeypatch.setattr(library_module.Library, "encoder", fail)
    code, _, err = run(capsys, "--library", lib, *MODEL, "search", "cat")
    assert code == 2 and "not enough memory" in err and "needs about 5.0 GB" in err and "Traceback" not in err
    monkeypatch.setattr(library_module.Library, "encoder", lambda self: (_ for _ in ()).throw(MemoryError()))
    code, _, err = run(capsys, "--library", lib, *MODEL, "search", "cat")
    assert code == 2 and "not enough memory" in err


def test_captions_search_takes_query_words_as_search_does(plain_library, capsys):
    lib, folder = plain_library
    (folder / "c.csv").write_text("image,description\np0.jpg,a cat and a dog\np1.jpg,a cat on a sofa\n")
    assert run(capsys, "--library", lib, *MODEL, "captions", "import", str(folder / "c.csv"))[0] == 0
    quoted = run(capsys, "--library", lib, *MODEL, "--json", "captions", "search", "cat -dog", "-k", "5")
    assert quoted[0] == 0 and [r["caption"] for r in json.loads(quoted[1])] == ["a cat on a sofa"]
    spellings = [
        ["cat", "-dog"],
        ["-k", "5", "cat", "-dog"],
        ["cat", "-dog", "--json", "-k", "5"],
        ["--", "cat", "-dog"],
    ]
    for args in spellings:
        code, out, err = run(capsys, "--library", lib, *MODEL, "--json", "captions", "search", *args)
        assert (code, out) == quoted[:2], (args, err)
    code, out, err = run(capsys, "--library", lib, *MODEL, "captions", "search", "-dog")
    assert code == 0 and "a cat on a sofa" in out and "a cat and a dog" not in out, err
    code, _, err = run(capsys, "--library", lib, *MODEL, "captions", "search", "cat", "--image", str(folder / "p0.jpg"))
    assert code == 2 and "not both" in err


def test_every_option_of_every_command_has_help():
    from photosearch.cli.parser import build_parser

    def parsers(parser):
        yield parser
        for action in parser._subparsers._group_actions if parser._subparsers else ():
            for sub in dict.fromkeys(action.choices.values()):
                yield from parsers(sub)

    for parser in parsers(build_parser()):
        for action in parser._actions:
            if action.option_strings and action.dest not in ("help", "version"):
                assert action.help, (parser.prog, action.option_strings)


def test_search_reads_its_own_options_as_argparse_does_and_other_dashed_words_as_exclusions(plain_library, capsys):
    lib, folder = plain_library

    def results(*args: str) -> list[dict]:
        code, out, err = run(capsys, "--library", lib, *MODEL, "--json", *args)
        assert code == 0, (args, err)
        return json.loads(out)

    assert len(results("search", "cat", "-k", "2")) == 2
    for args in (["cat", "-k2"], ["-k2", "cat"], ["cat", "--to", "2"], ["cat", "--top=2"], ["cat", "-k=2"]):
        assert len(results("search", *args)) == 2, args  # -k2 is -k 2, --to an abbreviation of --top
    assert len(results("captions", "search", "cat", "-k1")) <= 1
    every = results("search", "cat", "--folder", str(folder))
    assert results("search", "cat", "--fold", str(folder)) == every == results("search", "cat", f"--fo={folder}")
    assert len(every) == 3
    # Words that are no option of search stay excluded terms, however they look.
    for args in (["dog -k9"], ["cat", "-kitten"], ["-k-9"], ["--", "-k9"]):
        assert len(results("search", *args)) == 3, args
    assert len(run(capsys, "--library", lib, *MODEL, "search", "cat", "--js")[1].splitlines()) == 1  # --json
    code, _, err = run(capsys, "--library", lib, *MODEL, "search", "cat", "-k0")
    assert code == 2 and "must be at least 1" in err
    code, _, err = run(capsys, "--library", lib, *MODEL, "search", "cat", "--m", "0.1")
    assert code == 2 and "ambiguous" in err  # --model or --min-score: argparse says so
    assert len(results("--lib", lib, "search", "-dog", "-k2")) == 2  # an abbreviated global before the command
