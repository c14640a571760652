"""The search / browse / similar contract of issue 11: fused ranking with why and date, filters, sort,
combined image queries, one-line errors for bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from photosearch.cli import main
from tests.conftest import TINY_MODEL, make_photos
from tests.core.photo_meta import write_photo


def _utc(*parts: int) -> float:
    return dt.datetime(*parts, tzinfo=dt.UTC).timestamp()


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def lib(tmp_path, capsys):
    folder = tmp_path / "photos"
    make_photos(folder, 6)
    write_photo(folder / "paris-2019-eiffel.jpg", 50, taken="2019:06:01 09:00:00")
    write_photo(folder / "old" / "IMG_7.jpg", 51, taken="2004:03:03 03:03:03", keywords=["lighthouse"])
    write_photo(folder / "old" / "IMG_8.jpg", 52, mtime=_utc(2012, 8, 8))
    library = str(tmp_path / "lib")
    code, out, _ = run(
        capsys, "--library", library, "--model", TINY_MODEL, "--pretrained", "random", "--json", "index", str(folder)
    )
    assert code == 0, out
    return library, folder


def _json(capsys, *args: str) -> list[dict]:
    code, out, err = run(capsys, *args)
    assert code == 0, err
    return json.loads(out)


def test_search_json_ranks_text_evidence_first_with_why_and_date(lib, capsys):
    library, _ = lib
    rows = _json(capsys, "--library", library, "--json", "search", "eiffel", "-k", "5")
    assert Path(rows[0]["path"]).name == "paris-2019-eiffel.jpg"
    assert "filename" in rows[0]["why"] and rows[0]["date"] == "2019-06-01T09:00:00"
    assert {"path", "score", "caption", "date", "why"} <= set(rows[0])
    rows = _json(capsys, "--library", library, "--json", "search", "lighthouse", "-k", "5")
    assert Path(rows[0]["path"]).name == "IMG_7.jpg" and "keyword" in rows[0]["why"]


def test_browse_is_newest_first_with_null_scores(lib, capsys):
    library, folder = lib
    rows = _json(capsys, "--library", library, "--json", "browse", "-k", "3")
    assert [Path(r["path"]).name for r in rows][:2] != []
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates, reverse=True) and all(r["score"] is None for r in rows)
    old = _json(capsys, "--library", library, "--json", "browse", "--folder", str(folder / "old"))
    assert [Path(r["path"]).name for r in old] == ["IMG_8.jpg", "IMG_7.jpg"]
    dated = _json(capsys, "--library", library, "--json", "browse", "--after", "2004", "--before", "2012-08")
    assert [Path(r["path"]).name for r in dated] == ["IMG_8.jpg", "IMG_7.jpg"]


def test_search_filters_and_date_sort(lib, capsys):
    library, folder = lib
    rows = _json(capsys, "--library", library, "--json", "search", "photo", "--before", "2019", "--sort", "date")
    assert [Path(r["path"]).name for r in rows] == ["paris-2019-eiffel.jpg", "IMG_8.jpg", "IMG_7.jpg"]
    rows = _json(capsys, "--library", library, "--json", "search", "photo", "--folder", str(folder / "old"))
    assert {Path(r["path"]).name for r in rows} == {"IMG_7.jpg", "IMG_8.jpg"}
    best = _json(capsys, "--library", library, "--json", "search", "eiffel", "--best")
    assert [Path(r["path"]).name for r in best] == ["paris-2019-eiffel.jpg"]


def test_similar_takes_several_images_plus_minus_and_filters(lib, capsys):
    library, folder = lib
    a, b = str(folder / "photo_0001.jpg"), str(folder / "photo_0002.jpg")
    base = ["--library", library, "--json", "similar", a, b]
    plain = _json(capsys, *base, "-k", "9")
    plus = _json(capsys, *base, "-k", "9", "--plus", "at night", "--weight", "0.7")
    minus = _json(capsys, *base, "-k", "9", "--minus", "at night", "--minus-image", str(folder / "photo_0003.jpg"))
    assert len(plain) == len(plus) == len(minus) == 9
    assert [r["path"] for r in plus] != [r["path"] for r in plain]
    assert all(r["why"] is not None for r in minus)
    dated = _json(capsys, *base, "--after", "2019-06-01", "--before", "2019-06-01")
    assert [Path(r["path"]).name for r in dated] == ["paris-2019-eiffel.jpg"]


@pytest.mark.parametrize(
    "args",
    [
        ["search", "x", "--after", "2019-13"],
        ["browse", "--before", "last week"],
        ["similar", "IMAGE", "--after", "20190101"],
        ["similar", "IMAGE", "--weight", "2"],
        ["search", "x", "--sort", "size"],
        ["browse", "--after", "2021", "--before", "2019"],
        ["search", "x", "--after", "2021-05", "--before", "2021-04"],
    ],
)
def test_bad_dates_and_options_are_one_line_errors(lib, capsys, args):
    library, folder = lib
    args = [str(folder / "photo_0001.jpg") if a == "IMAGE" else a for a in args]
    code, out, err = run(capsys, "--library", library, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["browse", "--before", "9999"],
        ["browse", "--before", "9999-12"],
        ["search", "photo", "--before", "9999-12-31"],
        ["search", "photo", "--after", "0001-01-01", "--before", "9999"],
        ["browse", "--after", "0001"],
    ],
)
def test_dates_at_the_ends_of_the_calendar_hold_every_photo(lib, capsys, args):
    library, _ = lib
    assert len(_json(capsys, "--library", library, "--json", *args)) == 9
    assert _json(capsys, "--library", library, "--json", "browse", "--after", "9999-12-31") == []
    assert _json(capsys, "--library", library, "--json", "browse", "--before", "0001") == []


def test_counts_beyond_any_library_mean_all_or_none(lib, capsys):
    library, folder = lib
    huge, huger = str(2**63), "99999999999999999999"
    assert len(_json(capsys, "--library", library, "--json", "browse", "-k", huge)) == 9
    assert len(_json(capsys, "--library", library, "--json", "browse", "-k", huger, "--offset", "3")) == 6
    assert _json(capsys, "--library", library, "--json", "browse", "--offset", huger) == []
    assert len(_json(capsys, "--library", library, "--json", "search", "photo", "-k", huger)) == 9
    image = str(folder / "photo_0001.jpg")
    assert len(_json(capsys, "--library", library, "--json", "similar", image, "-k", huger)) == 9
    assert len(_json(capsys, "--library", library, "--json", "captions", "search", "photo", "-k", huger)) == 1
    (folder / "c.csv").write_text("image,description\nphoto_0001.jpg,a kite\n")
    recall = _json(capsys, "--library", library, "--json", "eval", str(folder / "c.csv"), "-k", "1", huger)
    assert recall[f"recall@{huger}"] == 1.0


def test_search_shows_the_caption_that_matched_in_text_and_json(lib, capsys, tmp_path):
    library, folder = lib
    photo = folder / "photo_0003.jpg"
    cat, zebra = "a cat sitting with its eyes open", "a zebra standing in tall grass"
    for name, text in (("first.csv", cat), ("second.csv", zebra)):
        (tmp_path / name).write_text(f"image,description\n{photo},{text}\n", encoding="utf-8")
        code, _, err = run(capsys, "--library", library, "captions", "import", str(tmp_path / name))
        assert code == 0, err
    rows = _json(capsys, "--library", library, "--json", "search", "zebra", "-k", "1")
    assert (rows[0]["path"], rows[0]["caption"], rows[0]["why"][-1]) == (str(photo), zebra, "caption")
    code, out, _ = run(capsys, "--library", library, "search", "zebra", "-k", "1")
    assert code == 0 and zebra in out and cat not in out


def test_min_score_above_1_keeps_the_photos_holding_the_words(lib, capsys):
    # score = similarity + 2 x text match: a photo with every word of the query scores 2 + its cosine
    library, _ = lib
    rows = _json(capsys, "--library", library, "--json", "search", "eiffel", "--min-score", "1.5")
    assert [r["path"].rsplit("/", 1)[-1] for r in rows] == ["paris-2019-eiffel.jpg"]
    assert rows[0]["score"] >= 1.5 and "filename" in rows[0]["why"]


def test_captions_search_takes_several_images_plus_minus_and_weight_like_similar(lib, capsys, tmp_path):
    from photosearch.core.library import Library

    library, folder = lib
    texts = ["a red apple", "a blue car", "a dog on a beach", "snow on the mountains"]
    rows = [f"{folder / f'photo_{i:04d}.jpg'},{text}" for i, text in enumerate(texts)]
    (tmp_path / "c.csv").write_text("image,description\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert run(capsys, "--library", library, "captions", "import", str(tmp_path / "c.csv"))[0] == 0
    a, b, away = (str(folder / f"photo_{i:04d}.jpg") for i in (1, 2, 3))
    base = ["--library", library, "--json", "captions", "search", "-k", "4"]
    one = _json(capsys, *base, "--image", a)
    both = _json(capsys, *base, "--image", a, "--image", b)
    combined = ["--plus", "at night", "--minus", "a toy", "--minus-image", away, "--weight", "0.3"]
    mixed = _json(capsys, *base, "--image", a, "--image", b, *combined)
    core = Library(library)
    try:

        def expected(**kwargs) -> list[tuple[str, float]]:
            return [(c.caption, round(c.score, 4)) for c in core.search_captions(k=4, **kwargs)]

        assert [(r["caption"], round(r["score"], 4)) for r in one] == expected(image=a)
        assert [(r["caption"], round(r["score"], 4)) for r in both] == expected(image=[a, b])
        assert [(r["caption"], round(r["score"], 4)) for r in mixed] == expected(
            image=[a, b], plus="at night", minus=["a toy"], minus_images=[away], weight=0.3
        )
        assert set(one[0]) == {c for c in core.search_captions(image=a, k=1)[0].to_json()}  # same fields as before
    finally:
        core.close()
    assert [r["score"] for r in both] != [r["score"] for r in one]
    assert [r["score"] for r in mixed] != [r["score"] for r in both]
    code, out, err = run(capsys, "--library", library, "captions", "search", "apple", "--plus", "at night")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--image" in err
