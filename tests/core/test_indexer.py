from __future__ import annotations

import datetime
import os
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import make_photo, make_photos
from tests.core.photo_meta import index_then_rename


def _vectors(library) -> dict[str, np.ndarray]:
    rows = library.store.query(
        "SELECT p.path, e.vector FROM photos p JOIN embeddings e ON e.fingerprint = p.fingerprint AND e.model_id = ?",
        (library.model_id,),
    )
    return {p: np.frombuffer(v, dtype="<f2").astype(np.float32) for p, v in rows}


def test_first_run_encodes_everything_second_run_nothing(library, photos_dir):
    library.add_folder(photos_dir)
    first = library.index()
    assert (first.added, first.encoded, first.skipped) == (9, 9, [])
    assert library.status()["photos"] == {"indexed": 9, "skipped": 0, "offline": 0, "pending": 0}
    second = library.index()
    assert (second.added, second.updated, second.encoded, second.removed, second.moved) == (0, 0, 0, 0, 0)


def test_unchanged_files_are_not_even_decoded(library, photos_dir, monkeypatch):
    library.add_folder(photos_dir)
    library.index()
    import photosearch.core.indexer as indexer

    def boom(*args, **kwargs):
        raise AssertionError("decoded an unchanged file")

    monkeypatch.setattr(indexer, "decode", boom)
    monkeypatch.setattr(indexer, "fingerprint", boom)
    assert library.index().encoded == 0


def test_changed_new_and_deleted_files(library, photos_dir):
    library.add_folder(photos_dir)
    library.index()
    make_photo(photos_dir / "photo_0001.jpg", seed=999)  # new content, same name
    make_photo(photos_dir / "new.jpg", seed=555)
    (photos_dir / "photo_0002.jpg").unlink()
    summary = library.index()
    assert (summary.added, summary.updated, summary.removed, summary.encoded) == (1, 1, 1, 2)
    paths = set(_vectors(library))
    assert str(photos_dir / "photo_0002.jpg") not in paths
    assert str(photos_dir / "new.jpg") in paths


def test_touched_file_with_same_content_is_not_re_encoded(library, photos_dir):
    library.add_folder(photos_dir)
    library.index()
    target = photos_dir / "photo_0003.jpg"
    os.utime(target, ns=(1, 1_000_000_000))
    summary = library.index()
    assert summary.updated == 1 and summary.encoded == 0
    assert library.status()["photos"]["indexed"] == 9


def test_moved_and_renamed_folder_is_not_re_encoded(library, tmp_path, photos_dir):
    root = tmp_path / "root"
    shutil.move(photos_dir, root / "old")
    library.add_folder(root)
    library.index()
    before = _vectors(library)
    (root / "old").rename(root / "renamed")
    (root / "renamed" / "photo_0000.jpg").rename(root / "renamed" / "beach.jpg")
    summary = library.index()
    assert (summary.moved, summary.encoded, summary.added, summary.removed) == (9, 0, 0, 0)
    after = _vectors(library)
    assert len(after) == 9
    old = before[str(root / "old" / "photo_0000.jpg")]
    assert np.array_equal(after[str(root / "renamed" / "beach.jpg")], old)


def test_copies_share_one_embedding(library, photos_dir):
    shutil.copy(photos_dir / "photo_0000.jpg", photos_dir / "copy.jpg")
    library.add_folder(photos_dir)
    summary = library.index()
    assert summary.added == 10
    assert summary.encoded <= 10
    (count,) = library.store.query("SELECT COUNT(*) FROM embeddings")[0]
    assert count == 9


def test_bad_files_are_skipped_with_reasons_and_not_retried(library, photos_dir):
    (photos_dir / "empty.jpg").write_bytes(b"")
    (photos_dir / "text.png").write_text("not an image at all")
    good = (photos_dir / "photo_0000.jpg").read_bytes()
    (photos_dir / "truncated.jpg").write_bytes(good[: len(good) // 2])
    library.add_folder(photos_dir)
    summary = library.index()
    reasons = {os.path.basename(s.path): s.reason for s in summary.skipped}
    assert set(reasons) == {"empty.jpg", "text.png", "truncated.jpg"}
    assert all(reason and "\n" not in reason for reason in reasons.values())
    assert summary.encoded == 9
    again = library.index()
    assert again.skipped == [] and again.encoded == 0
    assert library.status()["photos"]["skipped"] == 3
    (photos_dir / "empty.jpg").write_bytes(good)  # fixed: retried because it changed
    fixed = library.index()
    assert fixed.updated == 1 and fixed.skipped == []


def test_exif_orientation_is_applied_before_encoding(library, tmp_path):
    folder = tmp_path / "orient"
    upright = make_photo(tmp_path / "src.png", seed=7, size=(80, 48))
    pixels = Image.open(upright)
    folder.mkdir()
    # Orientation 6 means "rotate 90 degrees clockwise to display": store the pixels turned the other way.
    stored = pixels.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(folder / "tagged.png", exif=exif)
    pixels.transpose(Image.Transpose.ROTATE_90).transpose(Image.Transpose.ROTATE_270).save(folder / "plain.png")
    library.add_folder(folder)
    library.index()
    vectors = _vectors(library)
    tagged, plain = vectors[str(folder / "tagged.png")], vectors[str(folder / "plain.png")]
    assert float(tagged @ plain) > 0.995
    details = library.photo_details(str(folder / "tagged.png"))
    assert (details["width"], details["height"]) == (80, 48)


def test_thumbnails_are_cached_by_fingerprint(library, photos_dir):
    library.add_folder(photos_dir)
    library.index()
    path = str(photos_dir / "photo_0000.jpg")
    thumb = library.thumbnail(path)
    assert thumb is not None and thumb.exists()
    with Image.open(thumb) as im:
        assert max(im.size) <= 256


def test_deleting_a_file_in_a_present_folder_removes_it(library, photos_dir):
    library.add_folder(photos_dir)
    library.index()
    (photos_dir / "photo_0005.jpg").unlink()
    assert library.index().removed == 1
    assert library.status()["photos"]["indexed"] == 8


def test_offline_folder_is_kept_and_comes_back_without_re_encoding(library, tmp_path, photos_dir):
    library.add_folder(photos_dir)
    library.index()
    away = tmp_path / "unmounted"
    photos_dir.rename(away)
    summary = library.index()
    assert summary.offline == 9 and summary.removed == 0
    status = library.status()["photos"]
    assert status["offline"] == 9
    assert library.search_text("anything", k=20, include_offline=False) == []
    assert len(library.search_text("anything", k=20)) == 9
    away.rename(photos_dir)
    back = library.index()
    assert back.encoded == 0 and back.removed == 0
    assert library.status()["photos"]["offline"] == 0


def test_progress_reports_counts_rate_and_eta(library, photos_dir):
    seen = []
    library.add_folder(photos_dir)
    library.index(progress=seen.append)
    encoding = [p for p in seen if p.phase == "encoding"]
    assert encoding and encoding[-1].done == encoding[-1].total == 9
    assert encoding[-1].rate > 0


def test_cancel_stops_early_and_the_next_run_resumes(library, tmp_path):
    folder = tmp_path / "many"
    make_photos(folder, 40)
    library.add_folder(folder)
    cancel = threading.Event()

    def stop_after_first_batch(progress):
        if progress.phase == "encoding" and progress.done > 0:
            cancel.set()

    first = library.index(progress=stop_after_first_batch, cancel=cancel)
    assert first.cancelled and 0 < first.encoded < 40
    second = library.index()
    assert first.encoded + second.encoded == 40
    assert library.status()["photos"]["indexed"] == 40


def test_invalid_embeddings_are_rejected_not_stored(library, photos_dir):
    encoder = library.encoder()
    real = encoder.encode_images

    def poisoned(batch):
        vectors = real(batch)
        vectors[0] = np.nan  # the first photo of every batch comes back broken
        return vectors

    encoder.encode_images = poisoned
    library.add_folder(photos_dir)
    summary = library.index()
    assert summary.skipped and all("invalid embedding" in s.reason for s in summary.skipped)
    assert summary.encoded == 9 - len(summary.skipped)
    vectors = library.store.query("SELECT vector FROM embeddings")
    assert len(vectors) == summary.encoded
    assert all(np.isfinite(np.frombuffer(v, dtype="<f2")).all() for (v,) in vectors)


FUTURE = datetime.datetime(2263, 1, 1, tzinfo=datetime.UTC)  # nanoseconds past the int64 range
PAST = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)


def _date(path, when: datetime.datetime) -> None:
    ns = int(when.timestamp()) * 10**9
    os.utime(path, ns=(ns, ns))


@pytest.fixture
def far_dated_folder(tmp_path):
    """A folder whose file system keeps dates before 1902 and after 2038 (ext4 with small inodes does
    not: then tmpfs, where there is one)."""
    candidates = [tmp_path]
    if os.path.isdir("/dev/shm"):
        candidates.append(Path(tempfile.mkdtemp(dir="/dev/shm")))
    try:
        for folder in candidates:
            probe = folder / "probe"
            probe.write_bytes(b"")
            try:
                dated = []
                for when in (FUTURE, PAST):
                    _date(probe, when)
                    dated.append(probe.stat().st_mtime_ns == int(when.timestamp()) * 10**9)
            except (OSError, OverflowError):
                dated = [False]
            probe.unlink()
            if all(dated):
                yield folder / "photos"
                break
        else:
            pytest.skip("no file system here keeps dates past 2262 and before 1902")
    finally:
        for folder in candidates[1:]:
            shutil.rmtree(folder, ignore_errors=True)


def test_files_dated_past_2262_or_before_1970_are_indexed_with_the_rest(library, far_dated_folder):
    folder = far_dated_folder
    _, future, past = (make_photo(folder / f"{n}.jpg", seed=i) for i, n in enumerate(("a", "future", "past")))
    (folder / "future.txt").write_text("a caption from the future")
    _date(future, FUTURE)
    _date(folder / "future.txt", FUTURE)
    _date(past, PAST)
    library.add_folder(folder)
    first = library.index()
    assert (first.added, first.encoded, first.skipped) == (3, 3, [])
    dates = {os.path.basename(r.path): r.to_json()["date"] for r in library.browse(k=10)}
    assert dates["future.jpg"].startswith("2262-04-11")  # the latest date SQLite can hold
    assert dates["past.jpg"] == "1900-01-01T00:00:00"
    months = [(m.year, m.month, m.count) for m in library.months()]
    assert months[0] == (2262, 4, 1) and months[-1] == (1900, 1, 1)
    again = library.index()  # the clamped date is compared as stored: nothing looks changed
    assert (again.added, again.updated, again.encoded) == (0, 0, 0)
    caption = {"source": "sidecar", "text": "a caption from the future"}
    assert library.photo_details(str(future))["captions"] == [caption]


def _captions_of(library, path: Path) -> set[tuple[str, str]]:
    return {(c["source"], c["text"]) for c in library.photo_details(str(path))["captions"]}


@pytest.fixture
def renamed(library, tmp_path):
    return library, *index_then_rename(library, tmp_path)


def test_a_photo_found_again_elsewhere_gets_copies_of_its_offline_twins_captions(renamed):
    """The imported caption lived only on the offline row: removing the old folder lost it for good.
    Metadata captions of content already embedded were not read from the new file either."""
    library, a, b = renamed
    imported = ("csv", "grandma birthday party")
    keywords = ("keyword", "grandma, cake")
    assert _captions_of(library, b / "p0.jpg") >= {imported, keywords}
    assert _captions_of(library, a / "p0.jpg") >= {imported, keywords}  # copies: the old row keeps its own
    library.remove_folder(a)
    assert _captions_of(library, b / "p0.jpg") >= {imported, keywords}
    assert library.status()["captions_pending"] == 0  # the copies were embedded by that index


def test_captions_are_copied_only_from_offline_twins_and_never_twice(library, tmp_path):
    a, b = tmp_path / "A", tmp_path / "B"
    make_photos(a, 2)
    library.add_folder(a)
    library.index()
    csv_path = tmp_path / "caps.csv"

    def import_captions(*rows: tuple[Path, str]) -> None:
        csv_path.write_text("image,caption\n" + "".join(f"{p},{t}\n" for p, t in rows), encoding="utf-8")
        library.import_captions(csv_path)

    import_captions((a / "photo_0000.jpg", "the old caption"))
    shutil.copytree(a, b)  # a copy while the original is still there: each keeps its own captions
    library.add_folder(b)
    library.index()
    assert _captions_of(library, b / "photo_0000.jpg") == set()
    a.rename(tmp_path / "away")
    shutil.copy(b / "photo_0000.jpg", b / "again.jpg")  # its offline twin A/photo_0000 has a caption
    shutil.copy(b / "photo_0001.jpg", b / "other.jpg")  # its only captioned twin B/photo_0001 is online
    import_captions((b / "again.jpg", "the old caption"), (b / "photo_0001.jpg", "an online caption"))
    library.index()
    rows = library.store.query("SELECT source, text FROM captions WHERE path = ?", (str(b / "again.jpg"),))
    assert rows == [("csv", "the old caption")]
    assert _captions_of(library, b / "other.jpg") == set()


def _count_encodes(library, monkeypatch) -> tuple[list[int], dict[str, int]]:
    """Rows sent to the encoder per call, and decodes per path (both counted, never timed)."""
    import photosearch.core.indexer as indexer

    rows: list[int] = []
    decodes: dict[str, int] = {}
    encoder = library.encoder()
    real_encode, real_decode = encoder.encode_images, indexer.decode

    def counting_encode(batch):
        rows.append(len(batch))
        return real_encode(batch)

    def counting_decode(path, *args, **kwargs):
        decodes[os.path.basename(path)] = decodes.get(os.path.basename(path), 0) + 1
        return real_decode(path, *args, **kwargs)

    encoder.encode_images = counting_encode
    monkeypatch.setattr(indexer, "decode", counting_decode)
    return rows, decodes


def test_copies_in_one_batch_are_decoded_and_encoded_once(library, tmp_path, monkeypatch):
    folder = tmp_path / "copies"
    originals = [make_photo(tmp_path / f"original_{i}.jpg", seed=70 + i) for i in range(2)]
    folder.mkdir()
    for n in range(20):  # 40 copies of 2 photos, all within the prefetch window of one batch
        for i, original in enumerate(originals):
            shutil.copy(original, folder / f"copy_{n:02d}_{i}.jpg")
    make_photos(folder, 3, start=200)
    rows, decodes = _count_encodes(library, monkeypatch)
    library.add_folder(folder)
    summary = library.index()
    assert (summary.added, summary.skipped) == (43, [])
    assert sum(rows) == 5, "each distinct content goes through the model exactly once"
    assert summary.encoded == 5
    by_content: dict[bytes, int] = {}
    for name, count in decodes.items():
        content = (folder / name).read_bytes()
        by_content[content] = by_content.get(content, 0) + count
    assert len(by_content) == 5 and max(by_content.values()) <= 2  # one decode (two for a large-input model)
    assert sum(decodes.values()) <= 10
    assert library.status()["photos"] == {"indexed": 43, "skipped": 0, "offline": 0, "pending": 0}
    vectors = _vectors(library)
    assert len(vectors) == 43
    for i, original in enumerate(originals):
        results = library.search_image(str(original), k=100)
        copies = [r for r in results if os.path.basename(r.path).endswith(f"_{i}.jpg")]
        assert len(copies) == 20 and len({r.score for r in copies}) == 1
        details = library.photo_details(copies[-1].path)
        assert (details["width"], details["height"]) == (96, 72)
    assert library.index().encoded == 0


def test_a_damaged_copy_does_not_take_the_good_copies_with_it(library, tmp_path, monkeypatch):
    """Same size, first MiB and last KiB (so the same fingerprint), but broken in the middle."""
    from photosearch.core.scanner import fingerprint

    folder = tmp_path / "damaged"
    folder.mkdir()
    noise = np.random.default_rng(3).integers(0, 255, (700, 700, 3), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "z_good.png")  # incompressible: well over 1 MiB
    good = (folder / "z_good.png").read_bytes()
    broken = bytearray(good)
    broken[len(good) - 200_000 : len(good) - 2_000] = bytes(198_000)
    for n in range(5):  # sorted first: one of them is the first of its content to be decoded
        (folder / f"a_broken_{n}.png").write_bytes(broken)
    (folder / "z_good_copy.png").write_bytes(good)
    assert fingerprint(str(folder / "a_broken_0.png")) == fingerprint(str(folder / "z_good.png"))
    rows, _ = _count_encodes(library, monkeypatch)
    import photosearch.core.indexer as indexer

    # A broken copy is the first of the content to be decoded: the good ones are looked at only after.
    broken_decoded = threading.Event()
    decode, fingerprint_of = indexer.decode, indexer.fingerprint

    def noting_decode(path, *args, **kwargs):
        broken_decoded.set()
        return decode(path, *args, **kwargs)

    def gated_fingerprint(path, *args):
        if "good" in os.path.basename(path):
            broken_decoded.wait(60)
        return fingerprint_of(path, *args)

    monkeypatch.setattr(indexer, "decode", noting_decode)
    monkeypatch.setattr(indexer, "fingerprint", gated_fingerprint)
    library.add_folder(folder)
    summary = library.index()
    reasons = {os.path.basename(s.path): s.reason for s in summary.skipped}
    assert set(reasons) == {f"a_broken_{n}.png" for n in range(5)}
    assert all("corrupt" in reason for reason in reasons.values())
    assert summary.encoded == 1 and sum(rows) == 1
    indexed = library.store.query("SELECT path FROM photos WHERE state = 'indexed'")
    assert {os.path.basename(p) for (p,) in indexed} == {"z_good.png", "z_good_copy.png"}
    assert library.status()["photos"]["skipped"] == 5


def test_a_copy_met_before_its_first_waits_for_the_first_s_vector(library, tmp_path, monkeypatch):
    """The decode threads race: a copy early in the queue can find its content claimed by a photo in a
    later batch. It is recorded once that batch is committed, with that photo's vector and size."""
    folder = tmp_path / "order"
    make_photos(folder, 18, start=300)  # 'photo_*': more than one batch (16) between the two
    make_photo(folder / "z_first.jpg", seed=77)
    shutil.copy(folder / "z_first.jpg", folder / "a_copy.jpg")
    rows, _ = _count_encodes(library, monkeypatch)
    import photosearch.core.indexer as indexer

    first_decoded = threading.Event()
    decode, fingerprint_of = indexer.decode, indexer.fingerprint

    def noting_decode(path, *args, **kwargs):
        if os.path.basename(path) == "z_first.jpg":
            first_decoded.set()
        return decode(path, *args, **kwargs)

    def gated_fingerprint(path, *args):
        if os.path.basename(path) == "a_copy.jpg":
            first_decoded.wait(60)
        return fingerprint_of(path, *args)

    monkeypatch.setattr(indexer, "decode", noting_decode)
    monkeypatch.setattr(indexer, "fingerprint", gated_fingerprint)
    library.add_folder(folder)
    seen = []
    summary = library.index(progress=seen.append)
    assert first_decoded.is_set()
    assert (summary.added, summary.encoded, summary.skipped, sum(rows)) == (20, 19, [], 19)
    encoding = [p for p in seen if p.phase == "encoding"]
    assert encoding[-1].done == encoding[-1].total == 20
    vectors = _vectors(library)
    assert np.array_equal(vectors[str(folder / "a_copy.jpg")], vectors[str(folder / "z_first.jpg")])
    details = library.photo_details(str(folder / "a_copy.jpg"))
    assert (details["width"], details["height"]) == (96, 72)
    assert library.status()["photos"]["indexed"] == 20


def test_copies_share_the_metadata_of_their_content(library, tmp_path):
    """A copy is not decoded, yet it has the date, size, caption and keywords of the photo decoded for
    it in the same run; its own sidecar stays its own."""
    from tests.core.photo_meta import iptc_block

    folder = tmp_path / "meta"
    with Image.open(make_photo(tmp_path / "plain.jpg", seed=91)) as img:
        exif = Image.Exif()
        exif[0x010E] = "a red kite over the ridge"
        exif[0x8769] = {0x9003: "2019:05:04 10:00:00"}
        buffer = tmp_path / "kite.jpg"
        img.save(buffer, "JPEG", exif=exif.tobytes())
    data = buffer.read_bytes()
    data = data[:2] + iptc_block(["raptor"]) + data[2:]
    folder.mkdir()
    for n in range(6):
        (folder / f"kite_{n}.jpg").write_bytes(data)
    (folder / "kite_5.txt").write_text("the sidecar of one copy")
    make_photos(folder, 5, start=400)
    library.add_folder(folder)
    assert library.index().encoded == 6
    names = [f"kite_{n}.jpg" for n in range(6)]
    expected = [{"source": "exif", "text": "a red kite over the ridge"}, {"source": "keyword", "text": "raptor"}]
    for name in names:
        details = library.photo_details(str(folder / name))
        own = [{"source": "sidecar", "text": "the sidecar of one copy"}] if name == "kite_5.jpg" else []
        assert sorted(details["captions"], key=str) == sorted(expected + own, key=str), name
        assert (details["width"], details["height"], details["taken"] is not None) == (96, 72, True)
    results = {r.path: r.score for r in library.search_text("raptor", k=20)}
    assert {os.path.basename(p) for p in results} >= set(names)
    assert len({results[str(folder / name)] for name in names if name != "kite_5.jpg"}) == 1
