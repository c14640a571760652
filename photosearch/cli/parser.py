"""The command line's parser: global options (before or after the command), sub-commands, checks."""

from __future__ import annotations

import argparse
import math
from typing import NoReturn

from photosearch import __version__

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130
# 128 + SIGPIPE: what a shell reports for a tool stopped by a closed pipe (`seq 1e9 | head -1`), so
# scripts with `set -o pipefail` see the same as with any other command whose reader left early.
EXIT_BROKEN_PIPE = 141


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_globals(parser: argparse.ArgumentParser, top: bool) -> None:
    # Sub-commands get the same options with SUPPRESS defaults, so they work before or after the command.
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    parser.add_argument(
        "--library",
        metavar="DIR",
        type=_library_folder,
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
    parser.add_argument(
        "--device", choices=["auto", "cpu", "cuda", "mps"], default=default("auto"), help="where the model runs"
    )
    backends = ["auto", "torch", "onnx", "openvino"]
    parser.add_argument("--backend", choices=backends, default=default("auto"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--offline", action="store_true", default=default(False), help="never touch the network (no model download)"
    )
    parser.add_argument("--json", action="store_true", default=default(False), help="machine-readable output")


def _library_folder(text: str) -> str:
    if not text:  # would quietly mean the default library (or $PHOTOSEARCH_LIBRARY), and create it
        raise argparse.ArgumentTypeError("must name a folder, not be empty")
    return text


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
    # A text search's score is its cosine plus 2 x its text match (README: What the scores mean).
    if not math.isfinite(value) or not -1.0 <= value <= 3.0:
        raise argparse.ArgumentTypeError(f"must be a score from -1 to 3: {text}")
    return value


def _filters(parser: argparse.ArgumentParser, k: int) -> None:
    parser.add_argument("-k", "--top", dest="k", type=_positive_int, default=k, help=f"number of results (default {k})")
    parser.add_argument(
        "--min-score", type=_score, default=None,
        help="hide results scoring below this (-1..3: the cosine, plus 2 x the text match of a text search)",
    )
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
    _image_query_options(p)
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
    cs = csub.add_parser(
        "search", help="captions matching a text or an image", description="captions matching a text or an image"
    )
    _add_globals(cs, top=False)
    cs.add_argument("text", nargs="*", help="the query; words starting with - are excluded terms")
    cs.add_argument(
        "--image",
        metavar="IMAGE",
        action="append",
        default=[],
        help="captions matching this image instead of a text (repeatable: several images query together)",
    )
    _image_query_options(cs)
    cs.add_argument("-k", "--top", dest="k", type=_positive_int, default=10, help="number of results (default 10)")
    cs.add_argument("--folder", default=None, help="only captions of photos under this folder")
    p = command("status", "what the library holds")
    p.add_argument("--skipped", action="store_true", help="list every skipped file with its reason")
    p = command("folders", "list, add or remove watched folders")
    p.add_argument("action", nargs="?", choices=["list", "add", "remove"], default="list")
    p.add_argument("dirs", nargs="*", metavar="DIR")
    p = command("eval", "text -> image Recall@K of a caption CSV against the library")
    p.add_argument("csv")
    p.add_argument("-k", dest="ks", nargs="+", type=_positive_int, default=[1, 5, 10], help="the Ks (default 1 5 10)")
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


def _image_query_options(p: argparse.ArgumentParser) -> None:
    """An image query's words and images added or taken away: `similar` and `captions search --image` alike."""
    p.add_argument("--plus", metavar="TEXT", default=None, help='words to add ("at night")')
    p.add_argument("--minus", metavar="TEXT", action="append", default=[], help="words to take away (repeatable)")
    p.add_argument("--minus-image", metavar="IMAGE", action="append", default=[], help="an image to take away")
    p.add_argument("--weight", type=_unit_float, default=0.5, help="0..1: how much the words count (default 0.5)")


# The sub-commands whose words are a query, in which `-word` is an excluded term.
_QUERY_COMMANDS = (("search",), ("captions", "search"))


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return parser._subparsers._group_actions[0].choices if parser._subparsers else {}  # type: ignore[return-value]


def _query_words_last(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """`search -dog` means an excluded term, not an option: move the query words of `search` and
    `captions search` after a `--`, so argparse takes every one of them as text and only their real
    options (as argparse itself reads them: `-k5`, `--fold DIR`) as options. A word that looks like an
    option can still be excluded inside the quoted query: `search "dog -k9"`."""
    i, path, sub = 0, (), parser
    while path not in _QUERY_COMMANDS:
        options = _options_of(sub)
        while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
            i += _option_span(options, argv[i]) or 1
        commands = _subcommands(sub)
        if i >= len(argv) or argv[i] not in commands:
            return argv
        path, sub, i = (*path, argv[i]), commands[argv[i]], i + 1
    options = _options_of(sub)
    keep, words, rest = [], [], argv[i:]
    j = 0
    while j < len(rest):
        token = rest[j]
        if token == "--":
            words += rest[j + 1 :]
            break
        span = _option_span(options, token)
        if span is None and token.startswith("--") and len(token) > 2:
            span = 1  # an unknown or ambiguous --long option is left for argparse to refuse
        if span is None:
            words.append(token)
            span = 1
        else:
            keep += rest[j : j + span]
        j += span
    return [*argv[:i], *keep, "--", *words] if words else argv


def _options_of(parser: argparse.ArgumentParser) -> dict[str, bool]:
    """Each option string of `parser`, and whether it takes a value."""
    return {o: a.nargs != 0 for a in parser._actions for o in a.option_strings}


def _option_span(options: dict[str, bool], token: str) -> int | None:
    """How many argv tokens the option `token` spans as argparse reads it (1, or 2 with its value),
    or None when it is none of `options`. Counted: `--name=value`, an unambiguous start of a long
    option (`--fold`), a short option with a number attached (`-k5`); `-kitten` is a word."""
    name, has_value = token.split("=", 1)[0], "=" in token
    if name.startswith("--"):
        matches = [name] if name in options else [o for o in options if o.startswith(name)]
        if len(matches) != 1:
            return None
        name = matches[0]
    elif name not in options:
        if not (len(token) > 2 and options.get(token[:2]) and token[2].isdigit()):
            return None
        name, has_value = token[:2], True
    return 2 if options[name] and not has_value else 1
