"""The history's writes, off the answer's path: a run hands its row to one writer thread and
goes on, so the answer prints while the row is written (`think logs` rows stay in order).

A row that meets another process's lock waits for it a moment (history.WAIT_S) and is then
skipped with a note; `drain` is how the command line, and a read of the history in the same
process, wait for rows still being written.
"""

from __future__ import annotations

import atexit
import queue
import threading
from collections.abc import Callable

EXIT_WAIT_S = 5.0  # what the command line gives rows still pending once its output is out

_jobs: queue.Queue[Callable[[], None]] = queue.Queue()
_done = threading.Condition()
_pending = 0
_worker: threading.Thread | None = None


def submit(job: Callable[[], None]) -> None:
    """Run `job` (one row's write; it reports its own failures) on the writer thread."""
    global _pending, _worker
    with _done:
        _pending += 1
        if _worker is None:
            # A daemon: a process that must end now (a second Ctrl-C) is not held by it;
            # drain, at exit, gives the rows their moment.
            _worker = threading.Thread(target=_work, name="think-history", daemon=True)
            _worker.start()
    _jobs.put(job)


def _work() -> None:
    global _pending
    while True:
        job = _jobs.get()
        try:
            job()
        finally:
            with _done:
                _pending -= 1
                _done.notify_all()


def drain(timeout: float | None = None) -> int:
    """Wait until every row handed over is written or skipped, at most `timeout` seconds;
    returns how many are still pending."""
    with _done:
        _done.wait_for(lambda: _pending == 0, timeout)
        return _pending


atexit.register(drain, 30.0)  # think.solve() in a script: its last rows are not cut off
