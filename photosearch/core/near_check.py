"""The second check for near-identical photos: compare the pictures themselves, small and in colour.

Perceptual hashes (phash) find candidate pairs cheaply, but 64 bits of a 32x32 grey DCT see only the
layout: slides, documents, screenshots, whiteboards or skies that share one lie a few bits apart whatever
they show (300 distinct title cards with a different word on a different colour were median 2 bits
apart). So a candidate pair counts as near-identical only if its small images agree as well. Each photo's
small image is its thumbnail from the library (decoded upright at index time; made from the file, the
same way, when missing), reduced to a 128x128 grey grid and a 64x64 colour grid, loaded once.

The rule, for two photos a and b:

1. Levels. Grey detail is compared at 128x128, or 64x64 / 32x32 when the smaller photo's thumbnail is
   under 171 / 86 pixels on its shorter side (no finer than about 3/4 of what it holds).
2. As they are, then aligned. The pair passes if it passes either as the two frames stand or after
   aligning them: copies cropped by up to 5% (any split between the two sides of an axis) are found by
   matching grey row and column profiles, first in 0.625% steps, then to 0.156%, twice over.
3. Colour (16x16 cells of the aligned frames): the cast, the largest difference of a channel's mean,
   at most CAST_MAX = 3 levels of 255; and the mean absolute difference of a channel at most
   COLOUR_MAX = 6.
4. Detail (grey, tiles of 8x8 cells): per tile, after removing each tile's mean, the energy of the
   difference over the energy of the two tiles plus a noise floor (EPS = 50 per cell): 0 for the same
   picture, about 1 for unrelated content, up to 2 for inverted. The largest tile must be at most
   DETAIL_MAX = 0.4, so one tile with a different word is enough to tell two photos apart.
5. Speed: a pair whose central parts (the middle 80% of each frame) differ by more than CENTRE_MAX = 24
   levels of mean colour is dropped before anything else; copies cropped by 5% measured at most 11.4.

Thresholds were set by measuring (`python -m benchmarks.near_check` prints this table) on thumbnails
made as the indexer makes them: 220 true copies of 21 scikit-image photos and a sky (50% and 25% size,
JPEG quality 60/75/95, PNG, 5% crops centred, on one side and at a corner, EXIF-rotated) against
distinct photos: motorcycle_left/right, text pages of other words in one font and layout, a sky shifted
by 4 to 15 levels, and the QA set of 300 title cards (the 43,271 pairs within 12 bits):

    measure  true copies, largest          distinct photos, smallest                        rule
    cast     2.04 (sky, 5% corner crop)    3.73 (sky, +4 levels in each channel)            <= 3
    colour   3.03 (coins at 25%)           3.73 (the same sky)                              <= 6
    detail   0.19 (horse at 50%)           0.63 (QA cards CASTLE / HARBOR)                  <= 0.4
    centre   11.4 (colorwheel, 5% crop)    (a speed filter only)                            <= 24

Every copy passes and no distinct pair does: the QA cards with one word in two colours (5 levels or
more apart) fail on cast, the others on detail and cast. Not counted as copies: crops of more than 5%
and edits (brightness, filters). Not seen: differences finer than a thumbnail under 171 pixels shows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from photosearch.core.images import ImageError, decode, make_thumbnail
from photosearch.core.thumbnails import THUMB_SIZE

GRID = 128  # each photo's full-frame grey grid
RGB_SIDE = 64  # each photo's full-frame colour grid
COLOUR_SIDE = 16  # colours are compared on 16 x 16 cells
LEVELS = (32, 64, 128)  # grey detail is compared at the largest level the smaller photo fills
LEVEL_FRACTION = 0.75
TILE = 8  # detail is judged per tile of 8 x 8 cells
EPS = 50.0  # noise floor of a cell (grey levels squared): JPEG noise in flat parts is not detail
UNIT = 1 / 640  # crop windows are whole numbers of units off each side of an axis
COARSE = 4  # the first search steps by 4 units (0.625%)
MAX_CROP = 32  # at most 32 units (5%) off the two sides of an axis together
ALIGN_SIDE = 64  # the coarse search compares profiles at this length
ROUNDS = 2  # x then y, twice: a crop on one axis skews the other's profile until that one is known
CENTRE = (0.1, 0.9)  # the central part compared before anything else
CAST_MAX = 3.0
COLOUR_MAX = 6.0
DETAIL_MAX = 0.4
CENTRE_MAX = 24.0

Window = tuple[int, int]  # units off the start, units off the end
FULL: Window = (0, 0)


@dataclass(frozen=True)
class Small:
    grid: np.ndarray  # grey, GRID x GRID, uint8
    rgb: np.ndarray  # colour, 3 x RGB_SIDE x RGB_SIDE, uint8 (aligned windows are cut from it)
    colour: np.ndarray  # the full frame as 3 x COLOUR_SIDE x COLOUR_SIDE, float32
    side: int  # shorter side of the image it was made from
    centre: np.ndarray  # mean colour of the central part, 3 float32


@dataclass(frozen=True)
class Source:
    thumbnail: Path | None  # the library's cached thumbnail, if any
    photo: str  # the file, decoded when the thumbnail is missing or damaged


def small_image(image: Image.Image) -> Small:
    rgb = image.convert("RGB")
    grey = np.asarray(rgb.convert("L"), dtype=np.float32)
    grid = _resample(grey, GRID, FULL, FULL)
    colour = np.asarray(rgb.resize((RGB_SIDE, RGB_SIDE), Image.Resampling.BOX), dtype=np.uint8)
    lo, hi = round(CENTRE[0] * RGB_SIDE), round(CENTRE[1] * RGB_SIDE)
    centre = colour[lo:hi, lo:hi].reshape(-1, 3).mean(axis=0).astype(np.float32)
    channels_first = np.ascontiguousarray(colour.transpose(2, 0, 1))
    full = _resample(channels_first.astype(np.float32), COLOUR_SIDE, FULL, FULL)
    return Small(np.round(grid).astype(np.uint8), channels_first, full, min(rgb.size), centre)


def load_image(source: Source) -> Image.Image | None:
    """The thumbnail, or the photo reduced the way the indexer makes thumbnails; None if neither reads."""
    if source.thumbnail is not None:
        try:
            with Image.open(source.thumbnail) as im:
                im.load()
                return im.convert("RGB")
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            pass  # missing or damaged: a cache, so the photo itself decides
    try:
        return make_thumbnail(decode(source.photo, min_side=THUMB_SIZE).image, THUMB_SIZE)
    except (ImageError, OSError, ValueError):
        return None


def load_native(source: Source) -> np.ndarray | None:
    """The whole thumbnail in grey, to compare aligned frames at full detail."""
    image = load_image(source)
    return None if image is None else np.asarray(image.convert("L"), dtype=np.float32)


def same_pictures(
    pairs: Sequence[tuple[int, int]], sources: Sequence[Source], stop: Callable[[], None] = lambda: None
) -> list[bool]:
    """For each candidate pair (indexes into sources), whether the two photos show the same picture.
    A photo that cannot be read is the same as nothing. `stop` is called before each photo is read and
    each pair compared: it raises to end the work early."""
    needed = sorted({i for pair in pairs for i in pair})
    smalls: dict[int, Small] = {}
    for i in needed:
        stop()
        image = load_image(sources[i])
        if image is not None:
            smalls[i] = small_image(image)

    @functools.lru_cache(maxsize=256)  # the whole thumbnail: only pairs that need aligning read it again
    def native(i: int) -> np.ndarray | None:
        return load_native(sources[i])

    out = [False] * len(pairs)
    readable = [k for k, (i, j) in enumerate(pairs) if i in smalls and j in smalls]
    if not readable:
        return out
    centres_a = np.stack([smalls[pairs[k][0]].centre for k in readable])
    centres_b = np.stack([smalls[pairs[k][1]].centre for k in readable])
    close = [readable[k] for k in np.flatnonzero(np.abs(centres_a - centres_b).max(axis=1) <= CENTRE_MAX)]

    # Each photo's tiles once per level for all its pairs (pairs come row by row, so a cluster of up to
    # 1024 photos is cut once; 64 KiB each at 128x128).
    @functools.lru_cache(maxsize=1024)
    def tiles(i: int, level: int) -> tuple[np.ndarray, np.ndarray]:
        return _tiles(_grey(smalls[i], level))

    for k in close:
        stop()
        i, j = pairs[k]
        a, b = smalls[i], smalls[j]
        level = level_for(a, b)
        as_is = _colour_passes(_colours(a.colour, b.colour)) and (
            _detail_of(*tiles(i, level), *tiles(j, level)) <= DETAIL_MAX
        )
        out[k] = as_is or _aligned_passes(a, b, lambda i=i, j=j: (native(i), native(j)))
    return out


def same_picture(a: Small, b: Small, natives: Callable[[], tuple[np.ndarray | None, np.ndarray | None]]) -> bool:
    """The rule of the module docstring, cheapest test first; natives() gives both whole thumbnails in
    grey, read again only for a pair that needs aligning and whose colours agree once aligned."""
    level = level_for(a, b)
    as_is = _colour_passes(_colours(a.colour, b.colour)) and _detail(_grey(a, level), _grey(b, level)) <= DETAIL_MAX
    return as_is or _aligned_passes(a, b, natives)


def _aligned_passes(a: Small, b: Small, natives: Callable) -> bool:
    level = level_for(a, b)
    windows = align(a, b)
    if not _colour_passes(_aligned_colours(a, b, windows)):
        return False  # most same-layout pictures end here: other colours, wherever the frames sit
    native_a, native_b = natives()
    if native_a is None or native_b is None:
        return False
    return _detail(*_aligned_greys(native_a, native_b, level, windows)) <= DETAIL_MAX


def distances(a: Small, b: Small, natives: Callable | None = None) -> tuple[float, float, float]:
    """(cast, colour, detail) as the frames stand, or aligned where that passes or shows finer detail
    (for measuring: same_picture gives the same verdict without computing all of them)."""
    level = level_for(a, b)
    as_is = (*map(float, _colours(a.colour, b.colour)), _detail(_grey(a, level), _grey(b, level)))
    if _passes(as_is) or natives is None:
        return as_is
    native_a, native_b = natives()
    if native_a is None or native_b is None:
        return as_is
    windows = align(a, b)
    detail = _detail(*_aligned_greys(native_a, native_b, level, windows))
    aligned = (*map(float, _aligned_colours(a, b, windows)), detail)
    return aligned if _passes(aligned) or aligned[2] < as_is[2] else as_is


def level_for(a: Small, b: Small) -> int:
    side = min(a.side, b.side) * LEVEL_FRACTION
    fitting = [n for n in LEVELS if n <= side]
    return fitting[-1] if fitting else LEVELS[0]


def align(a: Small, b: Small) -> tuple[Window, Window, Window, Window]:
    """Crop windows (a's x, b's x, a's y, b's y) under which the two grids agree best."""
    ga, gb = a.grid.astype(np.float32), b.grid.astype(np.float32)
    ax = bx = ay = by = FULL
    for _ in range(ROUNDS):
        # Profiles across only the part of the other axis that both show.
        ax, bx = _align_axis(_weights(ay) @ ga, _weights(by) @ gb)
        ay, by = _align_axis(ga @ _weights(ax), gb @ _weights(bx))
    return ax, bx, ay, by


def _passes(scores: tuple[float, float, float]) -> bool:
    return _colour_passes(scores[:2]) and scores[2] <= DETAIL_MAX


def _colour_passes(scores: tuple) -> bool:
    cast, colour = scores
    return bool(cast <= CAST_MAX and colour <= COLOUR_MAX)


def _colours(ca: np.ndarray, cb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cast, colour) of two (... x) 3 x 16 x 16 colour images: the largest difference of a channel's
    mean, and of a channel's mean absolute difference."""
    diff = ca - cb
    return np.abs(diff.mean(axis=(-2, -1))).max(axis=-1), np.abs(diff).mean(axis=(-2, -1)).max(axis=-1)


def _grey(small: Small, level: int) -> np.ndarray:
    """The full frame at a level: GRID is a multiple of every level, so this is a block mean."""
    f = GRID // level
    grid = small.grid.astype(np.float32)
    return grid if f == 1 else grid.reshape(level, f, level, f).mean(axis=(1, 3))


def _aligned_colours(a: Small, b: Small, windows: tuple[Window, Window, Window, Window]) -> tuple[float, float]:
    ax, bx, ay, by = windows
    rgb_a, rgb_b = a.rgb.astype(np.float32), b.rgb.astype(np.float32)
    return _colours(_resample(rgb_a, COLOUR_SIDE, ay, ax), _resample(rgb_b, COLOUR_SIDE, by, bx))


def _aligned_greys(native_a: np.ndarray, native_b: np.ndarray, level: int, windows) -> tuple[np.ndarray, np.ndarray]:
    # From the whole thumbnails: resampling the 128 grid at a fractional window would blur one side.
    ax, bx, ay, by = windows
    return _resample(native_a, level, ay, ax), _resample(native_b, level, by, bx)


def _detail(ga: np.ndarray, gb: np.ndarray) -> float:
    """The largest tile's detail difference of two n x n grey images (rule 4)."""
    return _detail_of(*_tiles(ga), *_tiles(gb))


def _tiles(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An n x n image as (tiles, cells) with each tile's mean removed, and each tile's energy."""
    k = grey.shape[0] // TILE
    tiles = grey.reshape(k, TILE, k, TILE).swapaxes(1, 2).reshape(k * k, TILE * TILE)
    centred = tiles - tiles.mean(axis=1, keepdims=True)
    return centred, np.einsum("tc,tc->t", centred, centred)


def _detail_of(ta: np.ndarray, ea: np.ndarray, tb: np.ndarray, eb: np.ndarray) -> float:
    # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b: one pass over the pair, the energies come with the tiles.
    difference = np.maximum(ea + eb - 2 * np.einsum("tc,tc->t", ta, tb), 0)
    return float((difference / (ea + eb + EPS * TILE * TILE)).max())


@functools.lru_cache(maxsize=1024)  # windows recur from pair to pair; bounded, as one is up to 128 KiB
def _area(n_out: int, n_in: int, window: Window) -> np.ndarray:
    """(n_out, n_in): output cell i is the mean of the input over the i-th of n_out equal parts of the
    window, the input taken as constant over each of its cells (exact area averaging, any ratio)."""
    lo, hi = window[0] * UNIT, 1 - window[1] * UNIT
    edges = (lo + (hi - lo) * np.arange(n_out + 1) / n_out) * n_in
    start, end = edges[:-1, None], edges[1:, None]
    cells = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(end, cells + 1) - np.maximum(start, cells), 0, None)
    return (overlap / (end - start)).astype(np.float32)


def _resample(img: np.ndarray, n: int, wy: Window, wx: Window) -> np.ndarray:
    """The window of a grey (H, W) or colour (3, H, W) image as n x n cells."""
    my, mx = _area(n, img.shape[-2], wy), _area(n, img.shape[-1], wx)
    return my @ img @ mx.T


def _weights(window: Window) -> np.ndarray:
    return _area(ALIGN_SIDE, GRID, window).mean(axis=0)


COARSE_WINDOWS = [(a, b) for a in range(0, MAX_CROP + 1, COARSE) for b in range(0, MAX_CROP + 1 - a, COARSE)]


@functools.lru_cache(maxsize=1)
def _coarse_stack() -> np.ndarray:
    return np.stack([_area(ALIGN_SIDE, GRID, w) for w in COARSE_WINDOWS])


@functools.lru_cache(maxsize=len(COARSE_WINDOWS))  # 1.6 MiB each, one per coarse window
def _fine_stack(around: Window) -> tuple[list[Window], np.ndarray]:
    half = COARSE // 2
    near = [
        (around[0] + da, around[1] + db)
        for da in range(-half, half + 1)
        for db in range(-half, half + 1)
        if around[0] + da >= 0 and around[1] + db >= 0
    ]
    return near, np.stack([_area(GRID, GRID, w) for w in near])


def _align_axis(pa: np.ndarray, pb: np.ndarray) -> tuple[Window, Window]:
    """Windows (on a, on b) along one axis under which the two GRID-long profiles agree best."""
    full, stack = _area(ALIGN_SIDE, GRID, FULL), _coarse_stack()
    crop_a = np.abs(stack @ pa - full @ pb).mean(axis=1)  # b shows a part of a
    crop_b = np.abs(full @ pa - stack @ pb).mean(axis=1)  # a shows a part of b
    ka, kb = int(np.argmin(crop_a)), int(np.argmin(crop_b))
    a_wider = bool(crop_a[ka] <= crop_b[kb])
    wider, other = (pa, pb) if a_wider else (pb, pa)
    near, fine = _fine_stack(COARSE_WINDOWS[ka if a_wider else kb])
    best = near[int(np.argmin(np.abs(fine @ wider - other).mean(axis=1)))]
    return (best, FULL) if a_wider else (FULL, best)
