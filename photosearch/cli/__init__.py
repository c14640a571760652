"""Command line: `photosearch [global options] COMMAND ...`; with no command, the desktop app opens.

parser (options and sub-commands), output (what is printed), search_commands and library_commands
(one function per command); main() here parses, dispatches and turns errors into one line.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from collections.abc import Sequence

from photosearch.cli.library_commands import _duplicates, _eval, _folders, _index, _restore, _status
from photosearch.cli.output import _note
from photosearch.cli.parser import EXIT_INTERRUPTED, EXIT_USAGE, _query_words_last, build_parser
from photosearch.cli.search_commands import _browse, _captions, _search, _similar
from photosearch.core.errors import PhotoSearchError
from photosearch.core.terminal import safe

__all__ = ["build_parser", "main"]


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


def _gui(args: argparse.Namespace) -> int:
    try:
        from photosearch.ui.app import run
    except ImportError as exc:
        raise PhotoSearchError(f"the desktop app cannot start: {exc}") from None
    return run(args)
