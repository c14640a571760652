"""`evaluate` encodes captions in bounded batches, reports progress and gives the same recall."""

from __future__ import annotations

import csv

from photosearch.core import library_search


def test_eval_batches_texts_and_reports_progress(library, photos_dir, tmp_path, monkeypatch):
    library.add_folder(photos_dir)
    library.index()
    csv_path = tmp_path / "c.csv"
    with csv_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("image", "description"))
        writer.writerows((f"photos/photo_000{i % 6}.jpg", f"caption {i}") for i in range(11))
    whole = library.evaluate(csv_path)
    encoder = library.encoder()
    sizes: list[int] = []
    original = encoder.encode_texts
    monkeypatch.setattr(encoder, "encode_texts", lambda texts: sizes.append(len(texts)) or original(texts))
    monkeypatch.setattr(library_search, "EVAL_BATCH", 4)
    seen: list[tuple[int, int]] = []
    batched = library.evaluate(csv_path, progress=lambda done, total: seen.append((done, total)))
    assert sizes == [4, 4, 3]
    assert seen == [(4, 11), (8, 11), (11, 11)]
    assert batched == whole and whole["queries"] == 11
