"""One process at a time on a shared file: concurrent `think` runs (`xargs -P 4 think solve`)
must not assemble or download the same model file at once, each one's rename pulling the
half-written file out from under the others."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here; runs there take their chances
    fcntl = None  # type: ignore[assignment]


@contextmanager
def exclusive(target: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold TARGET.lock while the block runs; on_wait is called once if another process has it.

    The lock file stays behind on purpose: removing it would let a third process lock a new
    file while a second still waits on the old one.
    """
    if fcntl is None:
        yield
        return
    lock_path = target.with_name(target.name + ".lock")
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
