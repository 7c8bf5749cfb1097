"""The threads sandbox runs go to: daemon threads, so that think's exit never waits for one.

concurrent.futures' ThreadPoolExecutor joins its threads when the interpreter exits, so a
candidate's tests still running (up to their time limit, seconds) held Ctrl-C, SIGTERM and
every other exit for that long. A run left behind here ends with think: bubblewrap's
sandbox dies with its parent, and a guard-mode worker stops at its CPU limit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class DaemonPool:
    """At most `size` daemon threads, started as work comes, running work in the order
    it was submitted; `submit` answers a Future as ThreadPoolExecutor's does."""

    def __init__(self, size: int, name: str) -> None:
        self.size, self.name = size, name
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()
        self.work: queue.SimpleQueue[Work] = queue.SimpleQueue()

    def submit(self, function: Callable[..., T], /, *args: Any) -> Future[T]:
        future: Future[T] = Future()
        self.work.put((future, function, args))
        with self.lock:
            if len(self.threads) < self.size:
                thread = threading.Thread(target=self._serve, daemon=True,
                                          name=f"{self.name}_{len(self.threads)}")
                self.threads.append(thread)
                thread.start()
        return future

    def _serve(self) -> None:
        while True:
            future, function, args = self.work.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = function(*args)
            except BaseException as exc:  # noqa: BLE001 - the Future carries it to its reader
                future.set_exception(exc)
            else:
                future.set_result(result)
            del future, function, args  # no finished work kept alive while the thread waits
