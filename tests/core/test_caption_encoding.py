"""The caption pass: each distinct text goes through the model once, every caption gets its vector."""

from __future__ import annotations

import numpy as np

from photosearch.core.caption_encoding import CAPTION_BATCH, encode_pending_captions
from photosearch.core.store import Store, blob_to_vectors


class _CountingEncoder:
    """Text -> a vector derived from the text; remembers every text it was asked to encode."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        self.seen += texts
        out = np.zeros((len(texts), 8), np.float32)
        for i, text in enumerate(texts):
            out[i, hash(text) % 8] = 1.0
            out[i, len(text) % 8] += 0.5
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _vectors(store: Store) -> dict[int, np.ndarray]:
    rows = store.query("SELECT caption_id, vector FROM caption_embeddings WHERE model_id = 'm'")
    return {cid: blob_to_vectors([blob], 8)[0].astype(np.float32) for cid, blob in rows}


def test_copies_of_a_caption_are_encoded_once_and_all_get_the_vector(tmp_path) -> None:
    """Copies of a photo carry the same metadata or text-in-photo captions: one text, one encode."""
    store = Store(tmp_path / "lib")
    texts = ["EXIT 12 SPRINGFIELD", "a dog on the beach", "Grandma's 80th"]
    rows = [(f"/p/{i}.jpg", "ocr", texts[i % 3]) for i in range(CAPTION_BATCH * 20)]  # spans many chunks
    rows += [("/p/other.jpg", "csv", "a red car")]
    with store.write() as conn:
        conn.executemany("INSERT INTO captions(path, source, text) VALUES (?, ?, ?)", rows)
    encoder = _CountingEncoder()
    assert encode_pending_captions(store, "m", lambda: encoder) == len(rows)
    assert sorted(encoder.seen) == sorted([*texts, "a red car"])
    vectors = _vectors(store)
    assert len(vectors) == len(rows)
    by_text = dict(store.query("SELECT id, text FROM captions"))
    expected = {text: encoder.encode_texts([text])[0] for text in set(by_text.values())}
    for cid, vector in vectors.items():
        np.testing.assert_allclose(vector, expected[by_text[cid]], atol=2e-3)  # stored as float16
    # a later caption with a text already embedded reuses nothing stale and still costs at most one encode
    with store.write() as conn:
        conn.execute("INSERT INTO captions(path, source, text) VALUES ('/p/new.jpg', 'ocr', 'a dog on the beach')")
    encoder.seen.clear()
    assert encode_pending_captions(store, "m", lambda: encoder) == 1
    assert len(encoder.seen) <= 1 and len(_vectors(store)) == len(rows) + 1
