"""The test suite's own waiting: a signal a worker emits on its thread is taken in on the GUI thread.

pytest-qt's waitSignal connects a plain method; PySide runs such a slot in the sender's thread when the
sender lives there, as the app's index worker does. It then stopped the wait's QTimer from the wrong thread
(Qt forgets the timer's id but never kills the timer) and quit the event loop, which is lost when it comes
just before the loop starts: the wait never ended, not even at its timeout, and the suite hung now and
then. tests/ui/conftest.py relays such signals to the GUI thread.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot


class _Worker(QObject):
    fired = Signal(str)
    go = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.go.connect(self._run)

    @Slot()
    def _run(self) -> None:  # on the worker's thread, as the app's index worker emits `finished`
        for value in ("not yet", "done"):
            self.fired.emit(value)


def test_a_worker_s_signal_is_checked_and_ends_the_wait_on_the_gui_thread(qtbot):
    thread = QThread()
    worker = _Worker()
    worker.moveToThread(thread)
    thread.start()
    seen: list[int] = []

    def check(value: str) -> bool:
        seen.append(threading.get_ident())
        return value == "done"

    try:
        with qtbot.waitSignal(worker.fired, check_params_cb=check) as blocker:
            worker.go.emit()
    finally:
        thread.quit()
        thread.wait()
    assert blocker.signal_triggered and blocker.args == ["done"]
    assert seen == [threading.get_ident()] * 2  # both checks ran here, on the GUI thread


def test_a_signal_from_this_thread_still_ends_the_wait_at_once(qtbot):
    worker = _Worker()  # stays on this thread
    with qtbot.waitSignal(worker.fired) as blocker:
        worker.fired.emit("done")
    assert blocker.signal_triggered and blocker.args == ["done"]
