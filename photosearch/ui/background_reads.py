"""Library reads off the GUI thread: timeline pages and month lists run on one pool thread, and their
answers come back to the GUI thread through a queued signal, in the order they were asked for.

Only reads go here (the index worker stays the one writer). The core's Store gives each thread its
own SQLite connection, so the pool thread never shares the GUI thread's connection.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class _Job(QRunnable):
    def __init__(self, reads: BackgroundReads, ticket: int, call: Callable[[], object], gone: threading.Event) -> None:
        super().__init__()
        self._reads, self._ticket, self._call, self._gone = reads, ticket, call, gone

    def run(self) -> None:
        if self._gone.is_set():  # queued behind a read that was running when the owner went away
            return
        try:
            result, error = self._call(), ""
        except Exception as exc:  # a library closed mid-switch, a locked file: said in the window
            result, error = None, f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)
        # The owner may be destroyed while this ran (its pool waits for us on the way out); then nobody
        # waits for the answer, and PySide raises "Signal source has been deleted" on this thread.
        with contextlib.suppress(RuntimeError):
            if not self._gone.is_set():
                self._reads.answered.emit(self._ticket, result, error)


class BackgroundReads(QObject):
    """submit(call, on_done, on_error): call runs on the pool thread, the callbacks on this object's thread."""

    answered = Signal(int, object, str)  # ticket, result, error ("" when it worked)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # pages arrive in order; one SQLite reader is plenty
        self._pool.setExpiryTimeout(-1)  # keep the thread (and its connection) between pages
        self._waiting: dict[int, tuple[Callable[[object], None], Callable[[str], None] | None]] = {}
        self._next = 0
        self.delivered = 0  # answers handed to callbacks (tests wait on it)
        self.answered.connect(self._deliver)
        # Set as destruction starts, before the pool (a child) is deleted and waits for its running job.
        self._gone = threading.Event()
        self.destroyed.connect(self._gone.set)

    def submit(
        self,
        call: Callable[[], object],
        on_done: Callable[[object], None],
        on_error: Callable[[str], None] | None = None,
    ) -> int:
        self._next += 1
        self._waiting[self._next] = (on_done, on_error)
        self._pool.start(_Job(self, self._next, call, self._gone))
        return self._next

    @property
    def busy(self) -> bool:
        return bool(self._waiting)

    @Slot(int, object, str)
    def _deliver(self, ticket: int, result: object, error: str) -> None:
        on_done, on_error = self._waiting.pop(ticket, (None, None))
        self.delivered += 1
        if error:
            if on_error is not None:
                on_error(error)
        elif on_done is not None:
            on_done(result)

    def wait(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)
