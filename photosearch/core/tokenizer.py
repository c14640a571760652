"""CLIP byte-level BPE tokenizer without torch or open_clip.

Gives the same token ids as open_clip's ``SimpleTokenizer`` (the tokenizer of the OpenAI-style
CLIP models: ViT-B-32, ViT-B-16, ViT-L-14, ...) so that the ONNX text tower can run on a
cold start without importing torch. The merge table is the ``bpe_simple_vocab_16e6.txt.gz``
file shipped inside the installed open_clip package; the package is located but not imported
(importing it pulls in torch and torchvision, seconds of start-up).

Algorithm (as in OpenAI CLIP): fix mojibake (ftfy), unescape HTML twice, collapse whitespace
and lower-case; split into words with a regex; map each word's UTF-8 bytes to printable
characters; merge adjacent symbol pairs by merge rank until no ranked pair is left; look the
symbols up in the vocabulary. Each row is ``<start_of_text> ids... <end_of_text>`` padded with
0 to the context length; a longer row is cut and its last id replaced by ``<end_of_text>``.
"""

from __future__ import annotations

import functools
import gzip
import html
import importlib.util
import itertools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ftfy
import numpy as np
import regex

VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz"
DEFAULT_CONTEXT_LENGTH = 77
START, END = "<start_of_text>", "<end_of_text>"
END_OF_WORD = "</w>"
# SimpleTokenizer's vocabulary: 256 byte symbols, the same with </w>, the merges, 2 specials.
_MERGES = 49152 - 256 - 2
VOCAB_SIZE = 2 * 256 + _MERGES + 2

# Specials first so "<end_of_text>" typed by the user is one token, as in open_clip; then
# English contractions, runs of letters, single digits, runs of other non-space characters.
_WORDS = regex.compile(
    r"<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+",
    regex.IGNORECASE,
)


def vocab_path() -> Path:
    """The merge table inside the installed open_clip package (which is not imported)."""
    spec = importlib.util.find_spec("open_clip")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / VOCAB_FILE
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{VOCAB_FILE} was not found in the open_clip package")


def _byte_symbols() -> list[str]:
    """One printable character per byte value (index = byte), as GPT-2/CLIP BPE defines them.

    Bytes that are printable Latin-1 stand for themselves; the others (controls, space,
    soft hyphen, ...) get the characters from U+0100 on, in byte order.
    """
    printable = {*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)}
    symbols: list[str] = []
    extra = 0
    for byte in range(256):
        if byte in printable:
            symbols.append(chr(byte))
        else:
            symbols.append(chr(0x100 + extra))
            extra += 1
    return symbols


class _Vocabulary:
    def __init__(self, path: Path) -> None:
        self.byte_symbols = _byte_symbols()
        lines = gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")
        merges = [tuple(line.split()) for line in lines[1 : 1 + _MERGES]]
        # Vocabulary ids: the printable-byte symbols in their table order first (the order
        # CLIP was trained with), then those again as word ends, then one id per merge.
        ordered = [chr(b) for b in range(256) if self.byte_symbols[b] == chr(b)]
        seen = set(ordered)
        ordered += [s for s in self.byte_symbols if s not in seen]
        tokens = ordered + [s + END_OF_WORD for s in ordered] + ["".join(m) for m in merges] + [START, END]
        self.ids: dict[str, int] = {token: i for i, token in enumerate(tokens)}
        self.ranks: dict[tuple[str, str], int] = {(m[0], m[1]): i for i, m in enumerate(merges)}
        self.start_id, self.end_id = self.ids[START], self.ids[END]


@functools.lru_cache(maxsize=4)
def _vocabulary(path: str) -> _Vocabulary:
    return _Vocabulary(Path(path))


def clean(text: str) -> str:
    """ftfy + double HTML unescape, whitespace collapsed, lower case (open_clip's 'lower')."""
    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return " ".join(text.split()).lower()


class ClipTokenizer:
    """Callable like ``open_clip.get_tokenizer(name)``; returns int64 numpy [N, context_length]."""

    def __init__(self, context_length: int = DEFAULT_CONTEXT_LENGTH, path: str | Path | None = None) -> None:
        if context_length < 2:
            raise ValueError("context_length must leave room for the start and end tokens")
        self.context_length = int(context_length)
        self._vocab = _vocabulary(str(path or vocab_path()))
        self._words: dict[str, list[int]] = {}
        self.sot_token_id = self._vocab.start_id
        self.eot_token_id = self._vocab.end_id

    def __call__(self, texts: str | Sequence[str], context_length: int | None = None) -> np.ndarray:
        if isinstance(texts, str):
            texts = [texts]
        length = context_length or self.context_length
        out = np.zeros((len(texts), length), dtype=np.int64)
        for row, text in enumerate(texts):
            ids = [self.sot_token_id, *self.encode(text), self.eot_token_id]
            if len(ids) > length:
                ids = ids[:length]
                ids[-1] = self.eot_token_id
            out[row, : len(ids)] = ids
        return out

    def encode(self, text: str) -> list[int]:
        """BPE ids of one text, without the start/end tokens or padding."""
        ids: list[int] = []
        for word in _WORDS.findall(clean(text)):
            found = self._words.get(word)
            if found is None:
                found = self._encode_word(word)
                if len(self._words) < 100_000:  # bounded: queries are short, vocabularies small
                    self._words[word] = found
            ids.extend(found)
        return ids

    def _encode_word(self, word: str) -> list[int]:
        if word in (START, END):
            return [self._vocab.ids[word]]
        symbols = [self._vocab.byte_symbols[b] for b in word.encode("utf-8")]
        symbols[-1] += END_OF_WORD
        ranks = self._vocab.ranks
        while len(symbols) > 1:
            best, best_rank = None, None
            for pair in itertools.pairwise(symbols):
                rank = ranks.get(pair)
                if rank is not None and (best_rank is None or rank < best_rank):
                    best, best_rank = pair, rank
            if best is None:
                break
            merged: list[str] = []
            i = 0
            while i < len(symbols):  # merge every occurrence of the best pair, left to right
                if i + 1 < len(symbols) and symbols[i] == best[0] and symbols[i + 1] == best[1]:
                    merged.append(best[0] + best[1])
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            symbols = merged
        return [self._vocab.ids[s] for s in symbols]


# Texts whose token ids must match open_clip's before the fast path may use our tokenizer.
_TOKENIZER_CHECK = (
    "",
    "A Photo of a DOG &amp; a cat, at 5:30pm!!",
    "naïve café — “quotes” ＦＵＬＬＷＩＤＴＨ 😀🐶 日本語のテキスト",
    "don't we'll they've I'M <end_of_text> x²",
    "word " * 100,
)


def fast_tokenizer_info(tokenizer: Any) -> dict[str, Any]:
    """{"kind": "clip-bpe", ...} when photosearch's own tokenizer gives this model's ids."""
    try:
        import open_clip.tokenizer as oc_tok

        from photosearch.core.backends.export import TEXT_PROBE

        simple = (
            type(tokenizer) is oc_tok.SimpleTokenizer
            and tokenizer.reduction_fn is None
            and tokenizer.clean_fn is oc_tok.get_clean_fn("lower")
        )
        if simple:
            ours = ClipTokenizer(int(tokenizer.context_length))
            texts = [*TEXT_PROBE, *_TOKENIZER_CHECK]
            if np.array_equal(ours(texts), np.asarray(tokenizer(texts), dtype=np.int64)):
                return {"kind": "clip-bpe", "context_length": ours.context_length}
    except Exception as exc:  # no fast path, nothing worse
        logging.getLogger(__name__).debug("tokenizer check failed: %s", exc)
    return {"kind": "open_clip"}
