"""Entry points of the desktop app: `photosearch gui` (via the CLI) and the `photosearch-gui` script."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from photosearch.core.errors import PhotoSearchError
from photosearch.core.library import Library
from photosearch.core.paths import library_dir
from photosearch.ui import platform_check
from photosearch.ui.main_window import MainWindow
from photosearch.ui.settings import Settings
from photosearch.ui.single_instance import SingleInstance, bring_forward, server_name
from photosearch.ui.style import apply_style
from photosearch.ui.worker import ImageQuery, LibraryRef

SCREENSHOT_TIMEOUT_S = float(os.environ.get("PHOTOSEARCH_SCREENSHOT_TIMEOUT", "180"))


class _ModelProgress(QObject):
    """The core reports model download/load steps from the worker thread; this queues them to the GUI."""

    message = Signal(str)


def build_window(args: argparse.Namespace, *, interactive: bool = True, start_worker: bool = True) -> MainWindow:
    """The window over the library named by args (and the user's settings); shared by run() and tests."""
    settings = Settings.load()
    relay = _ModelProgress()
    # The library's own model serves it: the settings name a model only for a library that has none yet
    # (a settings file saying otherwise, from a switch that never finished, must not hide the index).
    model = getattr(args, "model", None)
    pretrained = getattr(args, "pretrained", None)
    device = getattr(args, "device", None) or settings.device
    if getattr(args, "device", "auto") == "auto" and settings.device != "auto":
        device = settings.device

    def make_library(model: str | None = model, pretrained: str | None = pretrained, device: str = device) -> Library:
        return Library(
            getattr(args, "library", None),
            model=model,
            pretrained=pretrained,
            device=device,
            # Read at each call: turning "Work offline" on in Settings governs the next model load too.
            offline=bool(getattr(args, "offline", False)) or settings.offline,
            backend=getattr(args, "backend", "auto") or "auto",
            on_model_progress=relay.message.emit,
        )

    library = make_library()
    if not model and settings.model and library.store.get_meta("model_id") is None:
        library.close()
        model, pretrained = settings.model, settings.pretrained
        library = make_library(model, pretrained)
    _restore_folders(library, settings)
    screenshot = bool(getattr(args, "screenshot", None))
    window = MainWindow(
        LibraryRef(library),
        settings,
        make_library,
        start_worker=start_worker,
        index_on_start=not screenshot,  # a screenshot shows the library as it is
        watch=not screenshot,
        interactive=interactive and not screenshot,
    )
    window.offline_forced = bool(getattr(args, "offline", False))
    relay.setParent(window)
    relay.message.connect(window.modelMessage)
    return window


def _restore_folders(library: Library, settings: Settings) -> None:
    """A new or rebuilt library gets back the folders the user's settings remember."""
    if library.folders() or not settings.folders:
        return
    for path in settings.folders:
        if os.path.isdir(path):
            # Busy or invalid: the sidebar shows what is actually watched.
            with contextlib.suppress(PhotoSearchError):
                library.add_folder(path)


def run(args: argparse.Namespace) -> int:
    if QApplication.instance() is None and platform_check.wants_xcb():
        problem = platform_check.xcb_problem()  # Qt would abort the process, naming one library of several
        if problem:
            raise PhotoSearchError(problem)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("PhotoSearch")
    app.setOrganizationName("PhotoSearch")
    apply_style(app)
    instance = None
    if not getattr(args, "screenshot", None):
        instance = SingleInstance(server_name(library_dir(getattr(args, "library", None))), app)
        if not instance.claim():
            print("PhotoSearch is already open on this library; its window was brought forward", file=sys.stderr)
            return 0
    try:
        window = build_window(args)
    except PhotoSearchError as exc:
        if getattr(args, "screenshot", None):
            print(f"photosearch: error: {exc}", file=sys.stderr)
            return 1
        QMessageBox.critical(None, "PhotoSearch", str(exc))
        return 2
    if getattr(args, "screenshot", None):
        return _screenshot(app, window, args)
    window.restore_geometry()
    window.show()
    if instance is not None:
        instance.activated.connect(lambda: bring_forward(window))
        window.destroyed.connect(instance.deleteLater)
    query_image = getattr(args, "query_image", None)
    if query_image:
        window.set_image_query(ImageQuery(path=os.path.abspath(query_image), label=os.path.basename(query_image)))
    elif getattr(args, "query", None):
        window.search_bar.set_text(args.query)
    return app.exec()


def _screenshot(app: QApplication, window: MainWindow, args: argparse.Namespace) -> int:
    """Show the window, run the query, wait for results and their thumbnails, save a PNG, exit."""
    out = os.path.abspath(args.screenshot)
    window.show()
    outcome = {"code": 1}
    started = time.monotonic()
    asked = {"done": False}
    shown = {"results": False}
    window.resultsShown.connect(lambda _n: shown.update(results=True))

    def ask() -> None:
        if args.query_image:
            path = os.path.abspath(args.query_image)
            window.set_image_query(ImageQuery(path=path, label=os.path.basename(path)))
        elif args.query:
            window.search_bar.set_text(args.query)
        else:
            shown["results"] = True  # nothing to search: the window as it opens
        asked["done"] = True

    def tick() -> None:
        if time.monotonic() - started > SCREENSHOT_TIMEOUT_S:
            reason = window.last_error or "results or thumbnails did not arrive"
            print(f"photosearch: screenshot timed out after {SCREENSHOT_TIMEOUT_S:.0f} s: {reason}", file=sys.stderr)
            finish(1)
            return
        if not asked["done"]:
            ask()
            return
        if window.last_error:  # a failed search or model load would only photograph an error
            print(f"photosearch: screenshot failed: {window.last_error}", file=sys.stderr)
            finish(1)
            return
        if shown["results"] and window.searcher.idle and window.thumbnails_settled():
            timer.stop()
            # One more turn of the event loop so the last thumbnails are painted, then grab.
            QTimer.singleShot(150, save)

    def save() -> None:
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        if window.grab().save(out, "PNG"):
            print(out)
            finish(0)
        else:
            print(f"photosearch: cannot write {out}", file=sys.stderr)
            finish(1)

    def finish(code: int) -> None:
        outcome["code"] = code
        timer.stop()
        window.close()
        loop.quit()

    # A local loop, not app.exec()/quit(): run() may be called inside a running app (tests, embedding),
    # and quitting the application would leave it unable to run timers afterwards.
    quit_on_close = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(100)
    timer.timeout.connect(tick)
    timer.start()
    loop.exec()
    app.setQuitOnLastWindowClosed(quit_on_close)
    return outcome["code"]


def main() -> int:
    from photosearch.cli import main as cli_main

    # The gui-script takes the same global options as `photosearch gui`.
    argv = sys.argv[1:]
    return cli_main(argv if "gui" in argv else ["gui", *argv])


if __name__ == "__main__":
    sys.exit(main())
