"""Near-identical groups a person can trust with a trash proposal: pHash only proposes pairs, the
pictures themselves must agree, and every member must match the photo proposed to keep."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from photosearch.core import duplicates, phash
from photosearch.core.library import Library
from tests.conftest import TINY_MODEL
from tests.fixtures.copies import COPY_KINDS, MORE_COPY_KINDS, save_copy, save_original, skimage_photo
from tests.fixtures.layouts import title_card

pytest.importorskip("skimage")


def _library(tmp_path, folder) -> Library:
    library = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    library.add_folder(folder)
    library.index(read_text=False)
    return library


def _near_hash_pairs(library: Library) -> int:
    hashes = np.array(list(phash.load_hashes(library.store).values()), dtype=np.uint64)
    return sum(1 for _ in duplicates._near_pairs(hashes, duplicates.NEAR_BITS))


def _names(group) -> list[str]:
    return sorted(os.path.basename(p.path) for p in group.photos)


def test_title_cards_of_one_layout_are_not_near_identical(tmp_path):
    # The QA case: a white box with a word on a flat, noisy colour. pHash sees the layout only, so all
    # of these are candidates; one word in two colours 5 levels apart is two photos as well.
    folder = tmp_path / "photos"
    title_card("BICYCLE", (40, 60, 200), folder / "bicycle.jpg", seed=1)
    title_card("HARBOR", (40, 60, 200), folder / "harbor.jpg", seed=2)
    title_card("CASTLE", (40, 60, 200), folder / "castle.jpg", seed=3)
    title_card("BICYCLE", (45, 60, 205), folder / "bicycle-bluer.jpg", seed=4)
    title_card("SNOW", (150, 200, 80), folder / "snow.jpg", seed=5)
    title_card("SNOW", (155, 200, 85), folder / "snow-warmer.jpg", seed=6)
    card = Image.open(folder / "harbor.jpg")
    card.resize((400, 300), Image.Resampling.LANCZOS).save(folder / "harbor-small.jpg", quality=85)
    library = _library(tmp_path, folder)
    assert _near_hash_pairs(library) >= 6  # pHash alone would offer most of them for the trash
    (group,) = library.duplicates()  # only the real copy
    assert _names(group) == ["harbor-small.jpg", "harbor.jpg"] and group.kind == "near"
    assert [os.path.basename(p.path) for p in group.photos if p.keep] == ["harbor.jpg"]
    library.close()


def _tinted(image: Image.Image, levels: int) -> Image.Image:
    # Squeezed into 16..235 first, so adding a few levels never clips and shifts every pixel alike.
    pixels = 16 + np.asarray(image, dtype=np.float64) * (219 / 255)
    return Image.fromarray(np.round(pixels + levels).astype(np.uint8))


def test_a_photo_like_a_member_but_not_like_the_kept_one_is_not_in_its_group(tmp_path):
    # a ~ b and b ~ c (2 levels of colour cast apart each), but a is 4 levels from c: not the same
    # picture. Union-find chained all three into a's group and proposed c for the trash.
    folder = tmp_path / "photos"
    folder.mkdir()
    base = skimage_photo("astronaut")
    for name, levels in (("a.png", 0), ("b.png", 2), ("c.png", 4)):
        _tinted(base, levels).save(folder / name)
    c = _tinted(base, 4)
    c.resize((256, 256), Image.Resampling.LANCZOS).save(folder / "c-small.jpg", quality=90)
    for age, name in enumerate(("a.png", "b.png", "c.png", "c-small.jpg")):
        os.utime(folder / name, (1_000_000_000 + age,) * 2)  # a is the oldest: a's group keeps a
    library = _library(tmp_path, folder)
    groups = library.duplicates()
    assert sorted(_names(g) for g in groups) == [["a.png", "b.png"], ["c-small.jpg", "c.png"]]
    for group in groups:
        kept = [p for p in group.photos if p.keep]
        assert len(kept) == 1 and group.photos[0] is kept[0]
    library.close()


def test_every_kind_of_copy_groups_with_the_photo_kept(tmp_path):
    folder = tmp_path / "photos"
    image = skimage_photo("astronaut")
    original = save_original(image, folder / "astronaut.jpg")
    os.utime(original, (1_000_000_000,) * 2)  # the oldest of the full-size ones: kept
    for kind in COPY_KINDS + MORE_COPY_KINDS:
        save_copy(image, kind, folder / "copies", "astronaut")
    save_original(skimage_photo("motorcycle_left"), folder / "motorcycle_left.jpg")
    save_original(skimage_photo("motorcycle_right"), folder / "motorcycle_right.jpg")  # one scene, 2 photos
    library = _library(tmp_path, folder)
    (group,) = library.duplicates()
    assert len(group.photos) == 1 + len(COPY_KINDS + MORE_COPY_KINDS)
    assert group.kind == "near" and group.photos[0].keep and group.photos[0].path == str(original)
    library.close()
