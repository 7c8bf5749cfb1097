"""Files that several `think` runs share (`xargs -P 4 think solve`, two batches given one
--out): locks so only one run writes a file at a time, and writes that readers never see half
done.

Locks are advisory (flock): they bind think's own runs, which is all that shares these files.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # Windows: no flock there; runs take their chances as before
    fcntl = None  # type: ignore[assignment]


def try_lock(handle: IO[Any]) -> bool:
    """Lock an open file for this process until it is closed; False if another process has it."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return True  # a filesystem without locks (some network mounts): go on unlocked
    return True


@contextmanager
def exclusive(target: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold TARGET.lock while the block runs; on_wait is called once if another process has it.

    The lock file stays behind on purpose: removing it would let a third process lock a new
    file while a second still waits on the old one.
    """
    try:
        handle = target.with_name(target.name + ".lock").open("a")
    except OSError:
        # An unwritable folder: the write that follows fails and says so in its own words.
        yield
        return
    with handle:
        if not try_lock(handle):
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the handle releases the lock


def write_atomically(path: Path, text: str, durable: bool = False) -> None:
    """Replace a file's text in one step: a run reading it, or killed while writing it, sees the
    old text or the new, never a torn file. The temporary name is this thread's own: two
    threads of one process (two pulls through the Python API) must not share it. `durable`
    also flushes the text to disk before the rename, so a power cut cannot leave an empty
    file in its place (for what took long to make; caches need not wait for the disk)."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        with open(partial, "w", encoding="utf-8") as out:
            out.write(text)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
