"""Test runs, a bounded number at a time, each on a pair of sandboxes started ahead (spares)
so that a run costs little more than the tests themselves."""

from __future__ import annotations

import atexit
import os
import threading

from think.sandbox.limits import Limits, RunResult
from think.sandbox.pair import Pair

# Sandboxes running at once in this process, whatever the number of solving threads: each
# holds its output tails and two interpreters, so think's memory stays bounded.
MAX_RUNS = max(2, min(4, (os.cpu_count() or 2) // 2))
_slots = threading.BoundedSemaphore(MAX_RUNS)
_spares: dict[tuple[str, Limits], list[Pair]] = {}
_lock = threading.Lock()
_warming: set[threading.Thread] = set()  # threads starting a spare for the next run


def run_tests(program: str, tests: str, limits: Limits, mode: str) -> RunResult:
    """Run `tests` as the main program against `program` (the module `candidate`)."""
    with _slots:
        pair = _take(mode, limits) or Pair(mode, limits)
        # The next run's pair starts while this one runs, in a thread of its own: starting
        # it costs milliseconds that this run should not wait for.
        starting = threading.Thread(target=_warm_one, args=(mode, limits), daemon=True)
        with _lock:
            _warming.add(starting)
        starting.start()
        return pair.run(program, tests)


def _warm_one(mode: str, limits: Limits) -> None:
    try:
        warm(mode, limits, 1)
    except OSError:
        pass  # no spare this time; the next run starts its own
    finally:
        with _lock:
            _warming.discard(threading.current_thread())


def warm(mode: str, limits: Limits, count: int = MAX_RUNS) -> None:
    """Start spare pairs for runs to come, up to MAX_RUNS waiting in all."""
    with _lock:
        spares = _spares.setdefault((mode, limits), [])
        wanted = min(count, MAX_RUNS - len(spares))
    started = [Pair(mode, limits) for _ in range(max(0, wanted))]  # outside the lock
    with _lock:
        spares.extend(started)
        while len(spares) > MAX_RUNS:  # two threads warmed at once
            spares.pop().discard()
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
    with _lock:
        starting = list(_warming)
    for thread in starting:
        thread.join(timeout=5)
    with _lock:
        for spares in _spares.values():
            for pair in spares:
                pair.discard()
        _spares.clear()
