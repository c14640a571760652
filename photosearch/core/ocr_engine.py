"""Reading the words in one photo with rapidocr-onnxruntime (PP-OCRv4 models shipped in its wheel).

Cheap first: text detection runs on a reduced decode (~1000 px); only when it finds text is the photo
decoded again, larger, and only the found boxes are cropped, classified (upright / upside down) and
recognised. The models run in one low-priority process of their own, so searching and the GUI stay
responsive while a library is read.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from importlib import metadata

import numpy as np
from PIL import Image

from photosearch.core.errors import PhotoSearchError
from photosearch.core.images import ImageError, decode

DET_MIN_SIDE = 720  # shorter side of the detection decode (a 4000x3000 JPEG decodes at 1/4 scale)
DET_LIMIT = 960  # the detector's input, longer side
REC_MIN_SIDE = 1500  # shorter side of the decode that text boxes are cut from (1/2 scale of 12 MP)
UPSCALE_MAX = 2.0  # most a small photo is enlarged for detection
MIN_SCORE = 0.5  # recognitions the model is less sure of are mostly noise
NICE = 10  # how much lower than the app the OCR process runs (POSIX)

_QT_ENV = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")


class OcrUnavailable(PhotoSearchError):
    """The OCR library or its models cannot be loaded; text reading is skipped, nothing else."""


@dataclass(frozen=True)
class OcrResult:
    text: str  # lines in reading order, joined by newlines; '' when the photo has no text
    error: str = ""  # why the photo could not be read ('' when it was)
    boxes: int = 0  # text regions the detector found


def engine_name() -> str:
    try:
        return f"rapidocr-onnxruntime {metadata.version('rapidocr-onnxruntime')}"
    except metadata.PackageNotFoundError:
        return "rapidocr-onnxruntime"


def _load_rapidocr(threads: int):
    # opencv-python (a rapidocr dependency) points Qt at its own plugins on import, which would break
    # PySide6's: keep the app's environment as it was.
    saved = {k: os.environ.get(k) for k in _QT_ENV}
    try:
        import cv2
        from rapidocr_onnxruntime import RapidOCR
    except Exception as exc:  # ImportError, or a broken native library
        raise OcrUnavailable(f"text in photos is unavailable: {type(exc).__name__}: {exc}") from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    cv2.setNumThreads(1)
    try:
        engine = RapidOCR(
            det_limit_type="max",
            det_limit_side_len=DET_LIMIT,
            intra_op_num_threads=threads,
            inter_op_num_threads=1,
        )
    except Exception as exc:  # a missing or damaged model file
        raise OcrUnavailable(f"text in photos is unavailable: cannot load the OCR models ({exc})") from None
    return cv2, engine


class _Engine:
    """The models and the per-photo work; lives in the reader's own process."""

    def __init__(self, threads: int) -> None:
        self._cv2, self._engine = _load_rapidocr(threads)

    def read(self, path: str) -> OcrResult:
        try:
            decoded = decode(path, min_side=DET_MIN_SIDE)
        except ImageError as exc:
            return OcrResult("", error=str(exc))
        small = decoded.image
        # A small photo (a thumbnail, a screenshot crop) is enlarged up to 2x: at its own size, lines of
        # small type merge into one box (measured on scikit-image's page photo: 2 of 7 lines lost).
        factor = min(UPSCALE_MAX, DET_LIMIT / max(small.size))
        if factor > 1.05:
            small = small.resize((round(small.width * factor), round(small.height * factor)), Image.Resampling.LANCZOS)
        try:
            return self._read_decoded(path, small, max(decoded.width, decoded.height) > 1.3 * max(small.size))
        except MemoryError:
            return OcrResult("", error="not enough memory to read the text")
        except Exception as exc:  # the OCR library on a strange image: that photo only, no traceback
            return OcrResult("", error=f"text reading failed: {type(exc).__name__}: {exc}"[:200])

    def _read_decoded(self, path: str, small, larger_exists: bool) -> OcrResult:
        boxes, _ = self._engine.text_det(_bgr(small))
        if boxes is None or len(boxes) == 0:
            return OcrResult("")
        large = small
        if larger_exists and min(small.size) < REC_MIN_SIDE:
            with contextlib.suppress(ImageError):
                large = decode(path, min_side=REC_MIN_SIDE).image
        scale = np.array([large.width / small.width, large.height / small.height], dtype=np.float32)
        pixels = _bgr(large)
        lines = _reading_lines([np.asarray(b, dtype=np.float32) * scale for b in boxes])
        ordered = [box for line in lines for box in line]
        crops, _, _ = self._engine.text_cls([self._crop(pixels, box) for box in ordered])
        recognised, _ = self._engine.text_rec(crops)
        texts = iter(_clean(t) if float(score) >= MIN_SCORE else "" for t, score, *_ in recognised)
        # Boxes on one line are joined by spaces, lines by newlines.
        joined = [" ".join(w for w in (next(texts) for _ in line) if w) for line in lines]
        return OcrResult("\n".join(line for line in joined if line), boxes=len(ordered))

    def _crop(self, pixels: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The quadrilateral `box` straightened into an upright strip (vertical strips turned flat)."""
        cv2 = self._cv2
        width = int(max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[3] - box[2]), 1))
        height = int(max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2]), 1))
        target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
        warp = cv2.getPerspectiveTransform(box.astype(np.float32), target)
        strip = cv2.warpPerspective(
            pixels, warp, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
        )
        return np.ascontiguousarray(np.rot90(strip)) if height >= 1.5 * width else strip


# -- in the reader's process --------------------------------------------------------------------
_child: dict = {}


def _child_init(threads: int, nice: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.nice(nice)  # the whole reader process: it never holds a lock the app waits on
    _child["threads"] = threads


def _child_engine() -> _Engine:
    if "engine" not in _child:
        _child["engine"] = _Engine(_child.get("threads", 1))
    return _child["engine"]


def _child_load() -> bool:
    _child_engine()
    return True


def _child_read(path: str) -> OcrResult:
    return _child_engine().read(path)


class TextReader:
    """Reads photos one at a time in a low-priority process of its own, started on first use.

    A process, not a thread: a niced thread that holds the GIL when the system is busy would stall the
    app's GUI thread (measured: 650 ms stalls), and a crash in native OCR code cannot take the app down.
    """

    def __init__(self, threads: int | None = None, nice: int = NICE) -> None:
        self.threads = threads or max(1, min(2, (os.cpu_count() or 2) - 1))
        self.nice = nice
        self.name = engine_name()
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    1,
                    mp_context=multiprocessing.get_context("spawn"),  # never fork a process running Qt
                    initializer=_child_init,
                    initargs=(self.threads, self.nice),
                )
            return self._pool

    def submit(self, path: str) -> Future[OcrResult]:
        return self._executor().submit(_child_read, path)

    def read(self, path: str) -> OcrResult:
        return self.submit(path).result()

    def ensure_loaded(self) -> None:
        """Start the reader and load the models now; raises OcrUnavailable."""
        try:
            self._executor().submit(_child_load).result()
        except OcrUnavailable:
            raise
        except Exception as exc:  # the process could not start or died while loading
            self.restart()
            raise OcrUnavailable(f"text in photos is unavailable: {type(exc).__name__}: {exc}") from None

    def restart(self) -> None:
        """Drop a reader process that died (the next photo starts a fresh one)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _clean(text: str) -> str:
    """One line of recognised text; a lone character (a cup's rim read as "O") is mostly noise."""
    line = " ".join(str(text).split())
    return line if sum(c.isalnum() for c in line) >= 2 else ""


def _bgr(image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def _reading_lines(boxes: list[np.ndarray]) -> list[list[np.ndarray]]:
    """Boxes in lines, top to bottom (centres within half a line height share one), each left to right."""
    lines: list[tuple[float, float, list[np.ndarray]]] = []
    for box in sorted(boxes, key=lambda b: float(b[:, 1].mean())):
        centre, height = float(box[:, 1].mean()), max(float(np.ptp(box[:, 1])), 1.0)
        if lines and abs(centre - lines[-1][0]) < 0.5 * lines[-1][1]:
            lines[-1][2].append(box)
        else:
            lines.append((centre, height, [box]))
    return [sorted(line, key=lambda b: float(b[:, 0].min())) for _, _, line in lines]


_shared: TextReader | None = None
_shared_lock = threading.Lock()


def shared_reader(factory: Callable[[], TextReader] = TextReader) -> TextReader:
    """One reader per process: the models take ~1 s and ~100 MB to load."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = factory()
        return _shared
