"""Combined queries: images plus words, minus words or images, several images at once."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from photosearch.core.fusion import mix_vectors
from photosearch.core.library import Library
from tests.conftest import TINY_MODEL, make_photos


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("combined")
    folder = tmp / "photos"
    make_photos(folder, 30)
    library = Library(tmp / "library", model=TINY_MODEL, pretrained="random")
    library.add_folder(folder)
    library.index()
    library.folder_path = folder
    yield library
    library.close()


def _toward(lib, results, vector: np.ndarray, top: int = 5) -> float:
    """Mean cosine between the top results' photos and a direction."""
    engine = lib.engine()
    vectors = [engine.vector_for_path(r.path) for r in results[:top]]
    return float(np.mean([v @ vector / np.linalg.norm(v) for v in vectors]))


def test_plus_words_move_the_ranking_toward_them_and_minus_words_away(lib):
    image = str(lib.folder_path / "photo_0003.jpg")
    words = lib.text_vector("a red car at night")
    alone = lib.search_image(image, k=10)
    plus = lib.search_image(image, k=10, plus="a red car at night", weight=0.6)
    minus = lib.search_image(image, k=10, minus=["a red car at night"], weight=0.6)
    assert _toward(lib, plus, words) > _toward(lib, alone, words) > _toward(lib, minus, words)
    assert [r.path for r in alone] != [r.path for r in plus]


def test_weight_zero_is_the_image_alone_and_one_is_the_words_alone(lib):
    image = str(lib.folder_path / "photo_0003.jpg")
    alone = [r.path for r in lib.search_image(image, k=10)]
    assert [r.path for r in lib.search_image(image, k=10, plus="a dog", weight=0.0)] == alone
    words_only = [r.path for r in lib.engine().search(lib.text_vector("a dog"), k=10)]
    assert [r.path for r in lib.search_image(image, k=10, plus="a dog", weight=1.0)] == words_only


def test_a_minus_image_pushes_its_look_away(lib):
    image = str(lib.folder_path / "photo_0003.jpg")
    away = str(lib.folder_path / "photo_0011.jpg")
    away_vector = lib.engine().vector_for_path(away)
    alone = lib.search_image(image, k=10)
    minus = lib.search_image(image, k=10, minus_images=[away], weight=0.6)
    assert _toward(lib, minus, away_vector) < _toward(lib, alone, away_vector)
    assert away not in [r.path for r in minus[:5]]


def test_several_images_query_together(lib):
    a, b = (str(lib.folder_path / f"photo_{i:04d}.jpg") for i in (2, 17))
    engine = lib.engine()
    va, vb = engine.vector_for_path(a), engine.vector_for_path(b)
    mean = (va / np.linalg.norm(va) + vb / np.linalg.norm(vb)) / 2
    mean /= np.linalg.norm(mean)
    both = lib.search_image([a, b], k=30)
    for r in both:  # each photo scores its cosine to the images' mean direction
        v = engine.vector_for_path(r.path)
        assert r.similarity == pytest.approx(float(v @ mean / np.linalg.norm(v)), abs=2e-3)

    def position(results, path):
        return [r.path for r in results].index(path)

    # b ranks higher with both than when only a is asked, and a higher than when only b is asked
    assert position(both, b) < position(lib.search_image(a, k=30), b)
    assert position(both, a) < position(lib.search_image(b, k=30), a)


def test_mix_vectors_is_unit_length_and_degenerate_inputs_give_none():
    rng = np.random.default_rng(0)
    a, t = (v / np.linalg.norm(v) for v in rng.standard_normal((2, 8)).astype(np.float32))
    mixed = mix_vectors([a], t, [], 0.5)
    assert mixed is not None and np.linalg.norm(mixed) == pytest.approx(1.0, abs=1e-5)
    assert mix_vectors([], None, [], 0.5) is None
    assert mix_vectors([a], None, [a], 1.0) is None  # an image minus itself is nothing


def test_a_path_that_is_not_there_is_a_one_line_error(lib, tmp_path):
    from photosearch.core.errors import PhotoSearchError

    with pytest.raises(PhotoSearchError, match="no such image"):
        lib.search_image([str(lib.folder_path / "photo_0001.jpg"), str(tmp_path / "gone.jpg")])
    assert Path(lib.folder_path).is_dir()


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def test_caption_matches_of_a_combined_query_score_against_the_photos_query_vector(lib, tmp_path):
    """The caption panel's side of an image query: every image, the words and the weight count, as they
    do for the photos (one vector for both: search_image and search_captions cannot drift apart)."""
    texts = {2: "red apple", 17: "blue car", 5: "a dog on a beach", 8: "snow on the mountains", 20: "two cats"}
    csv = tmp_path / "captions.csv"
    rows = [f"{lib.folder_path / f'photo_{i:04d}.jpg'},{text}" for i, text in texts.items()]
    csv.write_text("image,description\n" + "\n".join(rows) + "\n")
    lib.import_captions(csv)
    a, b, away = (str(lib.folder_path / f"photo_{i:04d}.jpg") for i in (2, 17, 11))
    engine, encoder = lib.engine(), lib.encoder()
    va, vb, vaway = (_unit(engine.vector_for_path(p)) for p in (a, b, away))
    caption_vectors = dict(zip(texts.values(), encoder.encode_texts(list(texts.values())), strict=True))

    def scores(found) -> dict[str, float]:
        return {c.caption: c.score for c in found}

    def expected(query: np.ndarray) -> dict[str, float]:
        return {text: pytest.approx(float(v @ query), abs=2e-3) for text, v in caption_vectors.items()}

    assert scores(lib.search_captions(image=a, k=10)) == expected(va)  # one image, as before
    both = lib.search_captions(image=[a, b], k=10)
    assert scores(both) == expected(_unit(va + vb))  # both images: their mean direction
    assert scores(both) != expected(va)
    combined = {"plus": "at night", "minus": ["a toy"], "minus_images": [away], "weight": 0.4}
    query = mix_vectors([va, vb], lib.text_vector("at night"), [encoder.encode_texts(["a toy"])[0], vaway], 0.4)
    found = lib.search_captions(image=[a, b], k=10, **combined)
    assert scores(found) == expected(query)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)


def _count_image_encodes(lib, monkeypatch) -> list[int]:
    """Rows the image tower is asked to encode, one entry per call (counted, never timed)."""
    encoder = lib.encoder()
    real, calls = encoder.encode_images, []

    def counting(batch):
        calls.append(len(batch))
        return real(batch)

    monkeypatch.setattr(encoder, "encode_images", counting)
    return calls


def test_an_outside_image_is_encoded_once_for_the_photos_and_their_captions(lib, tmp_path, monkeypatch):
    """The desktop app asks search_image then search_captions for one query: an image from outside the
    library is decoded and encoded once, not once per ask; a changed file is encoded afresh."""
    from tests.conftest import make_photo

    outside = make_photo(tmp_path / "pasted.jpg", seed=501)
    calls = _count_image_encodes(lib, monkeypatch)
    first = lib.search_image(str(outside), k=5)
    lib.search_captions(image=str(outside), k=5)
    lib.search_captions(image=[str(outside)], k=5, plus="at night")
    assert calls == [1]
    make_photo(outside, seed=502, size=(80, 60))  # a new picture under the same name
    stat = outside.stat()
    os.utime(outside, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = lib.search_image(str(outside), k=5)
    assert calls == [1, 1]
    assert [r.path for r in again] != [r.path for r in first] or [r.score for r in again] != [r.score for r in first]


def test_pasted_image_data_is_encoded_once_per_content(lib, monkeypatch):
    from tests.conftest import make_photo

    def data(seed: int) -> bytes:
        path = make_photo(Path(lib.folder_path).parent / f"paste_{seed}.png", seed=seed)
        return path.read_bytes()

    one, two = data(601), data(602)
    calls = _count_image_encodes(lib, monkeypatch)
    lib.search_image(one, k=5)
    lib.search_captions(image=one, k=5)
    assert calls == [1]
    lib.search_image(two, k=5)
    assert calls == [1, 1]


def test_the_remembered_vector_belongs_to_its_model(lib, tmp_path, monkeypatch):
    from photosearch.core.encoder import ModelSpec
    from tests.conftest import make_photo

    outside = str(make_photo(tmp_path / "dropped.jpg", seed=701))
    calls = _count_image_encodes(lib, monkeypatch)
    lib.image_vector(outside)
    lib.image_vector(outside)
    assert calls == [1]
    monkeypatch.setattr(lib, "spec", ModelSpec(lib.spec.model, "other_weights"))
    lib.image_vector(outside)
    assert calls == [1, 1]
