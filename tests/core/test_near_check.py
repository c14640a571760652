"""The second check for near-identical photos, on thumbnails made the way the indexer makes them."""

from __future__ import annotations

import itertools

import pytest
from PIL import Image

from photosearch.core import near_check
from photosearch.core.near_check import Source
from photosearch.core.thumbnails import ThumbnailCache
from tests.fixtures.copies import COPY_KINDS, MORE_COPY_KINDS, save_copy, save_original, skimage_photo
from tests.fixtures.layouts import sky, text_page, title_card

pytest.importorskip("skimage")

PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "horse",
    "motorcycle_left",
    "hubble_deep_field",
    "immunohistochemistry",
    "camera",
    "retina",
    "page",
    "coins",
)


@pytest.fixture
def thumbs(tmp_path):
    cache = ThumbnailCache(tmp_path / "library")

    def source(path) -> Source:
        return Source(cache.ensure(str(path), f"{abs(hash(str(path))):x}"), str(path))

    return source


def _small(source: Source) -> near_check.Small:
    return near_check.small_image(near_check.load_image(source))


def _distances(a: Source, b: Source) -> tuple[float, float, float]:
    def natives():
        return tuple(near_check.load_native(s) for s in (a, b))

    return near_check.distances(_small(a), _small(b), natives)


def test_copies_people_make_are_the_same_picture(tmp_path, thumbs):
    failed = []
    for name in PHOTOS:
        image = skimage_photo(name)
        original = thumbs(save_original(image, tmp_path / f"{name}.jpg"))
        for kind in COPY_KINDS + MORE_COPY_KINDS:
            copy = thumbs(save_copy(image, kind, tmp_path / "copies", name))
            if not near_check.same_pictures([(0, 1)], [original, copy])[0]:
                failed.append((name, kind, _distances(original, copy)))
    assert not failed, f"copies taken for other photos (cast, colour, detail): {failed}"


def test_a_missing_thumbnail_is_made_from_the_photo(tmp_path, thumbs):
    image = skimage_photo("coffee")
    original = save_original(image, tmp_path / "coffee.jpg")
    copy = save_copy(image, "exif_rotated", tmp_path, "coffee")  # upright only through its EXIF tag
    assert near_check.same_pictures([(0, 1)], [thumbs(original), Source(None, str(copy))]) == [True]
    gone = Source(tmp_path / "no-such-thumbnail.jpg", str(tmp_path / "deleted.jpg"))
    assert near_check.same_pictures([(0, 1)], [thumbs(original), gone]) == [False]  # unreadable: never a copy


def test_title_cards_with_other_words_or_a_shifted_colour_are_other_pictures(tmp_path, thumbs):
    # As the QA set: one layout, a word in a white box on a noisy flat colour. pHash sees only the layout.
    cards = [
        title_card("BICYCLE", (40, 60, 200), tmp_path / "bicycle.jpg", seed=1),
        title_card("HARBOR", (40, 60, 200), tmp_path / "harbor.jpg", seed=2),
        title_card("CASTLE", (40, 60, 200), tmp_path / "castle.jpg", seed=3),
        title_card("BICYCLE", (45, 60, 205), tmp_path / "bicycle-2.jpg", seed=4),  # 5 levels off in two channels
    ]
    sources = [thumbs(c) for c in cards]
    pairs = list(itertools.combinations(range(len(cards)), 2))
    assert near_check.same_pictures(pairs, sources) == [False] * len(pairs)


def test_text_pages_with_other_words_are_other_pictures(tmp_path, thumbs):
    files = [text_page(seed, tmp_path / f"page{seed}.jpg", font_size=20) for seed in range(3)]
    pages = [thumbs(f) for f in files]
    pairs = list(itertools.combinations(range(3), 2))
    assert near_check.same_pictures(pairs, pages) == [False] * len(pairs)
    copy = thumbs(save_copy(Image.open(files[0]).convert("RGB"), "crop5_left", tmp_path / "copies", "page0"))
    assert near_check.same_pictures([(0, 1)], [pages[0], copy]) == [True]


def test_a_sky_a_little_bluer_is_another_picture(tmp_path, thumbs):
    base = thumbs(sky((0, 0, 0), tmp_path / "sky.jpg"))
    for shift in ((4, 4, 4), (0, 0, -6), (5, 0, 5)):
        other = thumbs(sky(shift, tmp_path / f"sky{shift}.jpg", seed=1))
        assert near_check.same_pictures([(0, 1)], [base, other]) == [False], shift
    copy = thumbs(save_copy(near_check.load_image(base), "png", tmp_path / "copies", "sky"))
    assert near_check.same_pictures([(0, 1)], [base, copy]) == [True]


def test_two_views_of_one_scene_are_other_pictures(tmp_path, thumbs):
    left = thumbs(save_original(skimage_photo("motorcycle_left"), tmp_path / "left.jpg"))
    right = thumbs(save_original(skimage_photo("motorcycle_right"), tmp_path / "right.jpg"))
    assert near_check.same_pictures([(0, 1)], [left, right]) == [False]


def test_each_photo_is_loaded_once(tmp_path, thumbs, monkeypatch):
    image = skimage_photo("astronaut")
    sources = [thumbs(save_original(image, tmp_path / "a.jpg"))]
    sources += [thumbs(save_copy(image, kind, tmp_path, "a")) for kind in ("half", "png", "jpeg95")]
    loaded = []
    real = near_check.load_image
    monkeypatch.setattr(near_check, "load_image", lambda s: loaded.append(s) or real(s))
    pairs = list(itertools.combinations(range(4), 2))
    assert near_check.same_pictures(pairs, sources) == [True] * 6
    assert sorted(loaded, key=str) == sorted(sources, key=str)
