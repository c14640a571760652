"""Commands that keep the library: index, status, folders, eval, restore and duplicates."""

from __future__ import annotations

import argparse
import shlex
import sys

from photosearch.cli.output import _emit, _ProgressBar
from photosearch.core.errors import PhotoSearchError
from photosearch.core.terminal import safe


def _index(library, args: argparse.Namespace) -> int:
    library.add_folders(args.dirs)
    if not library.folders():
        raise PhotoSearchError("no folders to index: give one, e.g. `photosearch index ~/Pictures`")
    bar = _ProgressBar(enabled=sys.stderr.isatty())  # a log or a pipe gets the summary, not redrawn bars
    try:
        summary = library.index(progress=bar.update, read_text=not args.no_ocr)
    finally:
        bar.close()
    data = summary.to_json()
    lines = [
        f"added {summary.added}, updated {summary.updated}, moved {summary.moved}, removed {summary.removed}, "
        f"encoded {summary.encoded}, offline {summary.offline}, skipped {len(summary.skipped)} "
        f"in {summary.seconds:.1f} s"
    ]
    lines += [_moved_hint(m) for m in summary.moved_folders]
    lines += [f"  skipped {safe(s.path)}: {safe(s.reason)}" for s in summary.skipped]
    return _emit(args, data, "\n".join(lines))


def _moved_hint(moved) -> str:
    """An offline folder whose photos are in another watched folder, in one line: removing it is up to the user."""
    if moved.photos == 1:
        counted = "its photo is"
    elif moved.found == moved.photos:
        counted = f"its {moved.photos} photos are"
    else:
        counted = f"{moved.found} of its {moved.photos} photos are"
    where = safe(moved.elsewhere) if moved.elsewhere else "other watched folders"
    return (
        f"{safe(moved.path)} is offline and {counted} in {where}: if it moved, remove it with "
        f"`photosearch folders remove {safe(shlex.quote(moved.path))}`"
    )


def _status(library, args: argparse.Namespace) -> int:
    data = library.status()
    if args.skipped:
        data["skipped_files"] = library.skipped(connected_only=True)  # as many as the count says
    p = data["photos"]
    # An unavailable device makes the backend the same "unavailable (why)": say it once.
    backend = "" if data["backend"] == data["device"] else f" ({safe(data['backend'])})"
    lines = [
        f"library   {safe(data['library'])}",
        f"model     {safe(data['model'])}",
        f"device    {safe(data['device'])}{backend}",
        f"photos    {p['indexed']} indexed, {p['pending']} pending, {p['skipped']} skipped, {p['offline']} offline",
        f"captions  {data['captions']}"
        + (f" ({data['captions_pending']} not embedded yet)" if data.get("captions_pending") else ""),
        f"text      {data['ocr']['done']} photos read, {data['ocr']['pending']} pending",
    ]
    lines += [
        f"folder    {safe(f['path'])} ({f['photos']} photos{'' if f['online'] else ', OFFLINE'})"
        for f in data["folders"]
    ]
    lines += [f"skipped   {safe(s['path'])}: {safe(s['reason'])}" for s in data.get("skipped_files", [])]
    return _emit(args, data, "\n".join(lines))


def _folders(library, args: argparse.Namespace) -> int:
    if args.action in ("add", "remove") and not args.dirs:
        raise PhotoSearchError(f"folders {args.action} needs at least one DIR")
    if args.action == "add":
        library.add_folders(args.dirs)
    elif args.action == "remove":
        for directory in args.dirs:
            library.remove_folder(directory)
    folders = [{"path": f.path, "online": f.online, "photos": f.photos} for f in library.folders()]
    human = "\n".join(f"{safe(f['path'])}  ({f['photos']} photos{'' if f['online'] else ', offline'})" for f in folders)
    return _emit(args, folders, human or "no watched folders")


def _eval(library, args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        print(f"\revaluating {done}/{total} captions", end="" if done < total else "\n", file=sys.stderr, flush=True)

    data = library.evaluate(args.csv, args.ks, progress=None if args.json else progress)
    human = f"{data['queries']} queries: " + ", ".join(
        f"{k} {v:.3f}" for k, v in data.items() if k.startswith("recall")
    )
    return _emit(args, data, human)


def _restore(args: argparse.Namespace) -> int:
    from photosearch.core.backup import restore
    from photosearch.core.lock import writer_lock
    from photosearch.core.paths import library_dir
    from photosearch.core.store import DB_NAME, Store

    root = library_dir(args.library)
    if not root.is_dir():
        raise PhotoSearchError(f"no library folder at {root}")
    with writer_lock(root, "restoring a backup"):
        data = restore(root, root / DB_NAME)
    store = Store(root, readonly=True)
    try:
        ((photos, captions),) = store.query("SELECT (SELECT COUNT(*) FROM photos), (SELECT COUNT(*) FROM captions)")
    finally:
        store.close()
    data.update(photos=photos, captions=captions)
    human = f"restored {safe(data['restored_from'])}: {photos} photos, {captions} captions"
    if data["replaced_database_kept_as"]:
        human += f"; the database it replaced is kept as {safe(data['replaced_database_kept_as'])}"
    return _emit(args, data, human)


def _duplicates(library, args: argparse.Namespace) -> int:
    groups = library.duplicates(similarity=args.similarity)
    lines = []
    for group in groups:
        lines.append(f"{group.kind} ({group.score:.3f}), {len(group.photos)} photos:")
        lines += [
            f"  {'keep' if p.keep else '    '}  {p.width}x{p.height}  {p.bytes:>10} B  {p.date}  {safe(p.path)}"
            for p in group.photos
        ]
    return _emit(args, [g.to_json() for g in groups], "\n".join(lines) or "no duplicates")
