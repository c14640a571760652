"""Duplicate groups on real photos copied the way people copy them."""

from __future__ import annotations

import os
import shutil

import pytest

from photosearch.core import duplicates, near_check
from photosearch.core.errors import Cancelled, PhotoSearchError
from photosearch.core.library import Library
from tests.conftest import TINY_MODEL
from tests.fixtures.copies import COPY_KINDS, save_copy, save_original, skimage_photo
from tests.fixtures.trash import trash_in

pytest.importorskip("skimage")

ORIGINALS = ("astronaut", "coffee", "chelsea")
DISTINCT = ("camera", "rocket", "coins", "moon", "retina", "hubble_deep_field")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("dup-photos")
    folder = root / "photos"
    for name in ORIGINALS:
        image = skimage_photo(name)
        save_original(image, folder / f"{name}.jpg")
        for kind in COPY_KINDS:
            save_copy(image, kind, folder / "copies", name)
    for name in DISTINCT:
        save_original(skimage_photo(name), folder / f"{name}.jpg")
    shutil.copyfile(folder / "camera.jpg", folder / "copies" / "camera (1).jpg")
    library = Library(root / "library", model=TINY_MODEL, pretrained="random")
    library.add_folder(folder)
    library.index(read_text=False)
    yield library, folder
    library.close()


def _stem(path: str) -> str:
    return os.path.basename(path).split("_")[0].split(".")[0].split(" ")[0]


def test_transformed_copies_group_with_their_original_and_distinct_photos_stay_apart(corpus):
    library, _ = corpus
    groups = library.duplicates()
    by_name = {}
    for group in groups:
        names = {_stem(p.path) for p in group.photos}
        assert len(names) == 1, f"distinct photos grouped together: {[p.path for p in group.photos]}"
        by_name[names.pop()] = group
    assert set(by_name) == {*ORIGINALS, "camera"}
    for name in ORIGINALS:
        assert len(by_name[name].photos) == 1 + len(COPY_KINDS)
        assert by_name[name].kind == "near"
    assert by_name["camera"].kind == "exact" and by_name["camera"].score == 1.0


def test_keep_is_the_largest_resolution_then_the_oldest(corpus):
    library, folder = corpus
    groups = {_stem(g.photos[0].path): g for g in library.duplicates()}
    astronaut = groups["astronaut"]
    kept = [p for p in astronaut.photos if p.keep]
    assert len(kept) == 1
    assert kept[0].width * kept[0].height == max(p.width * p.height for p in astronaut.photos)
    # The full-size copies (original, q60, exif-rotated, png) tie on resolution: the oldest one wins.
    older = folder / "copies" / "camera (1).jpg"
    os.utime(older, (1_000_000_000, 1_000_000_000))
    library.index(read_text=False)
    camera = {_stem(g.photos[0].path): g for g in library.duplicates()}["camera"]
    assert [p.path for p in camera.photos if p.keep] == [str(older)]
    assert camera.photos[0].keep  # the proposed copy is listed first


def test_json_shape_is_the_documented_one(corpus):
    library, _ = corpus
    data = [g.to_json() for g in library.duplicates()]
    assert data and all(set(g) == {"kind", "score", "photos"} for g in data)
    for group in data:
        assert group["kind"] in {"exact", "near", "similar"}
        for photo in group["photos"]:
            assert set(photo) == {"path", "width", "height", "bytes", "date", "keep"}
            assert photo["width"] > 0 and photo["bytes"] > 0 and photo["date"][:2] in {"19", "20"}
        assert sum(p["keep"] for p in group["photos"]) == 1


def test_similar_shots_only_when_asked(corpus):
    library, _ = corpus
    without = library.duplicates()
    everything = library.duplicates(similarity=-1.0)  # every photo is "similar" to every other
    assert not any(g.kind == "similar" for g in without)
    assert len(everything) == 1 and everything[0].kind == "similar"
    assert len(everything[0].photos) == sum(1 for _ in library.store.query("SELECT 1 FROM photos"))
    with pytest.raises(PhotoSearchError):
        library.duplicates(similarity=2.0)


def test_a_search_told_to_stop_reads_no_further_photo_and_says_it_was_cancelled(corpus, monkeypatch):
    library, _ = corpus
    loaded: list[object] = []
    load = near_check.load_image

    def counted(source):
        loaded.append(source)
        return load(source)

    monkeypatch.setattr(near_check, "load_image", counted)
    with pytest.raises(Cancelled, match="cancelled"):
        library.duplicates(should_stop=lambda: len(loaded) >= 1)  # asked to stop as the first photo is in
    assert len(loaded) == 1  # the check of the near-identical candidates stopped at once
    loaded.clear()
    assert library.duplicates(should_stop=lambda: False) == library.duplicates()  # a hook that never fires
    assert len(loaded) > 1


def test_a_similar_shots_search_told_to_stop_stops_between_blocks(corpus, monkeypatch):
    library, _ = corpus
    monkeypatch.setattr(duplicates, "_BLOCK", 1)  # one photo's row of cosines per block
    pairs = duplicates._similar_pairs
    found: list[tuple] = []

    def counted(*args):
        for pair in pairs(*args):
            found.append(pair)
            yield pair

    def stop_in_the_similar_pass() -> bool:
        return bool(found)  # once the first block gave its pairs

    monkeypatch.setattr(duplicates, "_similar_pairs", counted)
    with pytest.raises(Cancelled):
        library.duplicates(similarity=-1.0, should_stop=stop_in_the_similar_pass)
    (contents,) = library.store.query("SELECT COUNT(DISTINCT fingerprint) FROM photos")[0]
    assert len(found) == contents - 1  # the first photo's pairs with every other one, no second block


def test_same_fingerprint_but_different_bytes_is_not_an_exact_copy(tmp_path):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    a, b = folder / "a.bmp", folder / "b.bmp"
    Image.new("RGB", (700, 700), (10, 20, 30)).save(a)
    data = bytearray(a.read_bytes())
    data[1_200_000] ^= 0xFF  # past the first MiB and before the last KiB: unseen by the fingerprint
    b.write_bytes(bytes(data))
    library = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    library.add_folder(folder)
    library.index(read_text=False)
    fps = {fp for (fp,) in library.store.query("SELECT fingerprint FROM photos")}
    assert len(fps) == 1  # the cheap fingerprint cannot tell them apart...
    assert [g.kind for g in library.duplicates()] == ["near"]  # ...the whole-file check can
    library.close()


def test_move_to_trash_uses_the_system_trash_and_only_inside_watched_folders(tmp_path, monkeypatch):
    trash = trash_in(monkeypatch, tmp_path / "data")
    folder = tmp_path / "photos"
    image = skimage_photo("coffee")
    original = save_original(image, folder / "coffee.jpg")
    copy = save_copy(image, "half", folder, "coffee")
    outside = save_original(image, tmp_path / "elsewhere" / "coffee.jpg")
    library = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    library.add_folder(folder)
    library.index(read_text=False)
    problems = library.move_to_trash([str(copy), str(outside)])
    assert problems == [(str(outside), "not inside a watched folder")]
    assert not copy.exists() and outside.exists() and original.exists()
    assert (trash / copy.name).exists()  # recoverable, not deleted
    assert [p for (p,) in library.store.query("SELECT path FROM photos")] == [str(original)]
    assert library.duplicates() == []
    library.close()


def test_near_pairs_blocked_search_matches_brute_force():
    import numpy as np

    rng = np.random.default_rng(0)
    values = rng.integers(0, 2**63, 300, dtype=np.uint64)
    values[7] = values[3] ^ np.uint64(0b1011)  # 3 bits apart
    found = {(i, j) for i, j, _ in duplicates._near_pairs(values, 3)}
    brute = {
        (i, j)
        for i in range(300)
        for j in range(i + 1, 300)
        if bin(int(values[i]) ^ int(values[j])).count("1") <= 3
    }
    assert found == brute and (3, 7) in found


def test_a_read_only_library_trashes_nothing(tmp_path, monkeypatch):
    trash = trash_in(monkeypatch, tmp_path / "data")
    folder = tmp_path / "photos"
    photo = save_original(skimage_photo("coffee"), folder / "coffee.jpg")
    library = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    library.add_folder(folder)
    library.index(read_text=False)
    library.close()
    readonly = Library(tmp_path / "library", readonly=True)
    with pytest.raises(PhotoSearchError, match="read-only"):
        readonly.move_to_trash([str(photo)])
    assert photo.exists() and not trash.exists()
    readonly.close()


@pytest.mark.skipif(os.name != "posix", reason="symlinks and hardlinks need POSIX here")
def test_a_link_or_a_hardlink_is_the_same_file_never_a_copy_to_trash(tmp_path, monkeypatch):
    from tests.conftest import make_photo

    trash_in(monkeypatch, tmp_path / "data")
    folder = tmp_path / "photos"
    real = make_photo(folder / "upper.JPG", seed=1)
    link = folder / "a_link.jpg"  # sorts first: on a tie the path decides what is kept
    link.symlink_to("upper.JPG")
    os.link(real, folder / "hard.jpg")
    library = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    library.add_folder(folder)
    library.index(read_text=False)
    assert len(library.store.query("SELECT 1 FROM photos WHERE state = 'indexed'")) == 3
    assert library.duplicates() == []  # one file under three names: nothing to free
    copy = folder / "b_copy.jpg"
    shutil.copyfile(real, copy)
    os.utime(copy, (real.stat().st_mtime - 60,) * 2)  # the older copy: kept by the rule on its own
    library.index(read_text=False)
    (group,) = library.duplicates()
    listed = [p.path for p in group.photos]
    assert str(link) not in listed and len(listed) == 2 and str(copy) in listed
    # The file others link to is kept; only the real, separate copy is proposed.
    assert [p.path for p in group.photos if not p.keep] == [str(copy)]
    library.move_to_trash([p.path for p in group.photos if not p.keep])
    assert link.exists() and real.exists() and not copy.exists()
    library.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")
def test_copies_with_names_that_are_not_utf8_are_found_and_trashed(tmp_path, monkeypatch):
    from tests.conftest import make_photo

    trash = trash_in(monkeypatch, tmp_path / "data")
    folder = tmp_path / "photos"
    real = make_photo(folder / "a.jpg", seed=1)
    odd = folder / os.fsdecode(b"caf\xe9.jpg")
    shutil.copyfile(real, odd)
    os.utime(real, (1_000_000_000,) * 2)  # the older one is kept
    library = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    library.add_folder(folder)
    library.index(read_text=False)
    (group,) = library.duplicates()
    assert group.kind == "exact"
    assert [(p.path, p.keep) for p in group.photos] == [(str(real), True), (str(odd), False)]
    assert library.move_to_trash([str(odd)]) == []
    assert not odd.exists() and (trash / odd.name).exists()
    library.close()


@pytest.fixture
def new_york(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_dates_are_the_stored_ones_like_browse_whatever_the_local_zone(tmp_path, new_york):
    from tests.conftest import make_photo

    folder = tmp_path / "photos"
    a = make_photo(folder / "a.jpg", seed=1)
    shutil.copyfile(a, folder / "b.jpg")
    for photo in (a, folder / "b.jpg"):
        os.utime(photo, (1_000_000_000, 1_000_000_000))  # 2001-09-09 01:46:40 UTC
    library = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    library.add_folder(folder)
    library.index(read_text=False)
    (group,) = library.duplicates()
    browsed = {r.path: r.to_json()["date"] for r in library.browse(k=10)}
    assert [p.date for p in group.photos] == ["2001-09-09T01:46:40"] * 2
    assert {p.path: p.date for p in group.photos} == browsed
    library.close()
