"""Watch the library's folders and report coalesced change sets (Qt-free; the GUI bridges it to signals).

A photo copy or a camera import produces many events per file (created, several modified, closed)
and many files per second. Re-indexing on each event would redo work and thrash the writer lock, so
events are collected into one set and handed over once the folder has been quiet for `debounce`
seconds (or at the latest `max_delay` seconds after the first event, so a never-ending stream of
changes still gets indexed). Both ends of a move are reported: the indexer needs the old path to
forget it and the new one to index it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable

from watchdog.events import (
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from photosearch.core.images import IMAGE_EXTENSIONS

ChangesCallback = Callable[[set[str]], None]
ErrorCallback = Callable[[str], None]

INOTIFY_FIX = "sudo sysctl fs.inotify.max_user_watches=524288"
# Sidecar captions live in .txt files next to photos; a changed sidecar changes the photo's captions.
WATCHED_EXTENSIONS = frozenset(IMAGE_EXTENSIONS | {".txt"})
_RELEVANT = {EVENT_TYPE_CREATED, EVENT_TYPE_DELETED, EVENT_TYPE_MODIFIED, EVENT_TYPE_MOVED}


def is_relevant_path(path: str, is_directory: bool = False) -> bool:
    """Photos and caption sidecars matter; editor temp files, hidden files and other types do not."""
    name = os.path.basename(path.rstrip(os.sep))
    if not name or name.startswith("."):
        return False
    if is_directory:
        return True  # a folder moved or deleted takes its photos with it
    return os.path.splitext(name)[1].lower() in WATCHED_EXTENSIONS


def describe_watch_error(folder: str, exc: BaseException) -> str:
    """One line for the user, with the fix when the fix is known."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.ENOSPC or "watch limit" in text:
        return (
            f"Cannot watch {folder} for changes: the system's inotify watch limit is reached. "
            f"Raise it with: {INOTIFY_FIX}  (changes are still picked up by a manual re-index)"
        )
    if code == errno.EMFILE or "instance limit" in text:
        return (
            f"Cannot watch {folder} for changes: too many inotify instances are open. "
            "Raise the limit with: sudo sysctl fs.inotify.max_user_instances=1024"
        )
    if isinstance(exc, FileNotFoundError):
        return f"Not watching {folder}: the folder is not available (drive away?)"
    return f"Cannot watch {folder} for changes: {text or type(exc).__name__}"


class _Handler(FileSystemEventHandler):
    def __init__(self, sink: Callable[[Iterable[str]], None]) -> None:
        self._sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _RELEVANT:
            return  # opened / closed events carry no new information
        if event.is_directory and event.event_type == EVENT_TYPE_MODIFIED:
            return  # a folder's mtime changes whenever a file in it does; the file event is enough
        paths = [os.fsdecode(event.src_path)]
        if event.event_type == EVENT_TYPE_MOVED:
            paths.append(os.fsdecode(event.dest_path))
        # A move from "photo.jpg.part" to "photo.jpg" must count: keep both ends if either is relevant.
        if any(is_relevant_path(p, event.is_directory) for p in paths):
            self._sink(paths)


class FolderWatcher:
    """Recursive watches over folders; calls `on_changes(paths)` from its own thread after a quiet spell."""

    def __init__(
        self,
        on_changes: ChangesCallback,
        on_error: ErrorCallback | None = None,
        *,
        debounce: float = 1.0,
        max_delay: float = 10.0,
        observer_factory: Callable[[], object] = Observer,
        health_interval: float = 2.0,
    ) -> None:
        self._on_changes = on_changes
        self._on_error = on_error or (lambda message: print(message, file=sys.stderr))
        self.debounce = debounce
        self.max_delay = max_delay
        self._observer_factory = observer_factory
        self._health_interval = health_interval
        self._observer = None
        self._watches: dict[str, object] = {}
        self._reported_dead: set[str] = set()
        self._pending: set[str] = set()
        self._first_event = 0.0
        self._last_event = 0.0
        self._cond = threading.Condition()
        self._stopping = False
        self._flusher: threading.Thread | None = None
        self._handler = _Handler(self._add)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, folders: Iterable[str] = ()) -> None:
        if self._observer is not None:
            return
        self._stopping = False
        self._observer = self._observer_factory()
        self._observer.start()
        self._flusher = threading.Thread(target=self._flush_loop, name="photosearch-watcher", daemon=True)
        self._flusher.start()
        self.set_folders(folders)

    def stop(self, flush: bool = False) -> None:
        """Stop watching; with flush=True, changes still waiting for their quiet spell are delivered now."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
            self._flusher = None
        if self._observer is not None:
            try:
                self._observer.stop()
                self._observer.join(timeout=5)
            except RuntimeError:
                pass  # never started
            self._observer = None
        self._watches.clear()
        with self._cond:
            pending, self._pending = self._pending, set()
        if flush and pending:
            self._deliver(pending)

    @property
    def folders(self) -> list[str]:
        return sorted(self._watches)

    def set_folders(self, folders: Iterable[str]) -> None:
        """Watch exactly these folders (adds new watches, drops old ones); errors go to on_error."""
        if self._observer is None:
            raise RuntimeError("start() the watcher first")
        wanted = {os.path.abspath(f) for f in folders}
        for folder in sorted(set(self._watches) - wanted):
            watch = self._watches.pop(folder)
            with contextlib.suppress(KeyError, OSError):  # already gone with its folder
                self._observer.unschedule(watch)
        for folder in sorted(wanted - set(self._watches)):
            self._reported_dead.discard(folder)
            try:
                self._watches[folder] = self._observer.schedule(self._handler, folder, recursive=True)
            except OSError as exc:  # inotify limits, missing folder, permissions
                self._report(describe_watch_error(folder, exc))

    # -- event collection ----------------------------------------------------------------------
    def _add(self, paths: Iterable[str]) -> None:
        now = time.monotonic()
        with self._cond:
            if not self._pending:
                self._first_event = now
            self._pending.update(paths)
            self._last_event = now
            self._cond.notify_all()

    def _flush_loop(self) -> None:
        next_health = time.monotonic() + self._health_interval
        while True:
            with self._cond:
                if self._stopping:
                    return
                now = time.monotonic()
                if self._pending:
                    due = min(self._last_event + self.debounce, self._first_event + self.max_delay)
                else:
                    due = now + self._health_interval
                if now < due:
                    self._cond.wait(timeout=min(due, next_health) - now)
                    ready = None
                else:
                    ready, self._pending = self._pending, set()
            if ready:
                self._deliver(ready)
            if time.monotonic() >= next_health:
                self._check_health()
                next_health = time.monotonic() + self._health_interval

    def _deliver(self, paths: set[str]) -> None:
        try:
            self._on_changes(paths)
        except Exception as exc:  # a broken consumer must not kill the watcher thread
            self._report(f"Processing folder changes failed: {exc}")

    def _check_health(self) -> None:
        """An emitter thread dies when inotify fails mid-run (e.g. a new subfolder hits the watch limit)."""
        observer = self._observer
        if observer is None:
            return
        for emitter in list(getattr(observer, "emitters", ())):
            folder = os.path.abspath(emitter.watch.path)
            if not emitter.is_alive() and folder in self._watches and folder not in self._reported_dead:
                self._reported_dead.add(folder)
                if os.path.isdir(folder):
                    message = (
                        f"Stopped watching {folder} for changes; if the inotify watch limit was reached, "
                        f"raise it with: {INOTIFY_FIX}"
                    )
                else:
                    message = f"Stopped watching {folder}: the folder is not available (drive away?)"
                self._report(message)

    def _report(self, message: str) -> None:
        try:
            self._on_error(message)
        except Exception:
            print(message, file=sys.stderr)
