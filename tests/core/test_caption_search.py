"""Caption search at scale: a vector index over caption vectors, and word matches with bounded work,
giving the same top results as scoring every caption exactly."""

from __future__ import annotations

import csv
import itertools
import math

import numpy as np
import pytest

from photosearch.core import caption_search
from photosearch.core.library import Library
from photosearch.core.query import fts_literal, parse_query
from photosearch.core.store import blob_to_vectors
from tests.conftest import TINY_MODEL, make_photos

WORDS = ("dog", "cat", "red", "car", "snow", "river", "city", "night", "pasta", "flower", "ball", "tree")


@pytest.fixture
def captioned(tmp_path):
    lib = make_captioned_library(tmp_path)
    yield lib
    lib.close()


def make_captioned_library(tmp_path, count: int = 300) -> Library:
    """A library with `count` captions; every one holds 'beach', the other words are spread unevenly."""
    folder = tmp_path / "set"
    photos = make_photos(folder, 6)
    lib = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    lib.add_folder(folder)
    lib.index()
    rows = []
    for i in range(count):
        words = [WORDS[(i * 7 + j * 5 + i // 13) % len(WORDS)] for j in range(1 + i % 4)]
        rows.append((photos[i % 6].name, f"beach {' '.join(words)} number {i}"))
    with open(folder / "captions.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("image", "caption"))
        writer.writerows(rows)
    lib.import_captions(folder / "captions.csv")
    return lib


def _exact(lib: Library, text: str, k: int) -> list[tuple[str, float]]:
    """Every caption scored the way search_captions defines it: cosine + IDF-weighted share of words."""
    parsed, query = parse_query(text), lib.text_vector(text)
    store = lib.store
    sims = {}
    for cid, blob in store.query(
        "SELECT caption_id, vector FROM caption_embeddings WHERE model_id = ?", (lib.model_id,)
    ):
        sims[cid] = float(blob_to_vectors([blob], len(blob) // 2)[0].astype(np.float32) @ query)

    def hits(term):
        return {
            r[0] for r in store.query("SELECT rowid FROM captions_fts WHERE captions_fts MATCH ?", (fts_literal(term),))
        }

    total = store.query("SELECT COUNT(*) FROM captions")[0][0]
    found = {t: hits(t) for t in parsed.keywords}
    idf = {t: math.log(1 + (total - len(h) + 0.5) / (len(h) + 0.5)) for t, h in found.items()}
    norm = sum(idf.values()) or 1.0
    banned = set().union(*(hits(t) for t in parsed.excluded)) if parsed.excluded else set()
    texts = dict(store.query("SELECT id, text FROM captions"))
    scored = []
    for cid, text_ in texts.items():
        if cid in banned:
            continue
        lexical = sum(idf[t] / norm for t, h in found.items() if cid in h)
        scored.append((text_, sims.get(cid, 0.0) + lexical))
    scored.sort(key=lambda t: -t[1])
    return scored[:k]


def _same_as_exact(lib: Library, text: str, k: int = 8) -> None:
    got = [(r.caption, r.score) for r in lib.search_captions(text=text, k=k)]
    want = _exact(lib, text, k + 1)
    assert [s for _, s in got] == pytest.approx([s for _, s in want[:k]], abs=2e-3)
    clear = [c for (c, s), nxt in itertools.pairwise(want) if s - nxt[1] > 2e-3]
    assert set(clear) <= {c for c, _ in got}


QUERIES = ("beach", "beach dog", "red car at night", "snow -dog", "flower tree beach", "pasta", "a quiet morning")


@pytest.mark.parametrize("cap", [2_000, 10])
def test_same_top_results_as_scoring_every_caption(captioned, monkeypatch, cap) -> None:
    # cap 10: every word but the rarest is "common", so it is looked up among the candidates only.
    monkeypatch.setattr(caption_search, "LEXICAL_CAP", cap)
    for text in QUERIES:
        _same_as_exact(captioned, text)


def test_a_word_in_every_caption_does_not_score_every_caption(captioned, monkeypatch) -> None:
    monkeypatch.setattr(caption_search, "LEXICAL_CAP", 10)
    scored: list[int] = []
    original = caption_search._Words.score

    def spy(self, candidates):
        scored.append(len(candidates))
        return original(self, candidates)

    monkeypatch.setattr(caption_search._Words, "score", spy)
    _same_as_exact(captioned, "beach", k=5)
    # All 300 hold "beach", so the bonus is the same for all and the 50 nearest settle the top 5.
    assert scored == [50]


def test_candidates_widen_until_no_left_out_caption_could_rank(captioned, monkeypatch) -> None:
    monkeypatch.setattr(caption_search, "LEXICAL_CAP", 10)
    rounds: list[int] = []
    original = caption_search._Words.score

    def spy(self, candidates):
        rounds.append(len(candidates))
        return original(self, candidates)

    monkeypatch.setattr(caption_search._Words, "score", spy)
    _same_as_exact(captioned, "beach dog red", k=8)
    assert rounds == sorted(rounds) and rounds[-1] <= 300


def test_the_widening_stops_at_its_limit(captioned, monkeypatch) -> None:
    monkeypatch.setattr(caption_search, "LEXICAL_CAP", 1)
    monkeypatch.setattr(caption_search, "MAX_VECTOR_CANDIDATES", 60)
    rounds: list[int] = []
    original = caption_search._Words.score
    monkeypatch.setattr(caption_search._Words, "score", lambda self, c: rounds.append(len(c)) or original(self, c))
    results = captioned.search_captions(text="dog cat red car snow river", k=8)
    assert len(results) == 8 and max(rounds) <= 60 + 1  # + the one caption holding a rare word, if any


def test_common_words_are_matched_with_the_captions_own_tokenizer(captioned) -> None:
    (schema,) = captioned.store.query("SELECT sql FROM sqlite_master WHERE name = 'captions_fts'")[0]
    assert caption_search.CAPTION_TOKENIZER in schema


@pytest.fixture
def copied_sign(tmp_path):
    """One photo with text in it, also copied into a/ and b/ (same content: one fingerprint), and another
    photo whose own text happens to be the same words."""
    import shutil

    from photosearch.core import ocr

    folder = tmp_path / "photos"
    photos = make_photos(folder, 4)
    for sub in ("a", "b"):
        (folder / sub).mkdir()
        shutil.copy(photos[0], folder / sub / "sign.jpg")
    lib = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    lib.add_folder(folder)
    lib.index(read_text=False)
    with lib.store.write() as conn:  # what the text-in-photos pass records, per content
        for photo in (photos[0], photos[1]):
            (fingerprint,) = conn.execute("SELECT fingerprint FROM photos WHERE path = ?", (str(photo),)).fetchone()
            conn.execute(
                "INSERT INTO ocr_text(fingerprint, text, engine, done_at) VALUES (?, 'EXIT 12 SPRINGFIELD', 't', 0)",
                (fingerprint,),
            )
    ocr.sync_captions(lib.store)  # a caption row for every path of that content
    lib.index(read_text=False)  # embeds them
    lib.folder = folder
    yield lib, photos
    lib.close()


def test_copies_of_a_photo_give_one_caption_row_that_names_the_others(copied_sign) -> None:
    lib, photos = copied_sign
    folder = lib.folder
    found = lib.search_captions(text="springfield", k=10)
    rows = [c for c in found if c.caption == "EXIT 12 SPRINGFIELD"]
    assert len(lib.store.query("SELECT 1 FROM captions WHERE source = 'ocr'")) == 4
    # one row per content: the copies fold into one, the other photo with the same words keeps its own
    assert len(rows) == 2 and str(photos[1]) in {c.path for c in rows}
    copied = next(c for c in rows if c.path != str(photos[1]))
    everywhere = {str(photos[0]), str(folder / "a" / "sign.jpg"), str(folder / "b" / "sign.jpg")}
    assert {copied.path, *copied.copies} == everywhere and len(copied.copies) == 2
    alone = next(c for c in rows if c.path == str(photos[1]))
    assert alone.copies == () and "copies" not in alone.to_json()  # JSON as before without copies
    # JSON: the same fields as before, plus the copies' paths
    assert copied.to_json() == {
        "path": copied.path,
        "caption": copied.caption,
        "score": round(copied.score, 6),
        "source": "ocr",
        "copies": sorted(copied.copies),
    }
    # k counts rows shown: the folded copies leave room for the next caption
    assert len(lib.search_captions(text="springfield", k=2)) == 2
    # a folder filter: only the copy inside it, with no others to name
    (inside,) = [c for c in lib.search_captions(text="springfield", k=10, folder=str(folder / "a"))]
    assert inside.path == str(folder / "a" / "sign.jpg") and inside.copies == ()


def test_a_renamed_folders_caption_row_names_no_offline_copy(library, tmp_path) -> None:
    """Caption rows fold copies of a photo and leave out offline twins of online photos: the old, offline
    path of a renamed folder is neither shown nor listed among the row's copies."""
    from tests.core.photo_meta import index_then_rename

    _old, b = index_then_rename(library, tmp_path)
    rows = library.search_captions("grandma")
    assert {r.path for r in rows} == {str(b / "p0.jpg")}
    (row,) = [r for r in rows if r.caption == "grandma birthday party"]
    assert row.copies == () and all(r.copies == () for r in rows)
