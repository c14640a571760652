from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageOps

from photosearch.core import images
from photosearch.core.images import (
    IMAGE_EXTENSIONS,
    DecodedImage,
    ImageError,
    decode,
    make_thumbnail,
    open_query_image,
    save_thumbnail,
)
from tests.conftest import unreadable_error
from tests.fixtures.hostile import encode, make_hostile_corpus, photo, swapped_icc, with_orientation

# Inverse of each EXIF orientation's display transform: applied to an upright picture it
# gives the pixels a camera would store under that tag.
STORED_FROM_UPRIGHT = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bool]]:
    root = tmp_path_factory.mktemp("hostile")
    return root, make_hostile_corpus(root)


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.int16)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_hostile_corpus_decodes_or_fails_cleanly(corpus: tuple[Path, dict[str, bool]]) -> None:
    root, expected = corpus
    assert sum(expected.values()) >= 30 and list(expected.values()).count(False) >= 9
    for rel, must_decode in expected.items():
        if must_decode:
            result = decode(root / rel)
            assert isinstance(result, DecodedImage), rel
            assert result.image.mode == "RGB", rel
            assert min(result.image.size) >= 1 and result.width >= 1 and result.height >= 1, rel
        else:
            with pytest.raises(ImageError) as info:
                decode(root / rel)
            reason = str(info.value)
            assert reason and "\n" not in reason and len(reason) < 120, (rel, reason)


@pytest.mark.parametrize(
    ("rel", "reason"),
    [
        ("bad/empty.jpg", "empty file"),
        ("bad/truncated.jpg", "truncated image data"),
        ("bad/truncated.png", "truncated image data"),
        ("bad/text.png", "not an image"),
        ("bad/random.jpg", "not an image"),
    ],
)
def test_reasons_are_specific(corpus: tuple[Path, dict[str, bool]], rel: str, reason: str) -> None:
    with pytest.raises(ImageError, match=f"^{reason}$"):
        decode(corpus[0] / rel)


@pytest.mark.parametrize("rel", ["bad/bomb.png", "bad/bomb.jpg"])
def test_decompression_bombs_are_rejected_before_decoding(corpus: tuple[Path, dict[str, bool]], rel: str) -> None:
    with pytest.raises(ImageError, match=r"^image too large \(.*limit 150 MP\)$"):
        decode(corpus[0] / rel)


def test_declared_size_over_limit_reports_dimensions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Below PIL's own hard limit our check decides, and names the size.
    monkeypatch.setattr(images, "MAX_PIXELS", 10_000)
    path = write(tmp_path / "big.png", encode(photo(200, 100), "PNG"))
    with pytest.raises(ImageError, match=r"^image too large \(200x100 pixels, limit 0 MP\)$"):
        decode(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"^unreadable: file not found$"):
        decode(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match=r"^not a regular file$"):
        decode(tmp_path)


def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path / "locked.jpg", encode(photo(32, 32), "JPEG"))
    snippet = (
        "from photosearch.core.images import decode\n"
        "try:\n    decode(target)\nexcept Exception as exc:\n    print(type(exc).__name__ + ': ' + str(exc))"
    )
    assert unreadable_error(path, snippet) == "ImageError: unreadable: permission denied"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_gives_the_upright_picture(tmp_path: Path, orientation: int) -> None:
    upright = photo(64, 40, seed=orientation)
    op = STORED_FROM_UPRIGHT[orientation]
    stored = upright.transpose(op) if op is not None else upright
    path = write(tmp_path / "o.png", with_orientation(stored, orientation, "PNG"))

    result = decode(path)

    assert (result.width, result.height) == (64, 40)
    assert np.array_equal(pixels(result.image), pixels(upright))
    reference = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    assert np.array_equal(pixels(result.image), pixels(reference))


def test_jpeg_orientation_6_matches_exif_transpose(corpus: tuple[Path, dict[str, bool]]) -> None:
    path = corpus[0] / "ok/orientation_6.jpg"
    result = decode(path)
    reference = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    assert result.image.size == reference.size == (240, 320)
    assert np.abs(pixels(result.image) - pixels(reference)).mean() < 2


def test_large_jpeg_uses_draft_scale(tmp_path: Path) -> None:
    big = photo(400, 300, seed=5).resize((4000, 3000), Image.Resampling.BILINEAR)
    path = write(tmp_path / "big.jpg", encode(big, "JPEG", quality=85))

    result = decode(path, min_side=256)

    assert (result.width, result.height) == (4000, 3000)
    assert result.image.size == (500, 375)  # 1/8 DCT scale
    expected = big.resize((500, 375), Image.Resampling.BOX)
    assert np.abs(pixels(result.image) - pixels(expected)).mean() < 4


def test_large_jpeg_with_orientation_reports_upright_size(tmp_path: Path) -> None:
    big = photo(400, 300, seed=6).resize((4000, 3000))
    path = write(tmp_path / "big6.jpg", with_orientation(big, 6))
    result = decode(path, min_side=256)
    assert (result.width, result.height) == (3000, 4000)
    assert result.image.size == (375, 500)


@pytest.mark.parametrize(("size", "min_side"), [((1200, 900), 256), ((3000, 700), 224), ((900, 1300), 256)])
def test_non_jpeg_is_reduced_but_keeps_min_side(tmp_path: Path, size: tuple[int, int], min_side: int) -> None:
    path = write(tmp_path / "big.png", encode(photo(*size), "PNG", compress_level=1))
    result = decode(path, min_side=min_side)
    assert min_side <= min(result.image.size) < 2 * min_side
    assert (result.width, result.height) == size


def test_small_images_are_never_upscaled(tmp_path: Path) -> None:
    path = write(tmp_path / "small.png", encode(photo(100, 80), "PNG"))
    assert decode(path, min_side=256).image.size == (100, 80)


def test_transparency_is_composited_over_white(tmp_path: Path) -> None:
    clear = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    assert (pixels(decode(write(tmp_path / "a.png", encode(clear, "PNG"))).image) == 255).all()
    palette = Image.new("P", (20, 10), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0])
    palette.paste(1, (0, 0, 10, 10))
    result = decode(write(tmp_path / "p.png", encode(palette, "PNG", transparency=0))).image
    assert result.getpixel((15, 5)) == (255, 255, 255)
    assert result.getpixel((5, 5)) == (255, 0, 0)


def test_sixteen_bit_grey_is_scaled_not_clipped(corpus: tuple[Path, dict[str, bool]]) -> None:
    for rel in ("ok/gray16.png", "ok/gray16.tif"):
        grey = pixels(decode(corpus[0] / rel).image)[..., 0]
        assert grey[:, 0].max() < 10, rel  # left edge is near 0 of 65535
        assert grey[:, -1].min() > 230, rel  # right edge is near 60000 of 65535
        assert 100 < grey[:, 80].mean() < 140, rel  # a real gradient, not a white plate


def test_sixteen_bit_rgb_png(corpus: tuple[Path, dict[str, bool]]) -> None:
    rgb = pixels(decode(corpus[0] / "ok/rgb16.png").image)
    assert rgb[0, 0, 0] < 3 and rgb[0, -1, 0] > 252
    assert abs(int(rgb[10, 10, 2]) - 30000 // 257) <= 1


def test_float_tiff_is_scaled(corpus: tuple[Path, dict[str, bool]]) -> None:
    grey = pixels(decode(corpus[0] / "ok/float.tif").image)[..., 0]
    assert grey.min() < 10 and grey.max() > 240


def test_cmyk_jpeg_keeps_its_colours(tmp_path: Path) -> None:
    red = Image.new("RGB", (32, 32), (220, 30, 30)).convert("CMYK")
    result = pixels(decode(write(tmp_path / "cmyk.jpg", encode(red, "JPEG", quality=95))).image)
    r, g, b = result[16, 16]
    assert r > 190 and g < 70 and b < 70


def test_icc_profile_is_applied_and_bad_profiles_ignored(corpus: tuple[Path, dict[str, bool]]) -> None:
    root = corpus[0]
    plain = pixels(decode(root / "ok/plain.jpg").image)
    images._srgb_transform.cache_clear()
    tagged = pixels(decode(root / "ok/icc_srgb.jpg").image)
    assert images._srgb_transform.cache_info().misses == 1  # the conversion really ran
    assert np.abs(tagged - plain).max() <= 3  # sRGB -> sRGB changes (almost) nothing
    assert np.array_equal(pixels(decode(root / "ok/icc_garbage.jpg").image), plain)


def test_icc_profile_changes_colours_when_not_srgb(tmp_path: Path) -> None:
    red = Image.new("RGB", (8, 8), (200, 30, 30))
    swapped = decode(write(tmp_path / "swapped.png", encode(red, "PNG", icc_profile=swapped_icc()))).image
    r, g, b = swapped.getpixel((4, 4))
    assert b > 180 and r < 50 and g < 50
    # A profile for another colour space (LAB on an RGB image) is ignored.
    grey_icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    ignored = decode(write(tmp_path / "lab.png", encode(red, "PNG", icc_profile=grey_icc))).image
    assert ignored.getpixel((4, 4)) == (200, 30, 30)


def test_animated_files_give_the_first_frame(corpus: tuple[Path, dict[str, bool]]) -> None:
    first = pixels(photo(96, 64, seed=0))
    for rel in ("ok/animated.gif", "ok/animated.webp"):
        if rel not in corpus[1]:
            continue
        frame = pixels(decode(corpus[0] / rel).image)
        assert np.abs(frame - first).mean() < 25, rel  # lossy/paletted, but frame 0 not frame 2


def test_exif_date_and_caption_come_through(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010E] = "Harbour at dawn"
    exif.get_ifd(0x8769)[0x9003] = "2021:06:15 12:30:45"
    path = write(tmp_path / "e.jpg", encode(photo(64, 48), "JPEG", exif=exif.tobytes()))
    result = decode(path)
    assert result.taken == 1623760245.0
    assert result.captions == [("exif", "Harbour at dawn")]


def test_heic_extensions_follow_pillow_heif() -> None:
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        assert ".heic" not in IMAGE_EXTENSIONS
    else:
        assert {".heic", ".heif"} <= IMAGE_EXTENSIONS
    assert {".jpg", ".jpeg", ".png", ".webp", ".tif"} <= IMAGE_EXTENSIONS
    assert all(ext == ext.lower() and ext.startswith(".") for ext in IMAGE_EXTENSIONS)


def test_open_query_image_from_bytes_and_path(tmp_path: Path) -> None:
    data = encode(photo(1600, 1200), "JPEG")
    from_bytes = open_query_image(data)
    assert from_bytes.mode == "RGB" and 256 <= min(from_bytes.size) < 512
    from_path = open_query_image(write(tmp_path / "q.jpg", data))
    assert from_path.size == from_bytes.size
    with pytest.raises(ImageError, match=r"^empty file$"):
        open_query_image(b"")
    with pytest.raises(ImageError, match=r"^not an image$"):
        open_query_image(b"hello, clipboard")


def test_make_thumbnail_bounds_longer_side() -> None:
    assert make_thumbnail(photo(600, 300), 256).size == (256, 128)
    assert make_thumbnail(photo(300, 600), 256).size == (128, 256)
    assert make_thumbnail(photo(100, 50), 256).size == (100, 50)


def test_save_thumbnail_is_atomic_jpeg(tmp_path: Path) -> None:
    dest = tmp_path / "ab" / "cd" / "thumb.jpg"
    save_thumbnail(photo(100, 80), dest)
    save_thumbnail(photo(90, 70).convert("RGBA"), dest)  # overwrite, and non-RGB input
    with Image.open(dest) as saved:
        assert saved.format == "JPEG" and saved.size == (90, 70)
    assert [p.name for p in dest.parent.iterdir()] == ["thumb.jpg"]  # no temp file left


def _seed_files() -> list[bytes]:
    small = photo(24, 16, seed=2)
    return [encode(small, "JPEG"), encode(small, "PNG"), encode(small.quantize(8), "GIF"), encode(small, "TIFF")]


SEEDS = _seed_files()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(range(len(SEEDS))),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
    cut=st.floats(0.05, 1.0),
)
def test_mutated_files_fail_only_with_image_error(seed: int, edits: list[tuple[float, int]], cut: float) -> None:
    data = bytearray(SEEDS[seed])
    for where, value in edits:
        data[int(where * len(data))] = value
    data = data[: max(1, int(len(data) * cut))]
    try:
        result = open_query_image(bytes(data))
    except ImageError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert result.mode == "RGB"


def test_decode_reads_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "once.jpg", encode(photo(64, 48), "JPEG"))
    opened: list[object] = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda fp, *a, **k: opened.append(fp) or real_open(fp, *a, **k))
    decode(path)
    assert len(opened) == 1 and isinstance(opened[0], io.BufferedReader)
