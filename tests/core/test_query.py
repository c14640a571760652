from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from photosearch.core.query import MAX_QUERY_CHARS, fts_literal, parse_query


def test_words_phrases_and_exclusions():
    q = parse_query('kids on the "sandy beach" -dog -"red car"')
    assert q.text == "kids on the sandy beach"
    assert q.terms == ("kids", "on", "the", "sandy beach")
    assert q.excluded == ("dog", "red car")


def test_keywords_leave_out_stop_words_unless_nothing_else_is_left():
    assert parse_query("a cat on the sofa").keywords == ("cat", "sofa")
    assert parse_query("to be or not").keywords == ("not",)
    assert parse_query("the a").keywords == ("the", "a")


def test_a_lone_dash_is_a_word_not_an_exclusion():
    q = parse_query("before - after")
    assert q.text == "before - after"
    assert q.excluded == ()


def test_only_exclusions_is_not_empty():
    q = parse_query("-cat")
    assert q.text == "" and q.excluded == ("cat",) and not q.empty


def test_blank_query_is_empty():
    assert parse_query("   ").empty
    assert parse_query('""').empty


def test_fts_literal_quotes_user_text():
    assert fts_literal('say "hi" OR') == '"say ""hi"" OR"'


@given(st.text(max_size=3000))
def test_any_text_parses(raw):
    q = parse_query(raw)
    assert len(q.text) <= MAX_QUERY_CHARS
    assert "\x00" not in q.text
    for term in q.terms + q.excluded:
        assert term
        assert fts_literal(term).startswith('"')
