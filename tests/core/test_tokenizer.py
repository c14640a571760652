"""photosearch's torch-free CLIP tokenizer gives exactly open_clip's token ids."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import open_clip
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from photosearch.core.model_loader import open_clip_tokenizer
from photosearch.core.models import register_model
from photosearch.core.tokenizer import VOCAB_SIZE, ClipTokenizer, fast_tokenizer_info, vocab_path

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_clip.json"
ROOT = Path(__file__).resolve().parents[2]

OURS = ClipTokenizer(77)
THEIRS = open_clip.get_tokenizer("ViT-B-32")
OURS_16 = ClipTokenizer(16)  # the tiny test model's context length
THEIRS_16 = open_clip.tokenizer.SimpleTokenizer(context_length=16)

FIXED = [
    "",
    " ",
    "a photo of a cat",
    "A PHOTO of a DOG!!!",
    "Tom &amp; Jerry &amp;amp; friends &lt;3 &#39;quoted&#39;",
    "<b>bold</b> and <end_of_text> and <START_OF_TEXT> typed by hand",
    "don't I'LL we've they're she'd you'm it's",
    "naïve café façade — “curly quotes” and ‘single’ ﬁ ligature",
    "ＦＵＬＬＷＩＤＴＨ ｌｅｔｔｅｒｓ and ½ ² ³ ① digits 1234567890",
    "emoji 😀🐶👨‍👩‍👧‍👦🏳️‍🌈 flags 🇫🇷",
    "日本語のテキスト 中文 한국어 русский текст العربية हिन्दी",
    "tabs\tand\nnewlines\r\n  and   spaces\u00a0nbsp\u2003em",
    "control \x00\x01\x7f\u200b\u00ad characters",
    "mojibake: cafÃ© donâ€™t",
    "word " * 200,
    "supercalifragilisticexpialidocious" * 20,
]


def _theirs(tokenizer, texts: list[str]) -> np.ndarray:
    return np.asarray(tokenizer(texts), dtype=np.int64)


def test_fixed_examples_match_open_clip() -> None:
    np.testing.assert_array_equal(OURS(FIXED), _theirs(THEIRS, FIXED))
    np.testing.assert_array_equal(OURS_16(FIXED), _theirs(THEIRS_16, FIXED))
    assert OURS(FIXED).dtype == np.int64 and OURS(FIXED).shape == (len(FIXED), 77)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=120), min_size=1, max_size=4))
def test_ids_match_open_clip_for_any_text(texts: list[str]) -> None:
    np.testing.assert_array_equal(OURS(texts), _theirs(THEIRS, texts))
    np.testing.assert_array_equal(OURS_16(texts), _theirs(THEIRS_16, texts))


_PIECES = st.sampled_from(
    ["&amp;", "&lt;", "&#128512;", "😀", "🐶", " ", "\n", "'s", "'LL", "<end_of_text>", "é", "Ａ", "1", "!?", "cat"]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=200).map("".join))
def test_ids_match_open_clip_for_long_mixed_text(text: str) -> None:
    np.testing.assert_array_equal(OURS([text]), _theirs(THEIRS, [text]))


def test_long_text_is_cut_with_end_of_text_kept() -> None:
    text = "a very long caption " * 50
    row = OURS([text])[0]
    assert row[0] == OURS.sot_token_id and row[-1] == OURS.eot_token_id
    assert (row != 0).all()  # no padding: the text fills the context
    np.testing.assert_array_equal(row, _theirs(THEIRS, [text])[0])
    # A text that exactly fits keeps its own end token; one token more is cut.
    fits = " ".join(["cat"] * 75)
    assert OURS([fits])[0][-1] == OURS.eot_token_id and OURS([fits])[0][-2] == OURS.encode("cat")[0]
    np.testing.assert_array_equal(OURS([fits + " dog"]), _theirs(THEIRS, [fits + " dog"]))
    short = OURS_16(["one two three"])[0]
    assert list(short[:5]) == [OURS.sot_token_id, *OURS.encode("one two three"), OURS.eot_token_id]
    assert (short[5:] == 0).all()
    # A context length per call, as open_clip allows.
    np.testing.assert_array_equal(OURS([text], context_length=10), THEIRS([text], context_length=10).numpy())


def test_single_string_and_vocabulary() -> None:
    np.testing.assert_array_equal(OURS("a dog"), OURS(["a dog"]))
    assert len(OURS._vocab.ids) == VOCAB_SIZE == THEIRS.vocab_size
    assert OURS._vocab.ids == THEIRS.encoder
    assert vocab_path().name == "bpe_simple_vocab_16e6.txt.gz"


@pytest.mark.parametrize("name", ["ViT-B-32", "ViT-B-16", "ViT-L-14"])
def test_clip_models_get_the_fast_tokenizer(name: str) -> None:
    assert fast_tokenizer_info(open_clip.get_tokenizer(name)) == {"kind": "clip-bpe", "context_length": 77}


def test_tiny_model_context_length_comes_from_its_config() -> None:
    name = register_model(str(TINY))[0]
    assert fast_tokenizer_info(open_clip_tokenizer(name)) == {"kind": "clip-bpe", "context_length": 16}


def test_other_tokenizers_keep_open_clip() -> None:
    canonical = open_clip.tokenizer.SimpleTokenizer(clean="canonicalize")
    assert fast_tokenizer_info(canonical) == {"kind": "open_clip"}
    assert fast_tokenizer_info(lambda texts: np.zeros((len(texts), 77), np.int64)) == {"kind": "open_clip"}


def test_importing_the_tokenizer_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from photosearch.core.tokenizer import ClipTokenizer\n"
        "ClipTokenizer(77)(['a photo of a cat &amp; a dog 😀'])\n"
        "bad = [m for m in ('torch', 'open_clip', 'torchvision') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
