"""Driver for .ci/real_window.sh: a real X server, the real app, a person's wheel; fails on a crash.

Builds a 300-photo library (scikit-image samples plus generated photos) with the tiny test model,
starts Xvfb and openbox, opens `photosearch gui`, types a query with xdotool, scrolls the grid up and
down with the wheel for --seconds, and checks that the process is still alive and that a screenshot
of the X screen (xwd, read here) shows a real window, not a blank screen.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TINY = ROOT / "tests" / "fixtures" / "tiny_clip.json"
SCREEN = (1600, 1000)


def fail(message: str) -> None:
    print(f"real-window check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def build_library(base: Path, count: int) -> list[str]:
    """Photos, captions and an index; returns the global options naming the library and model."""
    import numpy as np
    from PIL import Image

    options = ["--library", str(base / "library"), "--model", str(TINY), "--pretrained", "random", "--offline"]
    if (base / "library").exists():  # --keep: built by an earlier run
        return options
    # packaging/ is not a package (and "packaging" is also pip's library): load the script by path.
    spec = importlib.util.spec_from_file_location("make_screenshot", ROOT / "packaging" / "make_screenshot.py")
    shots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shots)
    photos, captions = shots.build_library(base)
    rng = np.random.default_rng(0)
    have = len(list(photos.iterdir()))
    for i in range(max(0, count - have)):
        colour = rng.integers(0, 255, 3)
        array = np.clip(colour + rng.integers(-50, 50, (96, 128, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(array).save(photos / f"generated_{i:04d}.jpg", quality=85)
    run = [sys.executable, "-m", "photosearch", *options]
    subprocess.run([*run, "index", str(photos)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    subprocess.run([*run, "captions", "import", str(captions)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return options


def app_log(base: Path) -> str:
    """The app's output for a failure report: the fatal error line (if any), then the end."""
    text = (base / "app.log").read_text(encoding="utf-8", errors="replace")
    fatal = [line for line in text.splitlines() if "Fatal Python error" in line or "Traceback" in line]
    return "\n".join([*fatal[:3], "...", text[-2500:]])


def xdotool(*args: str, check: bool = True) -> str:
    done = subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        fail(f"xdotool {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def read_xwd(data: bytes):
    """An XWD dump (TrueColor, 24/32 bpp ZPixmap) as a PIL image; Pillow has no XWD reader."""
    from PIL import Image

    header = struct.unpack(">25I", data[:100])
    header_size, width, height = header[0], header[4], header[5]
    byte_order, bits_per_pixel, bytes_per_line, ncolors = header[7], header[11], header[12], header[19]
    if bits_per_pixel not in (24, 32):
        fail(f"unexpected screen format: {bits_per_pixel} bits per pixel")
    start = header_size + ncolors * 12
    raw = {(32, 0): "BGRX", (32, 1): "XRGB", (24, 0): "BGR", (24, 1): "RGB"}[(bits_per_pixel, byte_order)]
    return Image.frombuffer("RGB", (width, height), data[start : start + bytes_per_line * height], "raw", raw,
                            bytes_per_line, 1)


def screenshot(env: dict) -> object:
    dump = subprocess.run(["xwd", "-root", "-silent"], capture_output=True, env=env, timeout=60, check=True).stdout
    return read_xwd(dump)


def not_blank(image) -> tuple[bool, str]:
    """A real window: many colours and real contrast, not one flat fill (or a black, unpainted screen)."""
    from PIL import ImageStat

    small = image.convert("RGB").resize((400, 250))
    colours = len(set(small.tobytes()[i : i + 3] for i in range(0, 400 * 250 * 3, 3)))
    spread = max(ImageStat.Stat(small.convert("L")).stddev)
    return colours > 200 and spread > 10, f"{colours} colours, grey-level spread {spread:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=35.0, help="how long to scroll (at least 30 in CI)")
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--query", default="a cat")
    parser.add_argument("--screenshot", default=None, help="also save the app window's screenshot here")
    parser.add_argument("--keep", default=None, help="work in this folder and keep it")
    parser.add_argument("--scale", default=None, help="QT_SCALE_FACTOR for the app (the window must still fit)")
    args = parser.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="photosearch-xcheck-"))
    base.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(PHOTOSEARCH_CONFIG=str(base / "config"), PHOTOSEARCH_CACHE=str(base / "cache"), HF_HUB_OFFLINE="1")
    env.pop("QT_QPA_PLATFORM", None)  # CI sets offscreen for pytest: this check wants the real thing
    os.environ.update({k: env[k] for k in ("PHOTOSEARCH_CONFIG", "PHOTOSEARCH_CACHE")})
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the library build below needs no display
    options = build_library(base, args.photos)

    display = f":{90 + os.getpid() % 9}"
    env["DISPLAY"] = display
    env["QT_QPA_PLATFORM"] = "xcb"
    if args.scale:
        env["QT_SCALE_FACTOR"] = args.scale
    procs: list[subprocess.Popen] = []
    log = open(base / "app.log", "w+", encoding="utf-8")  # noqa: SIM115 (read back at the end)
    try:
        server = subprocess.Popen(
            ["Xvfb", display, "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(server)
        socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
        deadline = time.monotonic() + 30
        while not socket.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                fail("Xvfb did not start")
            time.sleep(0.1)
        os.environ["DISPLAY"] = display
        procs.append(subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        app = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-m", "photosearch", *options, "gui"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        procs.append(app)
        window = ""
        deadline = time.monotonic() + 180
        while not window:
            if app.poll() is not None:
                fail(f"the app exited at start (code {app.returncode}):\n{app_log(base)}")
            if time.monotonic() > deadline:
                fail("no PhotoSearch window within 180 s")
            window = xdotool("search", "--onlyvisible", "--name", "^PhotoSearch$", check=False).split("\n")[0]
            time.sleep(0.5)
        xdotool("windowactivate", "--sync", window, check=False)
        xdotool("windowfocus", "--sync", window, check=False)
        time.sleep(1.0)
        xdotool("key", "--window", window, "ctrl+f")
        xdotool("type", "--delay", "60", args.query)
        xdotool("key", "Return")
        time.sleep(3.0)  # the answer takes milliseconds; the thumbnails a moment longer
        geometry = dict(
            line.split("=", 1) for line in xdotool("getwindowgeometry", "--shell", window).splitlines() if "=" in line
        )
        x, y = int(geometry["X"]), int(geometry["Y"])
        width, height = int(geometry["WIDTH"]), int(geometry["HEIGHT"])
        print(f"window at {x},{y} size {width}x{height} on a {SCREEN[0]}x{SCREEN[1]} screen")
        if x < 0 or y < 0 or x + width > SCREEN[0] or y + height > SCREEN[1]:
            fail(f"the window does not fit the screen: {width}x{height} at {x},{y}")
        # Over the grid: the middle of the window, a little left of centre (the caption panel is right).
        xdotool("mousemove", str(x + width * 45 // 100), str(y + height // 2))
        if args.screenshot:  # the README's picture: the answer to the query, from the real screen
            screen = screenshot(env)
            # The window with its openbox frame: everything that is not the empty (black) desktop.
            box = screen.convert("L").point(lambda v: 255 if v > 8 else 0).getbbox() or (0, 0, *SCREEN)
            screen.crop(box).save(args.screenshot)
            print(f"window screenshot: {args.screenshot} ({box[2] - box[0]}x{box[3] - box[1]})")
        started = time.monotonic()
        clicks = 0
        while time.monotonic() - started < args.seconds:
            button = "5" if (clicks // 40) % 2 == 0 else "4"  # 40 notches down, 40 up, again
            xdotool("click", "--delay", "15", "--repeat", "10", button)
            clicks += 10
            if app.poll() is not None:
                fail(
                    f"the app died after {time.monotonic() - started:.0f} s of scrolling (code {app.returncode}):\n"
                    f"{app_log(base)}"
                )
        print(f"scrolled {clicks} wheel notches over {time.monotonic() - started:.0f} s; the app is alive")
        image = screenshot(env)
        ok, facts = not_blank(image)
        shot = base / "screen.png"
        image.save(shot)
        print(f"screenshot {shot}: {facts}")
        if not ok:
            fail(f"the screenshot is blank ({facts})")
        if app.poll() is not None:
            fail(f"the app died (code {app.returncode})")
        return 0
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        log.close()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
