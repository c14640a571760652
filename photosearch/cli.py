"""Command line: `photosearch [global options] COMMAND ...`; with no command, the desktop app opens."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from photosearch import __version__
from photosearch.core.errors import PhotoSearchError

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
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default=default("auto"))
    parser.add_argument("--backend", choices=["auto", "torch", "onnx"], default=default("auto"), help=argparse.SUPPRESS)
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


def _filters(parser: argparse.ArgumentParser, k: int) -> None:
    parser.add_argument("-k", "--top", dest="k", type=_positive_int, default=k, help=f"number of results (default {k})")
    parser.add_argument("--min-score", type=float, default=None, help="hide results scoring below this")
    parser.add_argument("--folder", default=None, help="only photos under this folder")
    parser.add_argument("--no-offline", action="store_true", help="leave out photos on drives that are away")


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
    p.add_argument("text")
    _filters(p, 20)
    p = command("similar", "photos that look like an image (in the library or not)")
    p.add_argument("image")
    _filters(p, 20)
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
    p = command("duplicates", "groups of copies, near-identical photos and (with --similarity) similar shots")
    p.add_argument(
        "--similarity", type=float, default=None, metavar="S", help="also group shots whose CLIP cosine is >= S"
    )
    p = command("gui", "open the desktop app")
    p.add_argument("--screenshot", metavar="OUT.png", default=None, help=argparse.SUPPRESS)
    p.add_argument("--query", default=None, help=argparse.SUPPRESS)
    p.add_argument("--query-image", default=None, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # A packaged (frozen) app starts its text-reader process through this executable: let it run there.
    multiprocessing.freeze_support()
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except PhotoSearchError as exc:
        print(f"photosearch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("photosearch: interrupted; everything committed so far is kept", file=sys.stderr)
        return EXIT_INTERRUPTED


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in (None, "gui"):
        return _gui(args)
    from photosearch.core.library import Library

    library = Library(
        args.library,
        model=args.model,
        pretrained=args.pretrained,
        device=args.device,
        offline=args.offline,
        backend=args.backend,
        on_model_progress=None if args.json else _note,
    )
    try:
        handler = {
            "index": _index,
            "search": _search,
            "similar": _similar,
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
    print(message, file=sys.stderr)


def _emit(args: argparse.Namespace, data: Any, human: str) -> int:
    print(json.dumps(data, ensure_ascii=False, indent=None if isinstance(data, list) else 2) if args.json else human)
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
    lines += [f"  skipped {s.path}: {s.reason}" for s in summary.skipped]
    return _emit(args, data, "\n".join(lines))


class _ProgressBar:
    """tqdm on stderr: count, rate and ETA while encoding."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar = None
        self._phase = ""

    def update(self, progress) -> None:
        if not self.enabled or progress.phase not in ("encoding", "reading text"):
            return
        if self._bar is not None and self._phase != progress.phase:
            self.close()
        if self._bar is None:
            from tqdm import tqdm

            self._phase = progress.phase
            desc = "text" if progress.phase == "reading text" else None
            self._bar = tqdm(total=progress.total, unit="photo", file=sys.stderr, dynamic_ncols=True, desc=desc)
        self._bar.n = progress.done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _results_text(results) -> str:
    if not results:
        return "no matches"
    return "\n".join(f"{r.score:7.4f}  {r.path}" + (f"  — {r.caption}" if r.caption else "") for r in results)


def _search(library, args: argparse.Namespace) -> int:
    results = library.search_text(
        args.text, args.k, min_score=args.min_score, folder=args.folder, include_offline=not args.no_offline
    )
    _warn_if_empty_model(library, args)
    return _emit(args, [r.to_json() for r in results], _results_text(results))


def _similar(library, args: argparse.Namespace) -> int:
    results = library.search_image(
        args.image, args.k, min_score=args.min_score, folder=args.folder, include_offline=not args.no_offline
    )
    _warn_if_empty_model(library, args)
    return _emit(args, [r.to_json() for r in results], _results_text(results))


def _warn_if_empty_model(library, args: argparse.Namespace) -> None:
    if library.engine().size == 0:
        _note(f"note: no photos are encoded with {library.spec.describe()} yet; run `photosearch index`")


def _captions(library, args: argparse.Namespace) -> int:
    if args.captions_command == "import":
        report = library.import_captions(args.csv)
        human = (
            f"imported {report['imported']} captions ({report['duplicates']} already there); "
            f"{len(report['missing'])} rows name missing files, {len(report['rejected'])} rows rejected, "
            f"{report['not_indexed']} photos not indexed yet"
        )
        human += "".join(f"\n  line {m['line']}: missing file {m['path']}" for m in report["missing"][:20])
        human += "".join(f"\n  line {m['line']}: {m['reason']}" for m in report["rejected"][:20])
        return _emit(args, report, human)
    if not args.text and not args.image:
        raise PhotoSearchError("captions search needs a TEXT or --image IMAGE")
    if args.text and args.image:
        raise PhotoSearchError("captions search takes a TEXT or --image IMAGE, not both")
    results = library.search_captions(text=args.text, image=args.image, k=args.k, folder=args.folder)
    human = "\n".join(f"{r.score:7.4f}  {r.path}  — {r.caption}" for r in results) or "no matches"
    return _emit(args, [r.to_json() for r in results], human)


def _status(library, args: argparse.Namespace) -> int:
    data = library.status()
    if args.skipped:
        data["skipped_files"] = library.skipped()
    p = data["photos"]
    lines = [
        f"library   {data['library']}",
        f"model     {data['model']}",
        f"device    {data['device']}",
        f"photos    {p['indexed']} indexed, {p['pending']} pending, {p['skipped']} skipped, {p['offline']} offline",
        f"captions  {data['captions']}",
        f"text      {data['ocr']['done']} photos read, {data['ocr']['pending']} pending",
    ]
    lines += [
        f"folder    {f['path']} ({f['photos']} photos{'' if f['online'] else ', OFFLINE'})" for f in data["folders"]
    ]
    lines += [f"skipped   {s['path']}: {s['reason']}" for s in data.get("skipped_files", [])]
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
    human = "\n".join(f"{f['path']}  ({f['photos']} photos{'' if f['online'] else ', offline'})" for f in folders)
    return _emit(args, folders, human or "no watched folders")


def _eval(library, args: argparse.Namespace) -> int:
    data = library.evaluate(args.csv, args.ks)
    human = f"{data['queries']} queries: " + ", ".join(
        f"{k} {v:.3f}" for k, v in data.items() if k.startswith("recall")
    )
    return _emit(args, data, human)


def _duplicates(library, args: argparse.Namespace) -> int:
    groups = library.duplicates(similarity=args.similarity)
    lines = []
    for group in groups:
        lines.append(f"{group.kind} ({group.score:.3f}), {len(group.photos)} photos:")
        lines += [
            f"  {'keep' if p.keep else '    '}  {p.width}x{p.height}  {p.bytes:>10} B  {p.date}  {p.path}"
            for p in group.photos
        ]
    return _emit(args, [g.to_json() for g in groups], "\n".join(lines) or "no duplicates")


def _gui(args: argparse.Namespace) -> int:
    try:
        from photosearch.ui.app import run
    except ImportError as exc:
        raise PhotoSearchError(f"the desktop app cannot start: {exc}") from None
    return run(args)
