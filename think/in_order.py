"""Work on a list `parallel` items at a time, handing the outcomes back in input order.

`think batch --parallel` and `think bench accuracy --parallel` both answer questions on
worker threads (the local engine batches concurrent calls in one decode loop, a server takes
concurrent requests) while one thread writes or tallies the answers in input order.

The workers are daemon threads, not a ThreadPoolExecutor's: the interpreter joins an
executor's threads at exit, so Ctrl-C would wait until every question in flight had finished
decoding. When the consumer stops (Ctrl-C, SIGTERM, a failure), `stop` lets no worker take a
new item and `finished` hands over every outcome already known in order; the items in flight
are left to die with the process (the local engine's loop cancels a lane whose caller has
left, a server request is shut by the watchdogs at exit).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class InOrder(Generic[Item, Outcome]):
    """`work` over `items` on `parallel` daemon threads; iterate for the outcomes in order.

    An exception from `work` is raised by the iteration at its item's place, after the
    outcomes before it, as a loop over the items would raise it. With `parallel` 1 there are
    no threads: each item is worked on as the iteration reaches it, in the calling thread, so
    Ctrl-C stops the item in flight there.
    """

    def __init__(self, items: list[Item], work: Callable[[Item], Outcome], parallel: int) -> None:
        self.items, self.work, self.parallel = items, work, parallel
        self.next = 0  # the first item whose outcome the consumer has not had
        self._done: dict[int, tuple[bool, Outcome | BaseException]] = {}
        self._changed = threading.Condition()
        self._queue = iter(enumerate(items))
        self._stopping = threading.Event()
        if parallel > 1:
            for number in range(min(parallel, len(items))):
                threading.Thread(target=self._worker, name=f"think-worker-{number}",
                                 daemon=True).start()

    def _worker(self) -> None:
        while not self._stopping.is_set():
            with self._changed:  # one iterator shared by every worker
                index, item = next(self._queue, (-1, None))
            if index < 0:
                return
            try:
                outcome: tuple[bool, Outcome | BaseException] = (True, self.work(item))
            except BaseException as exc:  # noqa: BLE001 - the consumer raises it, in order
                outcome = (False, exc)
            with self._changed:
                self._done[index] = outcome
                self._changed.notify_all()
            if not outcome[0]:
                return  # the consumer stops at this item: take no more

    def __iter__(self) -> Iterator[Outcome]:
        while self.next < len(self.items):
            if self.parallel <= 1:
                outcome = self.work(self.items[self.next])
                self.next += 1
                yield outcome
                continue
            with self._changed:
                while self.next not in self._done:
                    self._changed.wait()
                ok, value = self._done[self.next]
                if ok:  # a failure stays: `finished` stops at it, as the loop does
                    del self._done[self.next]
                    self.next += 1
            if not ok:
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]

    def stop(self) -> None:
        """Let no worker start another item (the ones in flight finish or are abandoned)."""
        self._stopping.set()

    def finished(self) -> list[Outcome]:
        """The outcomes already known from `next` on without a gap, taken now, without
        waiting: what a stopped consumer can still keep in order. A failure ends them."""
        taken: list[Outcome] = []
        with self._changed:
            while self._done.get(self.next, (False,))[0]:
                taken.append(self._done.pop(self.next)[1])  # type: ignore[arg-type]
                self.next += 1
        return taken
