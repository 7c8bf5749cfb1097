"""Test runs, a bounded number at a time, each on a pair of sandboxes started ahead (spares)
so that a run costs little more than the tests themselves.

Spares are started on one thread that lives as long as think: bwrap's --die-with-parent
follows the *thread* that started a sandbox, so a spare started on a thread that then ends
is killed before its run (and a run then pays a cold start).
"""

from __future__ import annotations

import atexit
import os
import queue
import threading

from think.sandbox.limits import Limits, RunResult
from think.sandbox.pair import Pair

# Sandboxes running at once in this process, whatever the number of solving threads: each
# holds its output tails and two interpreters, so think's memory stays bounded.
MAX_RUNS = max(2, min(4, (os.cpu_count() or 2) // 2))
_slots = threading.BoundedSemaphore(MAX_RUNS)
_spares: dict[tuple[str, Limits], list[Pair]] = {}
_lock = threading.Lock()
_settled = threading.Condition(_lock)
_asked: queue.SimpleQueue[tuple[str, Limits, int]] = queue.SimpleQueue()
_pending = [0]  # spare requests asked for and not yet done
_starter: list[threading.Thread] = []


def run_tests(program: str, tests: str, limits: Limits, mode: str) -> RunResult:
    """Run `tests` as the main program against `program` (the module `candidate`)."""
    with _slots:
        pair = _take(mode, limits) or Pair(mode, limits)
        warm(mode, limits, 1)  # the next run's pair starts while this one runs
        return pair.run(program, tests)


def warm(mode: str, limits: Limits, count: int = MAX_RUNS) -> None:
    """Ask for spare pairs for runs to come, up to MAX_RUNS waiting in all; the starter
    thread starts them (this returns at once: `settle` waits for them)."""
    with _lock:
        _pending[0] += 1
        if not _starter:
            _starter.append(threading.Thread(target=_start_spares, daemon=True,
                                             name="think-sandbox-spares"))
            _starter[0].start()
    _asked.put((mode, limits, count))


def settle(timeout: float = 5.0) -> None:
    """Wait until the spares asked for so far have started (or failed to)."""
    with _settled:
        _settled.wait_for(lambda: _pending[0] == 0, timeout)


def _start_spares() -> None:
    while True:
        mode, limits, count = _asked.get()
        try:
            _start(mode, limits, count)
        except OSError:
            pass  # no spare this time; the next run starts its own
        finally:
            with _settled:
                _pending[0] -= 1
                _settled.notify_all()


def _start(mode: str, limits: Limits, count: int) -> None:
    with _lock:
        spares = _spares.setdefault((mode, limits), [])
        wanted = min(count, MAX_RUNS - len(spares))
    started = [Pair(mode, limits) for _ in range(max(0, wanted))]  # outside the lock
    with _lock:
        spares.extend(started)
        # At most MAX_RUNS spares in all: other limits' spares make way, oldest first.
        for other in [key for key in _spares if key != (mode, limits)]:
            while _spares[other] and sum(map(len, _spares.values())) > MAX_RUNS:
                _spares[other].pop(0).discard()


def _take(mode: str, limits: Limits) -> Pair | None:
    with _lock:
        spares = _spares.get((mode, limits), [])
        while spares:
            pair = spares.pop(0)
            if pair.alive():
                return pair
            pair.discard()
    return None


@atexit.register
def discard_spares() -> None:
    """Spares die with think anyway (--die-with-parent); this also ends guard-mode ones,
    and those still starting."""
    settle()
    with _lock:
        for spares in _spares.values():
            for pair in spares:
                pair.discard()
        _spares.clear()
