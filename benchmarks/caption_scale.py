"""A caption CSV of millions of rows, as a user runs it: `captions import` (interrupted, then resumed),
`status` while and after, then `captions search`, each in its own process, timed with its peak RSS.

    python -m benchmarks.caption_scale                      # 2,500,000 rows (~215 MB), 25,000 photos
    python -m benchmarks.caption_scale --rows 500000        # a stated fraction
    python -m benchmarks.caption_scale --quick              # 5,000 rows (CI: proves it runs)

Rows name photos under the watched folder (small JPEGs, hard links of one file, not indexed: captions
are imported for files that exist). The model is the tiny test model with random weights, so the
figures are the app's own costs (reading, SQLite, FTS5, the caption index), not a real text tower's.
The import runs on a pseudo-terminal (its progress bar is shown on terminals), gets SIGINT once some
captions are embedded, and is run again to finish. Searches run twice: the first builds the caption
index from SQLite and saves it, the second starts from the saved one. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import psutil

from benchmarks.common import TINY_MODEL, emit_json, machine, mib, say

WORDS = (
    "dog", "cat", "beach", "red", "car", "mountain", "snow", "two", "people", "walking", "sunset", "old", "bridge",
    "river", "city", "night", "plate", "pasta", "flower", "child", "ball", "garden", "blue", "green", "small",
    "large", "running", "sitting", "tree", "lake", "boat", "house",
)  # fmt: skip
QUERIES = ("a photo of a dog on the beach", "red car at night", "old bridge over the river -snow")


def write_csv(path: Path, folder: Path, rows: int, photos: int) -> None:
    rng = random.Random(9)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("filename", "caption"))
        for i in range(rows):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 7)))
            photo = i % photos
            writer.writerow((f"{folder}/album{photo % 500:03d}/photo_{photo:05d}.jpg", f"a photo of {words}"))


def make_photos(folder: Path, count: int) -> None:
    from PIL import Image

    seed = folder.parent / "seed.jpg"
    Image.new("RGB", (8, 8), (120, 30, 30)).save(seed)
    for i in range(count):
        album = folder / f"album{i % 500:03d}"
        album.mkdir(parents=True, exist_ok=True)
        os.link(seed, album / f"photo_{i:05d}.jpg")


class Run:
    """One CLI command in its own process on a pseudo-terminal: wall time, peak RSS, last progress lines."""

    def __init__(self, base: list[str], args: list[str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # tqdm draws nothing at 0 columns
        self.started = time.monotonic()
        self.proc = subprocess.Popen([*base, *args], stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        self.peak = 0
        self.progress: list[str] = []
        self._threads = [threading.Thread(target=self._read, args=(master,)), threading.Thread(target=self._poll)]
        for t in self._threads:
            t.start()

    def _read(self, fd: int) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            *lines, buf = re.split(rb"[\r\n]", buf)
            self.progress += [x.decode(errors="replace").strip() for x in lines if x.strip()]
            self.progress = self.progress[-400:]
        os.close(fd)

    def _poll(self) -> None:
        proc = psutil.Process(self.proc.pid)
        while self.proc.poll() is None:
            try:
                self.peak = max(self.peak, proc.memory_info().rss)
            except psutil.Error:
                break
            time.sleep(0.05)

    def wait(self) -> dict:
        out = self.proc.communicate()[0]
        for t in self._threads:
            t.join()
        return {
            "rc": self.proc.returncode,
            "wall_s": round(time.monotonic() - self.started, 2),
            "peak_rss_mib": round(mib(self.peak), 1),
            "stdout_tail": out.strip().splitlines()[-3:],
            "progress_samples": _samples(self.progress),
        }


def _samples(lines: list[str]) -> list[str]:
    bars = [re.sub(r"\|[^|]*\|", "|", x) for x in lines if "/s]" in x]  # without the bar drawing
    return bars[:: max(1, len(bars) // 6)][:6] + bars[-1:] if bars else lines[-3:]


# Search cost without process start and model load: index refresh (load or build), then each query.
IN_PROCESS = """
import json, sys, time, psutil
from photosearch.core.library import Library
from benchmarks.caption_scale import QUERIES
lib = Library(sys.argv[1], model=sys.argv[2], pretrained="random")
lib.text_vector("warm up")
before = psutil.Process().memory_info().rss
t = time.perf_counter(); lib.engine()._caption_index(); refresh = time.perf_counter() - t
out = {"index_refresh_s": round(refresh, 3), "queries_ms": {}}
for q in QUERIES:
    t = time.perf_counter(); lib.search_captions(text=q, k=10)
    out["queries_ms"][q] = round(1000 * (time.perf_counter() - t), 1)
out["index_exact"] = lib.engine()._captions_index.index.exact
out["rss_extra_mib"] = round((psutil.Process().memory_info().rss - before) / 2**20, 1)
print(json.dumps(out))
"""


def status(base: list[str]) -> dict:
    data = json.loads(subprocess.run([*base, "--json", "status"], capture_output=True, text=True, check=True).stdout)
    return {"captions": data["captions"], "captions_pending": data["captions_pending"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=2_500_000)
    parser.add_argument("--photos", type=int, default=25_000)
    parser.add_argument("--interrupt-after-embedded", type=int, default=None, help="SIGINT once this many are")
    parser.add_argument("--work", type=Path, default=None, help="folder to use (kept); default: a temporary one")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.photos = 5_000, 50
    interrupt_at = args.interrupt_after_embedded or max(1, args.rows // 4)
    work = args.work or Path(tempfile.mkdtemp(prefix="photosearch-bench-captions-"))
    work.mkdir(parents=True, exist_ok=True)
    folder, csv_path = work / "photos", work / "captions.csv"
    env = {**os.environ, "PHOTOSEARCH_CACHE": str(work / "cache"), "HF_HUB_OFFLINE": "1"}
    os.environ.update(env)
    base = [sys.executable, "-m", "photosearch", "--library", str(work / "library")]
    base += ["--model", str(TINY_MODEL), "--pretrained", "random"]
    out: dict = {"benchmark": "caption_scale", "machine": machine(), "rows": args.rows, "photos": args.photos}
    out["model"] = "tests/fixtures/tiny_clip.json, random weights (32-d)"
    try:
        if not folder.exists():
            make_photos(folder, args.photos)
        if not csv_path.exists():
            write_csv(csv_path, folder, args.rows, args.photos)
        out["csv_mib"] = round(mib(csv_path.stat().st_size), 1)
        subprocess.run([*base, "folders", "add", str(folder)], check=True, capture_output=True)
        say(f"importing {args.rows} rows ({out['csv_mib']} MiB); SIGINT once {interrupt_at} are embedded")
        first = Run(base, ["captions", "import", str(csv_path)])
        during: list[dict] = []
        while first.proc.poll() is None:
            time.sleep(1.0 if args.quick else 20.0)
            try:
                seen = status(base)
            except (subprocess.CalledProcessError, ValueError):
                continue
            during.append({"t_s": round(time.monotonic() - first.started, 1), **seen})
            say(f"  status during: {seen}")
            if seen["captions"] >= args.rows * 0.99 and seen["captions"] - seen["captions_pending"] >= interrupt_at:
                first.proc.send_signal(signal.SIGINT)
                break
        out["import_interrupted"] = first.wait()
        out["status_during"] = during
        out["status_after_interrupt"] = status(base)
        say(f"after the interrupt: {out['status_after_interrupt']}")
        out["import_resumed"] = Run(base, ["captions", "import", str(csv_path)]).wait()
        out["status_after_resume"] = status(base)
        say(f"after resuming: {out['status_after_resume']}")
        out["searches"] = []
        for n, query in enumerate(QUERIES[:1] * 2 if args.quick else QUERIES * 2):
            result = Run(base, ["--json", "captions", "search", query, "-k", "10"]).wait()
            result.pop("progress_samples")
            result.update(query=query, index="built from SQLite, then saved" if n == 0 else "loaded from the snapshot")
            result["top"] = json.loads(result.pop("stdout_tail")[0] if result["rc"] == 0 else "[]")[:1]
            out["searches"].append(result)
            say(f"  captions search {query!r} ({result['index']}): {result['wall_s']} s, {result['peak_rss_mib']} MiB")
        out["in_process"] = json.loads(
            subprocess.run(
                [sys.executable, "-c", IN_PROCESS, str(work / "library"), str(TINY_MODEL)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        say(f"  in one process: {out['in_process']}")
        out["load_average"] = os.getloadavg()
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    emit_json(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
