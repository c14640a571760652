"""The text-in-photos pass as the index worker runs it: background work at the lowest priority.

Reading text takes seconds a photo, hours for a library, so it must not hold up the jobs queued on the
worker's thread behind it (watched changes, adding or removing a folder, importing captions, a model
change). The pass runs in parts: when a job is queued the part finishes the photo in hand and returns,
and the next part is queued behind that job; it goes on with the photos still unread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import SignalInstance

from photosearch.core.errors import LibraryBusyError, PhotoSearchError
from photosearch.core.types import IndexSummary


class TextPass:
    """A mixin of IndexWorker (which has the events, the signals and `_textNext`, queued to itself)."""

    def init_text_pass(self) -> None:
        # Set from any thread (connect_job) when a job is queued: the pass steps aside for it.
        self.yield_event = threading.Event()
        self.job_queued = _JobNotice(self.yield_event)
        # Cancel for the pass (request_cancel): unlike cancel_event, which each job clears as it starts, it
        # outlasts the jobs the pass steps aside for, so a Cancel between two parts still ends the pass.
        self.text_cancel = threading.Event()
        self.text_pass_active = False  # read by the GUI thread: a finished job is not the end of the work
        self._text_read = 0  # photos read by the pass's earlier parts (its progress counts on)
        self._text_posted = False

    def _plan_text(self) -> None:
        """After indexing: read the text in photos not read yet (nothing starts when none is left)."""
        if self.text_pass_active or not self._reading():
            return
        try:
            left = self._ref.get().text_to_read()
        except Exception:  # a read-only library from an older version, a library going away
            return
        if left:
            self.text_cancel.clear()  # a Cancel from before this pass was for the work it cancelled
            self.text_pass_active = True
            self._post_text()

    def _post_text(self) -> None:
        if self._text_posted:
            return  # the part already queued sees the jobs that asked since
        self._text_posted = True
        # Cleared before the part is queued: a job that asked before this is already queued ahead of it
        # (connect_job queues the job first), one that asks later sets it again.
        self.yield_event.clear()
        self._textNext.emit()

    def request_cancel(self) -> None:
        """Cancel: called from the GUI thread (it only sets events). Stops the running job and the pass."""
        self.text_cancel.set()
        self.cancel_event.set()

    def _text_cancelled(self) -> bool:
        return self.cancel_event.is_set() or self.text_cancel.is_set()

    def read_text_part(self) -> None:
        """One part of the pass: it runs until the pass ends or a queued job asks it to step aside."""
        self._text_posted = False
        if not self.text_pass_active:
            return
        if self._text_cancelled():  # Cancel while the pass had stepped aside
            self._end_text(cancelled=True)
            return
        library = self._ref.get()
        try:
            self._text_read += library.read_text(
                self._report,
                self.cancel_event,
                self.pause_event,
                enabled=self._reading,
                should_yield=self.yield_event.is_set,
                done_before=self._text_read,
            )
        except LibraryBusyError as exc:
            self._end_text(cancelled=False)
            self.busy.emit(str(exc))
            self._schedule_retry()
            return
        except Exception as exc:  # OCR or the disk: say so in one line, the worker stays alive
            self._end_text(cancelled=False)
            self.failed.emit(str(exc) if isinstance(exc, PhotoSearchError) else f"reading text failed: {exc}")
            return
        if self._text_cancelled():
            self._end_text(cancelled=True)
        elif self.yield_event.is_set() and self._reading():
            self._post_text()  # after the job that asked: then on with the photos still unread
        else:
            self._end_text(cancelled=False)

    def _end_text(self, cancelled: bool) -> None:
        self.text_pass_active = False
        self._text_read = 0
        self.pause_event.clear()
        self.finished.emit("text", IndexSummary(cancelled=cancelled))
        self._emit_status()


class _JobNotice:
    """Sets the worker's yield event. A plain callable, not a method of the worker: Qt calls it at once in
    the sending thread, where a worker slot would wait behind the very text pass it must interrupt."""

    def __init__(self, event: threading.Event) -> None:
        self._event = event

    def __call__(self, *_args: object) -> None:
        self._event.set()


def connect_job(signal: SignalInstance, slot: Callable[..., object], worker: TextPass) -> None:
    """Queue `slot` on the worker thread at each emission and make a text pass step aside for it.

    In this order: the job is queued before the pass can see the request, so it runs before the pass's
    next part (see TextPass._post_text)."""
    signal.connect(slot)
    signal.connect(worker.job_queued)
