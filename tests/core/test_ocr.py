"""The text-in-photos pass with the real OCR models shipped in the rapidocr wheel (no download)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from photosearch.core import ocr
from photosearch.core.library import Library
from photosearch.core.ocr_engine import OcrResult, TextReader, shared_reader
from tests.conftest import TINY_MODEL, make_photos

pytest.importorskip("rapidocr_onnxruntime")


def sign(path: Path, words: list[str], size: tuple[int, int] = (900, 600)) -> Path:
    """A photo of a sign: dark words on a light, slightly textured board (Pillow's own font)."""
    image = Image.new("RGB", size, (205, 200, 185))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=72)
    x = 60
    for word in words:  # one word at a time with clear gaps, so word boundaries are unambiguous
        draw.text((x, size[1] // 2 - 40), word, fill=(25, 25, 30), font=font)
        x += int(draw.textlength(word, font=font)) + 50
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=90)
    return path


class CountingReader(TextReader):
    """The real reader, counting what it is asked to read."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def submit(self, path: str):
        self.paths.append(path)
        return super().submit(path)


@pytest.fixture(scope="module")
def reader():
    return shared_reader()


@pytest.fixture
def text_library(tmp_path):
    photos = tmp_path / "photos"
    sign(photos / "cafe.jpg", ["GRAND", "CENTRAL", "CAFE"])
    make_photos(photos, 2)  # text-free photos
    lib = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    lib.add_folder(photos)
    yield lib, photos
    lib.close()


def test_reader_reads_rendered_words_and_nothing_from_a_plain_photo(reader, tmp_path):
    result = reader.read(str(sign(tmp_path / "s.jpg", ["OPEN", "DAILY"])))
    assert result.error == ""
    assert {"OPEN", "DAILY"} <= set(result.text.upper().split())
    Image.new("RGB", (640, 480), (90, 120, 160)).save(tmp_path / "sky.jpg")
    assert reader.read(str(tmp_path / "sky.jpg")) == OcrResult("")


def test_damaged_or_missing_files_cost_no_traceback(reader, tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    broken = reader.read(str(tmp_path / "broken.jpg"))
    assert broken.text == "" and broken.error
    gone = reader.read(str(tmp_path / "nowhere.jpg"))
    assert gone.text == "" and gone.error.startswith("unreadable")


def test_a_photo_is_found_by_a_word_written_in_it(text_library):
    lib, photos = text_library
    lib.index()
    hits = lib.search_captions("cafe")
    assert hits and hits[0].path == str(photos / "cafe.jpg") and hits[0].source == ocr.OCR_SOURCE
    assert "cafe" in hits[0].matched_terms
    details = lib.photo_details(str(photos / "cafe.jpg"))
    assert {"source": "ocr", "text": "GRAND CENTRAL CAFE"} in details["captions"]
    assert ocr.text_for(lib.store, str(photos / "photo_0000.jpg")) == ""
    assert lib.status()["ocr"] == {"done": 3, "pending": 0}


def test_text_survives_a_move_and_a_copy_without_being_read_again(text_library, monkeypatch):
    lib, photos = text_library
    lib.index()
    (photos / "trip").mkdir()
    os.rename(photos / "cafe.jpg", photos / "trip" / "breakfast.jpg")
    (photos / "copy.jpg").write_bytes((photos / "trip" / "breakfast.jpg").read_bytes())
    counting = CountingReader()
    monkeypatch.setattr(ocr, "shared_reader", lambda: counting)
    lib.index()
    assert counting.paths == []
    (found,) = [r for r in lib.search_captions("central") if r.source == "ocr"]  # one row for both copies
    assert {found.path, *found.copies} == {str(photos / "trip" / "breakfast.jpg"), str(photos / "copy.jpg")}
    assert len(lib.store.query("SELECT 1 FROM captions WHERE source = 'ocr'")) == 2  # each path keeps its text
    assert not lib.store.query("SELECT 1 FROM captions WHERE path = ?", (str(photos / "cafe.jpg"),))
    counting.close()


def test_no_ocr_leaves_text_pending_and_status_counts_it(text_library):
    lib, _ = text_library
    lib.index(read_text=False)
    assert lib.status()["ocr"] == {"done": 0, "pending": 3}
    assert not lib.store.query("SELECT 1 FROM ocr_text")
    lib.index()
    assert lib.status()["ocr"] == {"done": 3, "pending": 0}


def test_a_changed_photo_is_read_again_and_its_old_text_goes(text_library):
    lib, photos = text_library
    lib.index()
    sign(photos / "cafe.jpg", ["HOTEL", "BRISTOL"])
    lib.index()
    texts = {t for (t,) in lib.store.query("SELECT text FROM captions WHERE source = 'ocr'")}
    assert texts == {"HOTEL BRISTOL"}
    assert len(lib.store.query("SELECT 1 FROM ocr_text")) == 3  # the old content's text was dropped


def test_a_photo_damaged_after_indexing_is_marked_read_without_a_traceback(text_library):
    lib, photos = text_library
    lib.index(read_text=False)
    victim = photos / "photo_0001.jpg"
    stat = victim.stat()
    victim.write_bytes(b"\0" * stat.st_size)  # same size and time: the scan sees no change
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    errors: list[tuple[str, str]] = []
    assert ocr.read_pending(lib.store, on_error=lambda p, e: errors.append((p, e))) == 3
    assert [p for p, _ in errors] == [str(victim)]
    assert lib.status()["ocr"] == {"done": 3, "pending": 0}


class GatedReader(TextReader):
    """Reads nothing; counts what it is asked so the test drives timing, not the clock."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Semaphore(0)

    def ensure_loaded(self) -> None:
        pass

    def submit(self, path: str) -> Future:
        self.started.release()
        future: Future = Future()
        future.set_result(OcrResult(""))
        return future


def test_pause_holds_the_pass_and_cancel_stops_it(text_library):
    lib, _ = text_library
    lib.index(read_text=False)
    gated, pause, cancel = GatedReader(), threading.Event(), threading.Event()
    pause.set()
    seen: list[int] = []
    worker = threading.Thread(
        target=ocr.read_pending,
        args=(lib.store, gated, lambda p: seen.append(p.done), cancel, pause),
    )
    worker.start()
    assert gated.started.acquire(timeout=30)  # the first photo is read, then the pass waits
    worker.join(timeout=0.3)
    assert worker.is_alive() and seen == [0]
    cancel.set()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert lib.status()["ocr"]["done"] == 1  # the photo in hand is kept; the rest wait for next time
    gated.close()


def test_turning_reading_off_stops_the_pass_before_the_next_photo(text_library):
    lib, _ = text_library
    lib.index(read_text=False)
    gated = GatedReader()
    asked: list[bool] = []

    def enabled() -> bool:
        asked.append(True)
        return len(asked) < 2  # switched off while the second photo is read

    assert ocr.read_pending(lib.store, gated, enabled=enabled) == 2
    assert lib.status()["ocr"] == {"done": 2, "pending": 1}
    gated.close()


def test_a_pass_steps_aside_when_asked_and_a_later_call_goes_on_where_it_stopped(text_library):
    lib, _ = text_library
    lib.index(read_text=False)
    gated = GatedReader()
    seen: list[tuple[int, int]] = []
    asked = [False]

    def should_yield() -> bool:
        return asked[0]

    def progress(p) -> None:
        seen.append((p.done, p.total))
        asked[0] = True  # a job was queued while the first photo was read

    assert ocr.read_pending(lib.store, gated, progress, should_yield=should_yield) == 1
    assert lib.status()["ocr"] == {"done": 1, "pending": 2}  # the photo in hand was kept
    assert ocr.read_pending(lib.store, gated, should_yield=should_yield) == 0  # still asked: not a photo more
    asked[0] = False
    seen.clear()
    assert ocr.read_pending(lib.store, gated, lambda p: seen.append((p.done, p.total)), done_before=1) == 2
    assert seen == [(1, 3), (2, 3), (3, 3)]  # counting on from the part before
    assert lib.status()["ocr"] == {"done": 3, "pending": 0}
    gated.close()


class CrashingReader(TextReader):
    """The real reader process, which dies (as native code can) on one chosen photo."""

    def __init__(self, victim: str) -> None:
        super().__init__()
        self.victim = victim

    def submit(self, path: str):
        if path == self.victim:
            return self._executor().submit(os._exit, 3)
        return super().submit(path)


def test_a_crash_in_the_reader_process_costs_that_photo_only(text_library):
    lib, photos = text_library
    lib.index(read_text=False)
    errors: list[tuple[str, str]] = []
    crashing = CrashingReader(str(photos / "cafe.jpg"))
    assert ocr.read_pending(lib.store, crashing, on_error=lambda p, e: errors.append((p, e))) == 3
    assert [p for p, _ in errors] == [str(photos / "cafe.jpg")] and "reader stopped" in errors[0][1]
    assert lib.status()["ocr"] == {"done": 3, "pending": 0}
    assert ocr.text_for(lib.store, str(photos / "photo_0001.jpg")) == ""  # read by the restarted process
    crashing.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")
def test_text_is_read_from_photos_whose_names_are_not_utf8(tmp_path, monkeypatch):
    folder = tmp_path / os.fsdecode(b"\xe9t\xe9")  # Latin-1 names, folder and file, from an old share
    odd = sign(folder / os.fsdecode(b"caf\xe9.jpg"), ["GRAND", "CENTRAL", "CAFE"])
    make_photos(folder, 1)
    lib = Library(tmp_path / "library", model=TINY_MODEL, pretrained="random")
    lib.add_folder(folder)
    lib.index()
    assert lib.status()["ocr"] == {"done": 2, "pending": 0}
    hits = [h for h in lib.search_captions("cafe") if h.source == ocr.OCR_SOURCE]
    assert [h.path for h in hits] == [str(odd)]
    assert ocr.text_for(lib.store, str(odd)) == "GRAND CENTRAL CAFE"
    counting = CountingReader()
    monkeypatch.setattr(ocr, "shared_reader", lambda: counting)
    lib.index()
    assert counting.paths == []  # read once, not retried on every index
    counting.close()
    lib.close()
