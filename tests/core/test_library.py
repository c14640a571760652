from __future__ import annotations

import csv
from pathlib import Path

import pytest

from photosearch.core.errors import LibraryBusyError, PhotoSearchError
from photosearch.core.library import Library
from photosearch.core.lock import writer_lock
from tests.conftest import TINY_MODEL, make_photos

WORDS = [
    "beach",
    "sunset",
    "dog",
    "cat",
    "mountain",
    "river",
    "forest",
    "city",
    "night",
    "snow",
    "kids",
    "bicycle",
    "boat",
    "garden",
    "market",
    "bridge",
    "castle",
    "train",
    "airport",
    "desert",
    "lake",
    "harbor",
    "festival",
    "picnic",
    "wedding",
    "birthday",
    "concert",
    "museum",
    "stadium",
]


def _write_csv(path, rows, header=("image", "description")):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_library_remembers_its_model(library_path):
    lib = Library(library_path, model=TINY_MODEL, pretrained="random")
    lib.store.add_folder("/nowhere")
    lib._remember_model()
    lib.close()
    again = Library(library_path)
    assert again.spec.model == TINY_MODEL and again.spec.pretrained == "random"
    again.close()


def test_search_results_are_sorted_and_carry_captions(library, photos_dir, tmp_path):
    library.add_folder(photos_dir)
    library.index()
    _write_csv(tmp_path / "c.csv", [("photos/photo_0000.jpg", "a red ball on grass")])
    library.import_captions(tmp_path / "c.csv")
    results = library.search_text("a dog", k=20)
    assert len(results) == 9
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    by_path = {r.path: r for r in results}
    assert by_path[str(photos_dir / "photo_0000.jpg")].caption == "a red ball on grass"


def test_min_score_and_folder_filters(library, photos_dir):
    library.add_folder(photos_dir)
    library.index()
    everything = library.search_text("sunset", k=50)
    cut = everything[3].score
    assert all(r.score >= cut for r in library.search_text("sunset", k=50, min_score=cut))
    sub = library.search_text("sunset", k=50, folder=str(photos_dir / "sub"))
    assert len(sub) == 3 and all("/sub/" in r.path for r in sub)


def test_similar_image_finds_itself_first(library, photos_dir, tmp_path):
    library.add_folder(photos_dir)
    library.index()
    target = photos_dir / "photo_0004.jpg"
    assert library.search_image(str(target), k=3)[0].path == str(target)
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(target.read_bytes())
    assert library.search_image(str(outside), k=3)[0].path == str(target)
    assert library.search_image(target.read_bytes(), k=3)[0].path == str(target)


def test_not_an_image_query_is_a_clear_error(library, tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("hello")
    with pytest.raises(PhotoSearchError, match="cannot use that image"):
        library.search_image(str(bad))
    with pytest.raises(PhotoSearchError, match="no such image"):
        library.search_image(str(tmp_path / "missing.jpg"))


def test_caption_import_reports_missing_rows_and_words_rank_first(library, tmp_path):
    folder = tmp_path / "set"
    photos = make_photos(folder, 40)
    library.add_folder(folder)
    library.index()
    rows = []
    for i, photo in enumerate(photos):
        words = [WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(4)]
        rows.append((photo.name, f"photo {i} with {' and '.join(words)}"))
        rows.append((photo.name, f"another view number {i}"))
    # Thousands of rows: repeat the set with distinct texts pointing at the same photos.
    rows += [(photos[i % 40].name, f"filler caption {i} of something ordinary") for i in range(3000)]
    rows.append(("missing.jpg", "nobody"))
    rows.append(("../escape.jpg", "outside the folder"))
    csv_path = _write_csv(folder / "captions.csv", rows)
    report = library.import_captions(csv_path)
    assert report["imported"] == 40 * 2 + 3000
    assert [m["path"] for m in report["missing"]] == ["missing.jpg"]
    assert len(report["rejected"]) == 1
    target = rows[2 * 17][1]  # "photo 17 with ..."
    query = " ".join(target.split()[3:])  # the caption's distinctive words, without "photo 17 with"
    results = library.search_captions(text=query, k=5)
    assert results[0].path == str(photos[17]) or results[0].caption.endswith(query)
    assert results[0].lexical == pytest.approx(1.0)
    again = library.import_captions(csv_path)
    assert again["imported"] == 0 and again["duplicates"] == 40 * 2 + 3000


def test_caption_search_by_image(library, photos_dir, tmp_path):
    library.add_folder(photos_dir)
    library.index()
    _write_csv(tmp_path / "c.csv", [(f"photos/photo_000{i}.jpg", f"caption number {i}") for i in range(6)])
    library.import_captions(tmp_path / "c.csv")
    results = library.search_captions(image=str(photos_dir / "photo_0002.jpg"), k=6)
    assert len(results) == 6
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_excluded_words_never_match_captions(library, photos_dir, tmp_path):
    library.add_folder(photos_dir)
    library.index()
    _write_csv(
        tmp_path / "c.csv", [("photos/photo_0000.jpg", "dog on a beach"), ("photos/photo_0001.jpg", "cat on a beach")]
    )
    library.import_captions(tmp_path / "c.csv")
    texts = [r.caption for r in library.search_captions(text="beach -dog", k=10)]
    assert "cat on a beach" in texts and "dog on a beach" not in texts


def test_eval_recall_counts_queries(library, photos_dir, tmp_path):
    library.add_folder(photos_dir)
    library.index()
    csv_path = _write_csv(tmp_path / "c.csv", [(f"photos/photo_000{i}.jpg", f"caption {i}") for i in range(6)])
    result = library.evaluate(csv_path, [1, 5, 10])
    assert result["queries"] == 6
    assert 0.0 <= result["recall@1"] <= result["recall@5"] <= result["recall@10"] == 1.0


def test_model_change_re_encodes_but_keeps_everything_else(library_path, photos_dir, tmp_path):
    lib = Library(library_path, model=TINY_MODEL, pretrained="random")
    lib.add_folder(photos_dir)
    lib.index()
    _write_csv(tmp_path / "c.csv", [("photos/photo_0000.jpg", "first caption")])
    lib.import_captions(tmp_path / "c.csv")
    lib.close()
    other = tmp_path / "tiny_other.json"
    other.write_text(Path(TINY_MODEL).read_text().replace('"embed_dim": 32', '"embed_dim": 24'))
    changed = Library(library_path, model=str(other), pretrained="random")
    summary = changed.index()
    assert summary.encoded == 9 and summary.added == 0
    assert changed.status()["captions"] == 1
    assert len(changed.search_text("x", k=20)) == 9
    changed.close()
    assert Library(library_path).spec.model == str(other)


def test_second_writer_gets_a_clear_busy_error(library, photos_dir):
    library.add_folder(photos_dir)
    with writer_lock(library.root, "indexing"), pytest.raises(LibraryBusyError, match="busy"):
        library.index()


def test_add_folder_errors(library, tmp_path):
    with pytest.raises(PhotoSearchError, match="no such folder"):
        library.add_folder(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(PhotoSearchError, match="not a folder"):
        library.add_folder(tmp_path / "file.txt")


def test_remove_folder_forgets_its_photos(library, photos_dir):
    library.add_folder(photos_dir)
    library.index()
    assert library.remove_folder(photos_dir) == 9
    assert library.status()["photos"]["indexed"] == 0
    assert library.store.query("SELECT COUNT(*) FROM embeddings")[0][0] == 0


def test_remove_folder_takes_the_folder_as_a_person_writes_it_even_offline(library, tmp_path, monkeypatch):
    drive = tmp_path / "drive"
    make_photos(drive, 2)
    library.add_folder(drive)
    library.index()
    drive.rename(tmp_path / "drive-away")  # the drive is unplugged
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PhotoSearchError, match=r"not a watched folder.*elsewhere"):
        library.remove_folder("elsewhere")
    assert library.remove_folder("./other/../drive/") == 2
    assert library.folders() == []


def test_a_folder_counts_the_photos_it_can_show_not_the_files_it_skipped(library, tmp_path):
    folder = tmp_path / "mixed"
    make_photos(folder, 2)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.png").write_text("not an image")
    library.add_folder(folder)
    summary = library.index()
    assert len(summary.skipped) == 2
    assert [f.photos for f in library.folders()] == [2] == [library.status()["photos"]["indexed"]]


def test_stop_words_give_no_caption_bonus(library, photos_dir, tmp_path):
    library.add_folder(photos_dir)
    library.index()
    rows = [("photos/photo_0000.jpg", "a house by a lake"), ("photos/photo_0001.jpg", "cat asleep")]
    library.import_captions(_write_csv(tmp_path / "c.csv", rows))
    by_caption = {r.caption: r for r in library.search_captions(text="a cat", k=10)}
    assert by_caption["cat asleep"].matched_terms == ("cat",)
    assert by_caption["a house by a lake"].lexical == 0.0


def test_model_and_checkpoint_paths_are_remembered_absolute(library_path, monkeypatch):
    monkeypatch.chdir(Path(TINY_MODEL).parent.parent.parent)
    relative = str(Path(TINY_MODEL).relative_to(Path.cwd()))
    lib = Library(library_path, model=relative, pretrained="random")
    lib._remember_model()
    lib.close()
    monkeypatch.chdir("/")
    again = Library(library_path)
    assert again.spec.model == TINY_MODEL
    again.close()
