"""Commands that find photos: search, similar, browse and captions (import and search)."""

from __future__ import annotations

import argparse
import os
import sys

from photosearch.cli.output import _emit, _note, _ProgressBar, _results_text
from photosearch.core.errors import PhotoSearchError
from photosearch.core.terminal import safe


def _folder_filter(library, folder: str | None) -> str | None:
    """--folder resolved as `index` resolves folders; it must be, hold or be inside a watched folder."""
    if folder is None:
        return None
    path = os.path.realpath(os.path.expanduser(folder))
    watched = [f.path for f in library.folders()]
    if not any(
        path == w or path.startswith(w.rstrip(os.sep) + os.sep) or w.startswith(path.rstrip(os.sep) + os.sep)
        for w in watched
    ):
        raise PhotoSearchError(f"--folder {path} is not a watched folder, nor inside one (see `photosearch folders`)")
    return path


def _filters_of(library, args: argparse.Namespace):
    from photosearch.core.filters import Filters

    return Filters.from_text(
        folder=_folder_filter(library, args.folder),
        after=args.after,
        before=args.before,
        include_offline=not args.no_offline,
    )


def _query_text(args: argparse.Namespace) -> str:
    """The query's words, as one text: `search cat -dog` is `search "cat -dog"`."""
    return " ".join(args.text) if isinstance(args.text, list) else args.text or ""


def _search(library, args: argparse.Namespace) -> int:
    text = _query_text(args)
    filters = _filters_of(library, args)
    results = library.search_text(
        text, args.k, min_score=args.min_score, filters=filters, best=args.best, sort=args.sort
    )
    _warn_if_empty_model(library, args)
    return _emit(args, [r.to_json() for r in results], _results_text(results))


def _similar(library, args: argparse.Namespace) -> int:
    filters = _filters_of(library, args)
    results = library.search_image(
        args.image,
        args.k,
        min_score=args.min_score,
        filters=filters,
        best=args.best,
        sort=args.sort,
        plus=args.plus,
        minus=args.minus,
        minus_images=args.minus_image,
        weight=args.weight,
    )
    _warn_if_empty_model(library, args)
    return _emit(args, [r.to_json() for r in results], _results_text(results))


def _browse(library, args: argparse.Namespace) -> int:
    results = library.browse(args.k, max(args.offset, 0), filters=_filters_of(library, args))
    return _emit(args, [r.to_json() for r in results], _results_text(results) if results else "no photos")


def _warn_if_empty_model(library, args: argparse.Namespace) -> None:
    if library.engine().size == 0:
        _note(f"note: no photos are encoded with {library.spec.describe()} yet; run `photosearch index`")


def _captions(library, args: argparse.Namespace) -> int:
    if args.captions_command == "import":
        bar = _ProgressBar(enabled=sys.stderr.isatty())
        try:
            report = library.import_captions(args.csv, progress=bar.update)
        finally:
            bar.close()
        human = (
            f"imported {report['imported']} captions ({report['duplicates']} already there); "
            f"{report['missing_count']} rows name missing files, {report['rejected_count']} rows rejected, "
            f"{report['not_indexed']} photos not indexed yet"
        )
        human += "".join(f"\n  line {m['line']}: missing file {safe(m['path'])}" for m in report["missing"][:20])
        human += "".join(f"\n  line {m['line']}: {safe(m['reason'])}" for m in report["rejected"][:20])
        return _emit(args, report, human)
    text = _query_text(args)
    if not text and not args.image:
        raise PhotoSearchError("captions search needs a TEXT or --image IMAGE")
    if text and args.image:
        raise PhotoSearchError("captions search takes a TEXT or --image IMAGE, not both")
    if text and (args.plus is not None or args.minus or args.minus_image):
        raise PhotoSearchError("--plus, --minus and --minus-image go with --image (a text query excludes with -word)")
    folder = _folder_filter(library, args.folder)
    combined = {"plus": args.plus, "minus": args.minus, "minus_images": args.minus_image, "weight": args.weight}
    if text:
        results = library.search_captions(text=text, k=args.k, folder=folder)
    else:
        results = library.search_captions(image=args.image, k=args.k, folder=folder, **combined)
    human = "\n".join(f"{r.score:7.4f}  {safe(r.path)}  — {safe(r.caption)}{_copies(r)}" for r in results)
    human = human or "no matches"
    return _emit(args, [r.to_json() for r in results], human)


def _copies(result) -> str:
    """"  (+2 copies)": one row stands for the copies of a photo holding the same caption (JSON lists them)."""
    count = len(result.copies)
    return f"  (+{count} cop{'y' if count == 1 else 'ies'})" if count else ""
