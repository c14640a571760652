"""What a user types into the search box: words, "quoted phrases" and -excluded terms."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_CHARS = 1000
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)
# Words too common to count as a verbatim caption match ("a cat" should match on "cat", not "a").
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "were",
        "with",
        "without",
    ]
)


@dataclass(frozen=True)
class Query:
    text: str  # what the model reads: the query without excluded terms or quote marks
    terms: tuple[str, ...]  # words and phrases to look for verbatim in captions
    excluded: tuple[str, ...]  # -word or -"a phrase": pushed away from, and never matched in captions

    @property
    def keywords(self) -> tuple[str, ...]:
        """Terms worth matching verbatim: the terms without stop words (all of them if nothing is left)."""
        kept = tuple(t for t in self.terms if t.lower() not in STOPWORDS)
        return kept or self.terms

    @property
    def empty(self) -> bool:
        return not self.text and not self.excluded


def parse_query(raw: str) -> Query:
    """Never fails: any string gives a Query (maybe empty)."""
    raw = (raw or "").replace("\x00", " ")[:MAX_QUERY_CHARS]
    kept: list[str] = []
    terms: list[str] = []
    excluded: list[str] = []
    for match in _TOKEN.finditer(raw):
        negative, phrase, word = match.group(1), match.group(2), match.group(3)
        if phrase is not None:
            phrase = " ".join(phrase.split())
            if not phrase:
                continue
            (excluded if negative else terms).append(phrase)
            if not negative:
                kept.append(phrase)
            continue
        if word.startswith("-") and len(word) > 1 and _WORD.search(word[1:]):
            excluded.append(word[1:])
            continue
        kept.append(word)
        terms.extend(w.lower() for w in _WORD.findall(word))
    return Query(" ".join(kept).strip(), tuple(dict.fromkeys(terms)), tuple(dict.fromkeys(excluded)))


def fts_literal(term: str) -> str:
    """A term or phrase as an FTS5 string literal: user text never becomes FTS5 syntax."""
    return '"' + term.replace('"', '""') + '"'
