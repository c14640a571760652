"""Duplicate finder: exact copies (same content), near-identical photos (resized, re-encoded, slightly
cropped, rotated by EXIF, converted) and, when asked, similar shots (CLIP cosine above the user's
threshold).

Near-identical takes two checks: perceptual hashes at most NEAR_BITS apart propose a pair (cheap, but
they see only the layout, so slides, documents or skies that share one would all match), and the two
small images must then agree in colour and detail (near_check, where the rule and its measured figures
are). Groups are stars, not chains: each group is built around the photo it proposes to keep (the
largest resolution, then one that other paths lead to, then the oldest), taken in that order, and holds
only photos linked to that photo itself; one that matches a member but not the kept photo is left for a
group of its own. So every photo offered for the trash was compared with the one kept.

Every photo is in at most one group; a group's kind is the loosest link to the photo kept. Paths that
are one file (a symlink and its target, hardlinks) are one entry. Only reads the library.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from photosearch.core import near_check, phash
from photosearch.core.dates import iso_date
from photosearch.core.errors import Cancelled, PhotoSearchError
from photosearch.core.fsnames import from_db
from photosearch.core.store import Store, blob_to_vectors
from photosearch.core.thumbnails import ThumbnailCache

NEAR_BITS = 12  # of 64: on scikit-image photos copies were <= 12 bits apart (5% crops), distinct ones >= 20
_BLOCK = 2048  # CLIP rows compared at once (memory: _BLOCK x N floats)
_HASH_BLOCK = 512  # hash rows compared at once: small enough to stay in cache-sized chunks
_KINDS = ("exact", "near", "similar")  # tightest to loosest


@dataclass(frozen=True)
class DuplicatePhoto:
    path: str
    width: int
    height: int
    bytes: int
    date: str  # ISO 8601 as browse and search give it (no zone): when taken (EXIF) or else last modified
    keep: bool
    timestamp: float = 0.0
    aliases: tuple[str, ...] = ()  # other indexed paths of this very file: symlinks to it, hardlinks

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "bytes": self.bytes,
            "date": self.date,
            "keep": self.keep,
        }


@dataclass(frozen=True)
class DuplicateGroup:
    kind: str  # "exact" | "near" | "similar"
    score: float  # exact 1.0; near 1 - (most bits from the photo kept)/64; similar: the weakest cosine to it
    photos: tuple[DuplicatePhoto, ...]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "score": round(self.score, 4), "photos": [p.to_json() for p in self.photos]}


def find_groups(
    store: Store,
    model_id: str,
    *,
    similarity: float | None = None,
    near_bits: int = NEAR_BITS,
    thumbs: ThumbnailCache | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[DuplicateGroup]:
    """The groups, exact first, then near-identical, then similar; the photo to keep first in each.
    thumbs: the library's thumbnails, for the image check (without them each photo is decoded).
    should_stop: asked between steps (each file hashed, photo decoded, block compared); once it says
    True the search raises Cancelled (minutes on a large library: a closed window must not wait it out)."""
    stop = _stopper(should_stop)
    if similarity is not None and not -1.0 <= similarity <= 1.0:
        raise PhotoSearchError(f"--similarity must be a cosine between -1 and 1, not {similarity}")
    rows = store.query(
        "SELECT path, fingerprint, width, height, size, taken, mtime_ns FROM photos "
        "WHERE state = 'indexed' AND offline = 0 AND fingerprint IS NOT NULL ORDER BY path"
    )
    # Files are read, shown and trashed by their own names, not the database form of odd ones.
    rows = [(from_db(row[0]), *row[1:], ()) for row in rows]
    by_content = _by_content(rows, stop)
    keys = sorted(by_content)
    links: dict[str, dict[str, tuple[int, float]]] = {}
    for a, b, bits in _near_links(store, by_content, keys, near_bits, thumbs, stop):
        _link(links, a, b, 1, 1.0 - bits / 64.0)
    if similarity is not None:
        for a, b, cosine in _similar_pairs(store, model_id, keys, similarity, stop):
            _link(links, a, b, 2, cosine)
    out = []
    for centre, members in _stars(keys, by_content, links):
        photos = [row for key in (centre, *members) for row in by_content[key]]
        if len(photos) < 2:
            continue
        kind = max((links[centre][m][0] for m in members), default=0)
        score = min((links[centre][m][1] for m in members), default=1.0)
        out.append(DuplicateGroup(_KINDS[kind], score, _with_keep(photos)))
    out.sort(key=lambda g: (_KINDS.index(g.kind), -g.score, g.photos[0].path))
    return out


def _stopper(should_stop: Callable[[], bool] | None) -> Callable[[], None]:
    def stop() -> None:
        if should_stop is not None and should_stop():
            raise Cancelled("finding duplicates was cancelled")

    return stop


def _near_links(
    store: Store,
    by_content: dict[str, list[tuple]],
    keys: list[str],
    near_bits: int,
    thumbs,
    stop: Callable[[], None],
):
    """(key, key, differing bits) of pairs whose hashes are close and whose pictures agree."""
    hashes = phash.load_hashes(store) if _has_phashes(store) else {}
    hashed = [k for k in keys if _fingerprint(k) in hashes]
    values = np.array([hashes[_fingerprint(k)] for k in hashed], dtype=np.uint64)
    candidates = list(_near_pairs(values, near_bits, stop))
    if not candidates:
        return
    # Contents that share a fingerprint (same start, end and size) share its thumbnail: decode those.
    shared = {fp for fp, n in Counter(_fingerprint(k) for k in keys).items() if n > 1}
    sources = [
        near_check.Source(
            thumbs.path_for(_fingerprint(k)) if thumbs is not None and _fingerprint(k) not in shared else None,
            by_content[k][0][0],
        )
        for k in hashed
    ]
    agree = near_check.same_pictures([(i, j) for i, j, _ in candidates], sources, stop)
    for (i, j, bits), same in zip(candidates, agree, strict=True):
        if same:
            yield hashed[i], hashed[j], bits


def _link(links: dict[str, dict[str, tuple[int, float]]], a: str, b: str, kind: int, score: float) -> None:
    """Remember the tightest link between two contents (near beats similar for one pair)."""
    old = links.get(a, {}).get(b)
    if old is None or kind < old[0]:
        links.setdefault(a, {})[b] = (kind, score)
        links.setdefault(b, {})[a] = (kind, score)


def _stars(keys: list[str], by_content: dict[str, list[tuple]], links: dict[str, dict[str, tuple[int, float]]]):
    """(centre, members): the best photo to keep not yet grouped takes every ungrouped content linked
    to it, and only those. Union-find chained A~B~C into one group even with A and C far apart, and
    proposed C for the trash next to A."""
    order = sorted(keys, key=lambda k: min(_keep_rank(row) for row in by_content[k]))
    taken: set[str] = set()
    for centre in order:
        if centre in taken:
            continue
        members = sorted(k for k in links.get(centre, {}) if k not in taken)
        taken.add(centre)
        taken.update(members)
        yield centre, members


def _has_phashes(store: Store) -> bool:
    return bool(store.query("SELECT 1 FROM sqlite_master WHERE name = 'phashes'"))


def _fingerprint(key: str) -> str:
    return key.split("|", 1)[0]


def _by_content(rows: list[tuple], stop: Callable[[], None]) -> dict[str, list[tuple]]:
    """Rows by the fingerprint (first MiB, last KiB and size); where several paths share one, also by a
    hash of the whole file, to be sure before anything is offered for the trash."""
    by_fp: dict[str, list[tuple]] = {}
    for row in rows:
        by_fp.setdefault(row[1], []).append(row)
    out: dict[str, list[tuple]] = {}
    for fp, same in by_fp.items():
        if len(same) > 1:  # paths of one file share its fingerprint, so only these can be one file
            same = _one_row_per_file(same)
        if len(same) == 1:
            out[fp] = same
            continue
        for row in same:
            stop()  # each whole file is read
            out.setdefault(f"{fp}|{_full_hash(row[0])}", []).append(row)
    return out


def _one_row_per_file(rows: list[tuple]) -> list[tuple]:
    """A symlink and its target, or hardlinks, are one file, not copies: trashing one name frees nothing
    or leaves a dangling link (or, keeping the link, loses the photo). Such paths become one row under
    a real path (no link on the way), the others its aliases."""
    files: dict[tuple, list[tuple]] = {}
    for row in rows:
        files.setdefault(_file_id(row[0]), []).append(row)
    out = []
    for same in files.values():
        same.sort(key=lambda r: (os.path.islink(r[0]), os.path.realpath(r[0]) != r[0], r[0]))
        out.append((*same[0][:-1], tuple(r[0] for r in same[1:])))
    return out


def _file_id(path: str) -> tuple:
    try:
        st = os.stat(path)  # follows links: a link and its target give the target's identity
    except OSError:
        return ("unreadable", path)  # never taken for another file
    return (st.st_dev, st.st_ino)


def _full_hash(path: str) -> str:
    digest = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return "unreadable:" + path  # never grouped with anything by content
    return digest.hexdigest()


def _near_pairs(values: np.ndarray, max_bits: int, stop: Callable[[], None] = lambda: None):
    """(i, j, differing bits) for i < j with hashes at most max_bits apart; blocked brute force."""
    n = len(values)
    for start in range(0, n, _HASH_BLOCK):
        stop()
        block = values[start : start + _HASH_BLOCK]
        bits = phash.popcount64(block[:, None] ^ values[None, start:])  # the upper triangle only
        ii, jj = np.nonzero(bits <= max_bits)
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            if i < j:
                yield start + i, start + j, int(bits[i, j])


def _similar_pairs(store: Store, model_id: str, keys: list[str], threshold: float, stop: Callable[[], None]):
    wanted = {_fingerprint(k): k for k in keys}
    rows = store.query("SELECT fingerprint, vector FROM embeddings WHERE model_id = ? ORDER BY id", (model_id,))
    rows = [(fp, blob) for fp, blob in rows if fp in wanted]
    if len(rows) < 2:
        return
    dim = len(rows[0][1]) // 2
    vectors = blob_to_vectors([b for _, b in rows], dim).astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    names = [wanted[fp] for fp, _ in rows]
    for start in range(0, len(rows), _BLOCK):
        stop()
        sims = vectors[start : start + _BLOCK] @ vectors.T
        ii, jj = np.nonzero(sims >= threshold)
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            if start + i < j:
                yield names[start + i], names[j], float(sims[i, j])


def _keep_rank(row: tuple) -> tuple:
    """Which photo a group keeps: the largest resolution, then a file other paths lead to (trashing it
    would break them), then the oldest; the path breaks ties so the choice is stable."""
    path, _, width, height, _, taken, mtime_ns, aliases = row
    when = taken if taken else mtime_ns / 1e9
    return (-(int(width or 0) * int(height or 0)), not aliases, float(when), path)


def _with_keep(rows: list[tuple]) -> tuple[DuplicatePhoto, ...]:
    photos = []
    for i, row in enumerate(sorted(rows, key=_keep_rank)):
        path, _, width, height, size, taken, mtime_ns, aliases = row
        when = taken if taken else mtime_ns / 1e9
        photos.append(
            DuplicatePhoto(
                path, int(width or 0), int(height or 0), int(size), iso_date(when) or "", i == 0, float(when), aliases
            )
        )
    return tuple(photos)


def trash(paths: list[str], watched: list[str]) -> list[tuple[str, str]]:
    """Move files to the system trash (never a permanent delete). Only files inside a watched folder
    are touched. Returns (path, problem) for each file that was not moved."""
    from send2trash import send2trash

    problems = []
    roots = [os.path.realpath(w).rstrip(os.sep) + os.sep for w in watched]
    for path in paths:
        real = os.path.realpath(path)
        if not any(real.startswith(root) for root in roots):
            problems.append((path, "not inside a watched folder"))
            continue
        try:
            send2trash(path)
        except Exception as exc:  # send2trash raises OSError or its own TrashPermissionError
            problems.append((path, f"{type(exc).__name__}: {exc}"))
    return problems
