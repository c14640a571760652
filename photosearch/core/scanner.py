"""Walk watched folders and diff them against the store by (size, mtime), touching nothing but stat.

What cannot be stat'ed or listed is compared with what the store remembers, so it is reported once.

A scan covers "scopes": whole watched folders for a full rescan, or just the paths a file watcher
reported. Moves are found by content fingerprint among the files that appeared and disappeared in the
same scan, so a renamed folder costs a few fingerprints, not a re-encode.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from photosearch.core.fsnames import from_db
from photosearch.core.images import IMAGE_EXTENSIONS
from photosearch.core.store import Store
from photosearch.core.types import Skipped

_HEAD = 1 << 20
_TAIL = 1 << 10
_INT64 = (-(1 << 63), (1 << 63) - 1)  # what SQLite can store


def mtime_ns(st: os.stat_result) -> int:
    """The modification time as the store keeps it. Past 2262 (or before 1677) nanoseconds leave the
    int64 range SQLite stores, and one such file failed the whole scan; clamped, it is indexed with
    the rest and still compares equal to itself on the next scan."""
    return min(max(st.st_mtime_ns, _INT64[0]), _INT64[1])


def fingerprint(path: str, size: int | None = None) -> str:
    """Content identity: hash of size, first 1 MiB and last 1 KiB (cheap, survives moves and renames)."""
    with open(path, "rb") as fh:
        if size is None:
            size = os.fstat(fh.fileno()).st_size
        digest = hashlib.blake2b(str(size).encode(), digest_size=16)
        digest.update(fh.read(_HEAD))
        if size > _HEAD:
            fh.seek(max(size - _TAIL, _HEAD))
            digest.update(fh.read(_TAIL))
    return digest.hexdigest()


@dataclass(frozen=True)
class FileStat:
    path: str
    size: int
    mtime_ns: int
    folder_id: int
    sidecar_mtime_ns: int | None = None


@dataclass(frozen=True)
class KnownPhoto:
    id: int
    path: str
    size: int
    mtime_ns: int
    fingerprint: str | None
    state: str
    offline: bool
    sidecar_mtime_ns: int | None


@dataclass
class ScanPlan:
    new: list[FileStat] = field(default_factory=list)
    changed: list[tuple[KnownPhoto, FileStat]] = field(default_factory=list)
    removed: list[KnownPhoto] = field(default_factory=list)
    sidecar_changed: list[tuple[KnownPhoto, int | None]] = field(default_factory=list)
    offline_folders: list[int] = field(default_factory=list)
    online_folders: list[int] = field(default_factory=list)
    problems: list[Skipped] = field(default_factory=list)  # new since the last scan: reported once
    problems_to_record: list[tuple[str, int, str]] = field(default_factory=list)  # (path, folder id, reason)
    problems_gone: list[str] = field(default_factory=list)  # fixed since the last scan
    unreachable: list[int] = field(default_factory=list)  # photo ids under a folder that can't be read now
    reachable: list[int] = field(default_factory=list)  # photo ids offline by themselves, now seen again
    retry: list[int] = field(default_factory=list)  # skipped as unreadable, readable now
    seen: int = 0


@dataclass(frozen=True)
class Scope:
    """A path to reconcile: a watched folder root, or a file/dir a watcher saw change."""

    path: str
    folder_id: int
    recursive: bool = True


def _is_photo_name(name: str) -> bool:
    if name.startswith("._"):  # macOS AppleDouble junk beside real files
        return False
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


LEFT_OUT = "left out: the link leads outside the watched folders"
BLOCKING = ("folder unreadable", "unreadable")  # reasons that keep what the store knows there, offline


class ScanStopped(Exception):
    """The scan's between_dirs hook asked it to stop (a cancelled run): its partial plan must not be applied,
    or every photo in the folders it had not listed yet would be taken as deleted."""


def walk(
    root: str,
    folder_id: int,
    skip_dirs: frozenset[str] = frozenset(),
    recursive: bool = True,
    inside: tuple[str, ...] | None = None,
    between_dirs: Callable[[], bool] | None = None,
) -> tuple[list[FileStat], list[Skipped]]:
    """Photos under root. Symlinks are followed only while they stay inside `inside` (real paths of
    the watched folders; default: root); each folder is visited once, so link loops end.
    between_dirs, called before each folder is listed, may wait (a paused run); True raises ScanStopped."""
    inside = inside if inside is not None else (os.path.realpath(root),)
    found: list[FileStat] = []
    problems: list[Skipped] = []
    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        directory = stack.pop()
        if between_dirs is not None and between_dirs():
            raise ScanStopped(directory)
        try:
            st = os.stat(directory)
            key = (st.st_dev, st.st_ino)
            if key in visited:
                continue  # a symlink loop or a second link to the same folder
            visited.add(key)
            entries = list(os.scandir(directory))
        except OSError as exc:
            problems.append(Skipped(directory, f"folder unreadable: {exc.strerror or exc}"))
            continue
        sidecars: dict[str, int] = {}
        photos: list[tuple[str, os.stat_result]] = []
        for entry in entries:
            try:
                if entry.is_symlink() and _relevant(entry) and leaves(entry.path, inside):
                    problems.append(Skipped(entry.path, LEFT_OUT))
                    continue
                if entry.is_dir():
                    if recursive and not entry.name.startswith(".") and entry.path not in skip_dirs:
                        stack.append(entry.path)
                    continue
                name = entry.name
                if name.lower().endswith(".txt"):
                    sidecars[name[:-4]] = mtime_ns(entry.stat())
                elif _is_photo_name(name):
                    photos.append((entry.path, entry.stat()))
            except OSError as exc:
                problems.append(Skipped(entry.path, f"unreadable: {exc.strerror or exc}"))
        for path, st in photos:
            if not stat.S_ISREG(st.st_mode):
                continue
            name = os.path.basename(path)
            side = sidecars.get(name, sidecars.get(os.path.splitext(name)[0]))
            found.append(FileStat(path, st.st_size, mtime_ns(st), folder_id, side))
    return found, problems


def _relevant(entry: os.DirEntry) -> bool:
    name = entry.name
    return name.lower().endswith(".txt") or _is_photo_name(name) or (not name.startswith(".") and entry.is_dir())


def leaves(path: str, inside: tuple[str, ...]) -> bool:
    """Whether `path`, with every symlink resolved, is outside all of the real folders `inside`."""
    real = os.path.realpath(path)
    return not any(real == f or real.startswith(f.rstrip(os.sep) + os.sep) for f in inside)


def _nested_roots(scope: Scope, roots: set[str]) -> list[str]:
    """Watched folders below this scope: they own what is under them, and the walk skips them."""
    return [r for r in roots if r != scope.path and _at_or_under(r, scope.path)]


def _known_under(store: Store, scope: Scope, nested: list[str]) -> dict[str, KnownPhoto]:
    prefix = scope.path.rstrip(os.sep) + os.sep
    sql = (
        "SELECT id, path, size, mtime_ns, fingerprint, state, offline, sidecar_mtime_ns FROM photos "
        "WHERE path = ? OR (path >= ? AND path < ?)"
    )
    # '/' + 1 == '0': the range covers exactly the paths below the prefix and uses the path index.
    upper = prefix[:-1] + chr(ord(os.sep) + 1)
    rows = store.query(sql, (scope.path, prefix, upper))
    known = {}
    for r in rows:
        path = from_db(r[1])
        if not any(_at_or_under(path, n) for n in nested):
            known[path] = KnownPhoto(r[0], path, r[2], r[3], r[4], r[5], bool(r[6]), r[7])
    if not scope.recursive:
        known = {p: k for p, k in known.items() if os.path.dirname(p) == scope.path.rstrip(os.sep)}
    return known


def _folder_is_offline(root: str, had_photos: bool) -> bool:
    """Missing folder, or an empty mount point that used to hold photos: the drive is probably away."""
    if not os.path.isdir(root):
        return True
    if had_photos:
        try:
            with os.scandir(root) as it:
                return next(it, None) is None
        except OSError:
            return True
    return False


def scan(
    store: Store, scopes: list[Scope] | None = None, between_dirs: Callable[[], bool] | None = None
) -> ScanPlan:
    """Diff the disk against the store. With no scopes: every watched folder, recursively.
    between_dirs as in walk (no transaction is open while it waits: the scan only reads, statement by
    statement); raises ScanStopped when it says stop."""
    folders = store.folders()
    roots = {path for _, path, _ in folders}
    if scopes is None:
        scopes = [Scope(path, fid) for fid, path, _ in folders]
    online_before = {fid: online for fid, _, online in folders}
    plan = ScanPlan()
    inside = tuple(os.path.realpath(r) for r in roots)
    for scope in scopes:
        nested = _nested_roots(scope, roots)
        known = _known_under(store, scope, nested)
        is_root = scope.path in roots
        if is_root and _folder_is_offline(scope.path, bool(known)):
            plan.offline_folders.append(scope.folder_id)
            continue
        if is_root and not online_before.get(scope.folder_id, True):
            plan.online_folders.append(scope.folder_id)
        files, problems = _stat_scope(scope, roots, str(store.root), inside, between_dirs)
        _diff_problems(plan, store, scope, problems, nested)
        _diff(plan, files, known, [p.path for p in problems if p.reason.startswith(BLOCKING)])
    _find_retries(plan, store, scopes)
    return plan


def _find_retries(plan: ScanPlan, store: Store, scopes: list[Scope]) -> None:
    """Photos skipped because they could not be read get another try once they can be opened."""
    rows = store.query("SELECT id, path FROM photos WHERE state = 'skipped' AND reason LIKE 'unreadable:%'")
    for photo_id, stored in rows:
        path = from_db(stored)
        if not any(_at_or_under(path, s.path) for s in scopes):
            continue
        try:
            with open(path, "rb"):
                pass
        except OSError:
            continue
        plan.retry.append(photo_id)


def _at_or_under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _diff_problems(plan: ScanPlan, store: Store, scope: Scope, problems: list[Skipped], nested: list[str]) -> None:
    """Compare this scope's problems with those remembered; only new ones (or new reasons) get reported."""
    prefix = scope.path.rstrip(os.sep) + os.sep
    upper = prefix[:-1] + chr(ord(os.sep) + 1)
    known = {
        from_db(path): reason
        for path, reason in store.query(
            "SELECT path, reason FROM scan_problems WHERE path = ? OR (path >= ? AND path < ?)",
            (scope.path, prefix, upper),
        )
    }
    if not scope.recursive:
        known = {p: r for p, r in known.items() if p == scope.path or os.path.dirname(p) == scope.path.rstrip(os.sep)}
    known = {p: r for p, r in known.items() if not any(_at_or_under(p, n) for n in nested)}
    found = {p.path: p.reason for p in problems}
    plan.problems_gone.extend(p for p in known if p not in found)
    fresh = [p for p in problems if known.get(p.path) != p.reason]
    plan.problems.extend(fresh)
    plan.problems_to_record.extend((p.path, scope.folder_id, p.reason) for p in fresh)


def _stat_scope(
    scope: Scope,
    roots: set[str],
    library: str,
    inside: tuple[str, ...],
    between_dirs: Callable[[], bool] | None = None,
) -> tuple[list[FileStat], list[Skipped]]:
    if scope.path not in roots and leaves(scope.path, inside):
        return [], [Skipped(scope.path, LEFT_OUT)]
    if os.path.isdir(scope.path):
        # Nested watched folders own their own photos; the library's thumbnails are never photos.
        skip = frozenset(r for r in roots if r != scope.path) | {library}
        return walk(scope.path, scope.folder_id, skip, scope.recursive, inside, between_dirs)
    try:
        st = os.stat(scope.path)
    except OSError:
        return [], []
    if not (stat.S_ISREG(st.st_mode) and _is_photo_name(os.path.basename(scope.path))):
        return [], []
    return [FileStat(scope.path, st.st_size, mtime_ns(st), scope.folder_id, _sidecar_mtime(scope.path))], []


def _sidecar_mtime(path: str) -> int | None:
    base = Path(path)
    for candidate in (base.with_suffix(".txt"), base.with_name(base.name + ".txt")):
        try:
            return mtime_ns(candidate.stat())
        except OSError:
            continue
    return None


def _diff(plan: ScanPlan, files: list[FileStat], known: dict[str, KnownPhoto], blocked: list[str]) -> None:
    """blocked: paths that could not be listed or stat'ed; what the store knows there is kept, offline."""
    plan.seen += len(files)
    on_disk = set()
    for f in files:
        on_disk.add(f.path)
        old = known.get(f.path)
        if old is None:
            plan.new.append(f)
            continue
        if old.offline:
            plan.reachable.append(old.id)
        if old.size != f.size or old.mtime_ns != f.mtime_ns:
            plan.changed.append((old, f))
        elif old.sidecar_mtime_ns != f.sidecar_mtime_ns:
            plan.sidecar_changed.append((old, f.sidecar_mtime_ns))
    for path, old in known.items():
        if path in on_disk:
            continue
        if any(_at_or_under(path, b) for b in blocked):
            if not old.offline:
                plan.unreachable.append(old.id)
        else:
            plan.removed.append(old)


def match_moves(plan: ScanPlan) -> list[tuple[KnownPhoto, FileStat, str]]:
    """Pair vanished photos with new files of the same content. Only same-size files are hashed."""
    gone = defaultdict(list)
    for k in plan.removed:
        if k.fingerprint:
            gone[(k.size, k.fingerprint)].append(k)
    sizes = {size for size, _ in gone}
    moves: list[tuple[KnownPhoto, FileStat, str]] = []
    for f in plan.new:
        if f.size not in sizes:
            continue
        try:
            fp = fingerprint(f.path, f.size)
        except OSError:
            continue
        candidates = gone.get((f.size, fp))
        if candidates:
            moves.append((candidates.pop(), f, fp))
    return moves
