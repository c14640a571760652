"""Command line: `photosearch [global options] COMMAND ...`; with no command, the desktop app opens."""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from photosearch import __version__
from photosearch.core.dates import iso_date
from photosearch.core.errors import PhotoSearchError
from photosearch.core.terminal import json_text, safe

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_globals(parser: argparse.ArgumentParser, top: bool) -> None:
    # Sub-commands get the same options with SUPPRESS defaults, so they work before or after the command.
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    parser.add_argument(
        "--library",
        metavar="DIR",
        default=default(None),
        help="library folder (default: user data dir, or $PHOTOSEARCH_LIBRARY)",
    )
    parser.add_argument(
        "--model",
        metavar="M",
        default=default(None),
        help="open_clip model name or model-config JSON (default: the library's, else ViT-B-32)",
    )
    parser.add_argument(
        "--pretrained", metavar="P", default=default(None), help="pretrained tag, local checkpoint file, or 'random'"
    )
    parser.add_argument(
        "--tag",
        metavar="TAG",
        default=default(None),
        help="the open_clip pretrained tag a --pretrained checkpoint file holds (sets its preprocessing)",
    )
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default=default("auto"))
    backends = ["auto", "torch", "onnx", "openvino"]
    parser.add_argument("--backend", choices=backends, default=default("auto"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--offline", action="store_true", default=default(False), help="never touch the network (no model download)"
    )
    parser.add_argument("--json", action="store_true", default=default(False), help="machine-readable output")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or not -1.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number from -1 to 1 (a cosine similarity): {text}")
    return value


def _filters(parser: argparse.ArgumentParser, k: int) -> None:
    parser.add_argument("-k", "--top", dest="k", type=_positive_int, default=k, help=f"number of results (default {k})")
    parser.add_argument("--min-score", type=_score, default=None, help="hide results scoring below this (-1..1)")
    parser.add_argument("--folder", default=None, help="only photos under this folder")
    parser.add_argument("--no-offline", action="store_true", help="leave out photos on drives that are away")
    _date_filters(parser)


def _date_filters(parser: argparse.ArgumentParser, sort: bool = True) -> None:
    # issue 11: date range and order (dates are checked in _filters_of, for a one-line error)
    parser.add_argument("--after", metavar="DATE", default=None, help="taken on or after YYYY, YYYY-MM or YYYY-MM-DD")
    parser.add_argument("--before", metavar="DATE", default=None, help="taken on or before YYYY, YYYY-MM or YYYY-MM-DD")
    if sort:
        parser.add_argument("--sort", choices=["relevance", "date"], default="relevance", help="order of the results")
        parser.add_argument(
            "--best", action="store_true", help="only the best matches (cut where this query's scores fall off)"
        )


def _unit_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="photosearch", description="Find your photos by what they show. Offline, private.")
    parser.add_argument("--version", action="version", version=f"photosearch {__version__}")
    _add_globals(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_globals(p, top=False)
        return p

    p = command("index", "add folders (optional) and index every watched folder")
    p.add_argument("dirs", nargs="*", metavar="DIR")
    p.add_argument("--no-ocr", action="store_true", help="do not read the text in photos this time")
    p = command("search", 'photos matching a text (use -word to exclude, "quotes" for phrases)')
    p.add_argument("text", nargs="+", help="the query; words starting with - are excluded terms")
    _filters(p, 20)
    p = command("similar", "photos that look like one or more images (in the library or not)")
    p.add_argument("image", nargs="+")
    _filters(p, 20)
    p.add_argument("--plus", metavar="TEXT", default=None, help='words to add ("at night")')
    p.add_argument("--minus", metavar="TEXT", action="append", default=[], help="words to take away (repeatable)")
    p.add_argument("--minus-image", metavar="IMAGE", action="append", default=[], help="an image to take away")
    p.add_argument("--weight", type=_unit_float, default=0.5, help="0..1: how much the words count (default 0.5)")
    p = command("browse", "every photo, newest first by date taken")
    p.add_argument("-k", "--top", dest="k", type=_positive_int, default=50, help="number of photos (default 50)")
    p.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--folder", default=None, help="only photos under this folder")
    p.add_argument("--no-offline", action="store_true", help="leave out photos on drives that are away")
    _date_filters(p, sort=False)
    p = command("captions", "import caption CSVs and search captions")
    csub = p.add_subparsers(dest="captions_command", metavar="ACTION", parser_class=_Parser, required=True)
    ci = csub.add_parser("import", help="import an image,description CSV")
    _add_globals(ci, top=False)
    ci.add_argument("csv")
    cs = csub.add_parser("search", help="captions matching a text or an image")
    _add_globals(cs, top=False)
    cs.add_argument("text", nargs="?")
    cs.add_argument("--image", default=None)
    cs.add_argument("-k", "--top", dest="k", type=_positive_int, default=10)
    cs.add_argument("--folder", default=None)
    p = command("status", "what the library holds")
    p.add_argument("--skipped", action="store_true", help="list every skipped file with its reason")
    p = command("folders", "list, add or remove watched folders")
    p.add_argument("action", nargs="?", choices=["list", "add", "remove"], default="list")
    p.add_argument("dirs", nargs="*", metavar="DIR")
    p = command("eval", "text -> image Recall@K of a caption CSV against the library")
    p.add_argument("csv")
    p.add_argument("-k", dest="ks", nargs="+", type=_positive_int, default=[1, 5, 10])
    command("restore", "put the newest backup of the library database back (the current one is kept aside)")
    p = command("duplicates", "groups of copies, near-identical photos and (with --similarity) similar shots")
    p.add_argument(
        "--similarity", type=float, default=None, metavar="S", help="also group shots whose CLIP cosine is >= S"
    )
    p = command("gui", "open the desktop app")
    p.add_argument("--screenshot", metavar="OUT.png", default=None, help=argparse.SUPPRESS)
    p.add_argument("--query", default=None, help=argparse.SUPPRESS)
    p.add_argument("--query-image", default=None, help=argparse.SUPPRESS)
    return parser


def _query_words_last(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """`search -dog` means an excluded term, not an option: move the query words of `search` after a
    `--`, so argparse takes every one of them (-dog, -k9 included) as text and only real options as options."""
    takes_value = {o for a in parser._actions for o in a.option_strings if a.nargs != 0}
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        i += 2 if argv[i] in takes_value else 1
    if i >= len(argv) or argv[i] != "search":
        return argv
    sub = parser._subparsers._group_actions[0].choices["search"]  # type: ignore[union-attr]
    options = {o: a.nargs != 0 for a in sub._actions for o in a.option_strings}
    keep, words, rest = [], [], argv[i + 1 :]
    j = 0
    while j < len(rest):
        token = rest[j]
        name = token.split("=", 1)[0]
        if token == "--":
            words += rest[j + 1 :]
            break
        if name in options or (token.startswith("--") and len(token) > 2):
            keep.append(token)  # a real option (an unknown --long one is left for argparse to refuse)
            if options.get(name) and "=" not in token and j + 1 < len(rest):
                keep.append(rest[j + 1])
                j += 1
        else:
            words.append(token)
        j += 1
    return [*argv[: i + 1], *keep, "--", *words] if words else argv


def main(argv: Sequence[str] | None = None) -> int:
    # A packaged (frozen) app starts its text-reader process through this executable: let it run there.
    multiprocessing.freeze_support()
    parser = build_parser()
    args = parser.parse_args(_query_words_last(parser, list(sys.argv[1:] if argv is None else argv)))
    try:
        try:
            return _dispatch(args)
        except (MemoryError, ImportError, OSError, RuntimeError) as exc:
            from photosearch.core.memory import explain

            explained = explain(exc, getattr(args, "backend", "auto"))
            if explained is None:
                raise
            raise explained from None
    except PhotoSearchError as exc:
        print(f"photosearch: error: {safe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("photosearch: interrupted; everything committed so far is kept", file=sys.stderr)
        return EXIT_INTERRUPTED


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in (None, "gui"):
        return _gui(args)
    if args.command == "restore":  # before opening the library: its database may be gone or damaged
        return _restore(args)
    from photosearch.core.memory import check_address_space

    check_address_space(args.backend)  # before numpy, faiss or a model can fail (or crash) for lack of it
    from photosearch.core.library import Library

    library = Library(
        args.library,
        model=args.model,
        pretrained=args.pretrained,
        device=args.device,
        offline=args.offline,
        backend=args.backend,
        on_model_progress=None if args.json else _note,
        tag=args.tag,
    )
    try:
        handler = {
            "index": _index,
            "search": _search,
            "similar": _similar,
            "browse": _browse,
            "captions": _captions,
            "status": _status,
            "folders": _folders,
            "eval": _eval,
            "duplicates": _duplicates,
        }[args.command]
        return handler(library, args)
    finally:
        library.close()


def _note(message: str) -> None:
    print(safe(message), file=sys.stderr)


def _emit(args: argparse.Namespace, data: Any, human: str) -> int:
    print(json_text(data, indent=None if isinstance(data, list) else 2) if args.json else human)
    return EXIT_OK


def _index(library, args: argparse.Namespace) -> int:
    for directory in args.dirs:
        library.add_folder(directory)
    if not library.folders():
        raise PhotoSearchError("no folders to index: give one, e.g. `photosearch index ~/Pictures`")
    bar = _ProgressBar(enabled=sys.stderr.isatty() or not args.json)
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
    lines += [f"  skipped {safe(s.path)}: {safe(s.reason)}" for s in summary.skipped]
    return _emit(args, data, "\n".join(lines))


_UNITS = {"encoding": "photo", "importing": "row", "captions": "caption", "reading text": "photo"}


class _ProgressBar:
    """tqdm on stderr: count, rate and ETA while encoding photos, importing rows or embedding captions."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar = None
        self._phase = None

    def update(self, progress) -> None:
        if not self.enabled or progress.phase not in _UNITS:
            return
        if self._bar is None or self._phase != progress.phase:
            from tqdm import tqdm

            self.close()
            total = progress.total or None
            unit = _UNITS[progress.phase]
            self._bar = tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True)
            self._phase = progress.phase
        self._bar.n = progress.done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _results_text(results) -> str:
    if not results:
        return "no matches"
    lines = []
    for r in results:
        score = "       " if r.score is None else f"{r.score:7.4f}"
        date = (iso_date(r.date) or "")[:10]
        why = f"  [{', '.join(r.why)}]" if r.why else ""
        lines.append(f"{score}  {date}  {safe(r.path)}{why}" + (f"  — {safe(r.caption)}" if r.caption else ""))
    return "\n".join(lines)


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


def _search(library, args: argparse.Namespace) -> int:
    text = " ".join(args.text) if isinstance(args.text, list) else args.text
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
    if not args.text and not args.image:
        raise PhotoSearchError("captions search needs a TEXT or --image IMAGE")
    if args.text and args.image:
        raise PhotoSearchError("captions search takes a TEXT or --image IMAGE, not both")
    folder = _folder_filter(library, args.folder)
    results = library.search_captions(text=args.text, image=args.image, k=args.k, folder=folder)
    human = "\n".join(f"{r.score:7.4f}  {safe(r.path)}  — {safe(r.caption)}" for r in results) or "no matches"
    return _emit(args, [r.to_json() for r in results], human)


def _status(library, args: argparse.Namespace) -> int:
    data = library.status()
    if args.skipped:
        data["skipped_files"] = library.skipped()
    p = data["photos"]
    lines = [
        f"library   {safe(data['library'])}",
        f"model     {safe(data['model'])}",
        f"device    {safe(data['device'])} ({safe(data['backend'])})",
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
    for directory in args.dirs:
        if args.action == "add":
            library.add_folder(directory)
        elif args.action == "remove":
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


def _gui(args: argparse.Namespace) -> int:
    try:
        from photosearch.ui.app import run
    except ImportError as exc:
        raise PhotoSearchError(f"the desktop app cannot start: {exc}") from None
    return run(args)
