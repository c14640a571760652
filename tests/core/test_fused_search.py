"""Fused ranking: a photo whose own words hold the query's words comes first (tiny model, random
weights, so CLIP says nothing meaningful and the text evidence must decide)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from photosearch.core.filters import Filters
from photosearch.core.fusion import TEXT_WEIGHT, best_matches_cut
from photosearch.core.library import Library
from photosearch.core.store import _MIGRATIONS
from tests.conftest import TINY_MODEL, make_photos
from tests.core.photo_meta import write_photo


@pytest.fixture
def lib(tmp_path: Path):
    folder = tmp_path / "photos"
    make_photos(folder, 12)
    write_photo(folder / "trips" / "paris-2019-eiffel.jpg", seed=500)
    write_photo(folder / "coast" / "IMG_0042.jpg", seed=501, keywords=["Lighthouse", "storm clouds"])
    library = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    library.add_folder(folder)
    library.index()
    csv = tmp_path / "captions.csv"
    csv.write_text("image,caption\nphotos/photo_0007.jpg,Grandma's 80th birthday party\n", encoding="utf-8")
    library.import_captions(csv)
    library.folder_path = folder
    yield library
    library.close()


def _names(results) -> list[str]:
    return [Path(r.path).name for r in results]


def test_a_caption_match_ranks_first_with_why_caption(lib):
    results = lib.search_text("grandma birthday", k=20)
    assert _names(results)[0] == "photo_0007.jpg"
    assert "caption" in results[0].why
    assert results[0].score >= 1.0  # holds every keyword: cosine + 2 x 1
    assert results[0].score == pytest.approx(results[0].similarity + TEXT_WEIGHT)
    assert all("caption" not in r.why for r in results[1:])


def test_a_file_name_word_ranks_first_with_why_filename(lib):
    results = lib.search_text("eiffel", k=20)
    assert _names(results)[0] == "paris-2019-eiffel.jpg"
    assert "filename" in results[0].why
    # folder names count as file-name evidence too
    assert _names(lib.search_text("trips", k=5))[0] == "paris-2019-eiffel.jpg"


def test_an_iptc_keyword_ranks_first_with_why_keyword(lib):
    results = lib.search_text("lighthouse", k=20)
    assert _names(results)[0] == "IMG_0042.jpg"
    assert "keyword" in results[0].why
    # keywords are evidence, not a caption to show
    assert results[0].caption is None


def test_text_read_from_the_photo_counts_as_text_in_photo(lib):
    path = str(lib.folder_path / "photo_0003.jpg")
    with lib.store.write() as conn:  # issue 12 stores OCR text as captions with source 'ocr'
        conn.execute("INSERT INTO captions(path, source, text) VALUES (?, 'ocr', 'EXIT 12 SPRINGFIELD')", (path,))
    results = lib.search_text("springfield", k=5)
    assert results[0].path == path and "text-in-photo" in results[0].why


def test_every_full_match_ranks_above_every_photo_without_evidence(lib):
    with lib.store.write() as conn:
        for i in (1, 4, 9):
            path = str(lib.folder_path / f"photo_{i:04d}.jpg")
            conn.execute("INSERT INTO captions(path, source, text) VALUES (?, 'sidecar', 'a red kite')", (path,))
        path = str(lib.folder_path / "photo_0010.jpg")  # only one of the two words: a partial match
        conn.execute("INSERT INTO captions(path, source, text) VALUES (?, 'sidecar', 'a kite')", (path,))
    results = lib.search_text("red kite", k=50)
    full = {f"photo_{i:04d}.jpg" for i in (1, 4, 9)}
    names = _names(results)
    assert set(names[:3]) == full
    assert names[3] == "photo_0010.jpg"  # the partial match comes next, before photos with nothing
    assert len(results) == 14
    rest = results[4:]
    assert all(not r.why or r.why == ("image",) for r in rest)
    # CLIP orders the photos without evidence, and scores are sorted
    assert [r.similarity for r in rest] == sorted((r.similarity for r in rest), reverse=True)
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_an_excluded_word_in_a_photos_text_removes_it(lib):
    results = lib.search_text("photo -grandma", k=50)
    assert "photo_0007.jpg" not in _names(results)
    assert len(results) == 13


def test_best_matches_keep_the_text_matches_and_cut_the_rest(lib):
    everything = lib.search_text("grandma birthday", k=50)
    best = lib.search_text("grandma birthday", k=50, best=True)
    assert _names(best) == ["photo_0007.jpg"]
    assert len(everything) == 14


def test_best_matches_rule():
    # halfway from the median of the pool to the top
    assert best_matches_cut([1.0, 0.5, 0.4, 0.3, 0.2]) == pytest.approx(0.4 + 0.5 * 0.6)
    assert best_matches_cut([0.3]) == pytest.approx(0.3)
    assert best_matches_cut([]) == float("inf")


def test_filters_apply_to_fused_search(lib):
    assert lib.search_text("eiffel", k=20, filters=Filters(folder=str(lib.folder_path / "coast")))[0].path.endswith(
        "IMG_0042.jpg"
    )
    only_coast = lib.search_text("eiffel", k=20, folder=str(lib.folder_path / "coast"))
    assert _names(only_coast) == ["IMG_0042.jpg"]


def test_names_index_follows_moves_and_deletes(lib):
    old = lib.folder_path / "trips" / "paris-2019-eiffel.jpg"
    new = lib.folder_path / "trips" / "louvre.jpg"
    old.rename(new)
    lib.index()
    assert _names(lib.search_text("louvre", k=3))[0] == "louvre.jpg"
    assert "filename" not in lib.search_text("eiffel", k=3)[0].why
    new.unlink()
    lib.index()
    assert all("filename" not in r.why for r in lib.search_text("louvre", k=20))


def test_a_library_from_before_the_name_index_gets_it_and_its_keywords(tmp_path):
    folder = tmp_path / "photos"
    write_photo(folder / "harbour-sunset.jpg", seed=1, keywords=["Kayak"])
    make_photos(folder, 3)
    root = tmp_path / "library"
    lib = Library(root, model=TINY_MODEL, pretrained="random")
    lib.add_folder(folder)
    lib.index()
    step = next(i for i, sql in enumerate(_MIGRATIONS) if "photo_names" in sql)
    with lib.store.write() as conn:  # back to the schema before issue 11, keywords never read
        for later in _MIGRATIONS[step + 1 :]:  # the steps after it run again: undo their tables and indexes
            for kind, name in re.findall(r"CREATE (TABLE|INDEX) (\w+)", later):
                conn.execute(f"DROP {kind} {name}")
        for trigger in ("photo_names_ai", "photo_names_ad", "photo_names_au"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DROP TABLE photo_names")
        conn.execute("DROP INDEX photos_date")
        conn.execute("DELETE FROM captions WHERE source = 'keyword'")
        conn.execute(f"PRAGMA user_version = {step}")
    lib.close()
    again = Library(root, model=TINY_MODEL, pretrained="random")
    try:
        assert _names(again.search_text("harbour", k=2))[0] == "harbour-sunset.jpg"
        again.index()  # the next index reads the keywords of photos indexed before
        first = again.search_text("kayak", k=2)[0]
        assert Path(first.path).name == "harbour-sunset.jpg" and "keyword" in first.why
        assert again.store.get_meta("keywords_backfill") is None
    finally:
        again.close()


def _captions(lib, path: str, *captions: tuple[str, str]) -> None:
    with lib.store.write() as conn:
        conn.executemany("INSERT INTO captions(path, source, text) VALUES (?, ?, ?)", [(path, *c) for c in captions])


def test_the_caption_shown_is_the_one_that_matched(lib, tmp_path):
    """QA: two imported captions, and `search zebra` showed the cat one (the first by source order)."""
    photo = lib.folder_path / "photo_0005.jpg"
    cat, zebra = "a cat sitting with its eyes open", "a zebra standing in tall grass"
    for name, text in (("first.csv", cat), ("second.csv", zebra)):
        (tmp_path / name).write_text(f"image,description\n{photo},{text}\n", encoding="utf-8")
        lib.import_captions(tmp_path / name)
    top = lib.search_text("zebra", k=1)[0]
    assert (top.path, top.caption, top.why[-1]) == (str(photo), zebra, "caption")
    assert lib.search_text("zebras in the grass", k=1)[0].caption == zebra  # matched as the ranking matched it
    assert lib.search_text("cat", k=1)[0].caption == cat


def test_the_caption_with_the_most_of_the_words_wins_else_the_source_order(lib):
    path = str(lib.folder_path / "photo_0002.jpg")
    beach, dusk = "a red kite on the beach", "a red kite flying over the dunes at dusk"
    _captions(lib, path, ("csv", beach), ("sidecar", dusk), ("ocr", "SPRINGFIELD"), ("keyword", "springfield"))
    assert lib.search_text("kite dunes", k=1)[0].caption == dusk  # holds both words: beats the csv one
    assert lib.search_text("dusk", k=1)[0].caption == dusk
    assert lib.search_text("red kite", k=1)[0].caption == beach  # both hold them: the source order decides
    assert lib.search_text("beach -dusk", k=50)[0].path != path  # a photo with an excluded word is left out
    # Matched only by text that is never shown (text read in the photo, keywords): the source order.
    top = lib.search_text("springfield", k=1)[0]
    assert top.path == path and top.caption == beach
    # No words to match (browsing, image queries): the source order.
    assert next(r for r in lib.browse(k=50) if r.path == path).caption == beach
    assert next(r for r in lib.search_image(path, k=50) if r.path == path).caption == beach
    assert next(r for r in lib.search_text("photo", k=50) if r.path == path).caption == beach


def test_a_cosine_never_shows_above_1_from_rounding(lib):
    """A photo queried by itself: its stored float16 vector is unit only to rounding, so the raw inner
    product can be 1.0001; the score shown and ranked on is a cosine and stays within [-1, 1]."""
    engine = lib.engine()
    raw, shown = [], []
    for path in sorted(lib.folder_path.rglob("*.jpg")):
        vector = engine.vector_for_path(str(path.resolve()))
        raw.append(float(vector @ vector))
        shown += [r.score for r in engine.search(vector, k=3)]  # Find similar: the stored vector
        found = lib.search_image(str(path), k=3)  # a dropped file: encoded again, float32
        shown += [r.score for r in found] + [r.similarity for r in found]
    assert max(raw) > 1.0  # the rounding this guards against does happen with these photos
    assert max(shown) == pytest.approx(1.0, abs=1e-3) and max(shown) <= 1.0
    assert min(shown) >= -1.0
    caption = "Grandma's 80th birthday party"  # a caption against the same words: text-text cosine 1
    matches = lib.search_captions(text=caption, k=5)
    assert matches[0].caption == caption
    assert all(-1.0 <= c.similarity <= 1.0 for c in matches)
