"""Files that several `think` runs share (`xargs -P 4 think solve`, two batches given one
--out): locks so only one run writes a file at a time, and writes that readers never see half
done.

Locks are advisory: they bind think's own runs, and huggingface_hub's, which is all that
shares these files. Two kinds, on Linux, macOS and Windows alike:

- `exclusive(target)` waits for TARGET.lock, held with the `filelock` package: the lock
  huggingface_hub takes on a blob it downloads (flock on POSIX, LockFileEx on Windows), so a
  pull by either waits for the other.
- `try_lock(handle)` locks a file a run writes in place (a batch's --out), without waiting:
  flock on POSIX; on Windows, whose byte locks are mandatory, one byte far past any data, so
  no reader and none of the holder's own appends is refused.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from filelock import FileLock

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
try:
    import msvcrt
except ImportError:  # POSIX
    msvcrt = None  # type: ignore[assignment]

# The byte a Windows try_lock locks: past any output file's end (locking there is allowed),
# so the mandatory lock covers no data, and within the offsets filesystems accept (2**62 is
# refused where the largest file is smaller).
FAR_BYTE = 2**40
# What msvcrt.locking raises when another handle holds the byte; anything else is a
# filesystem without byte locks.
WINDOWS_HELD = frozenset({errno.EACCES, getattr(errno, "EDEADLOCK", errno.EDEADLK)})


def try_lock(handle: IO[Any]) -> bool:
    """Lock an open file for this process until it is closed; False if another process has it."""
    if fcntl is not None:
        return _flock(handle)
    if msvcrt is not None:
        return _lock_far_byte(handle)
    return True  # a platform with neither: go on unlocked


def _flock(handle: IO[Any]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return True  # a filesystem without locks (some network mounts): go on unlocked
    return True


def _lock_far_byte(handle: IO[Any]) -> bool:
    """msvcrt.locking locks from the descriptor's position: move it there and back."""
    handle.flush()  # nothing buffered may land at the far position
    descriptor = handle.fileno()
    position = os.lseek(descriptor, 0, os.SEEK_CUR)
    try:
        os.lseek(descriptor, FAR_BYTE, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        return exc.errno not in WINDOWS_HELD  # no byte locks here: go on unlocked
    finally:
        os.lseek(descriptor, position, os.SEEK_SET)
    return True


@contextmanager
def exclusive(target: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold TARGET.lock while the block runs; on_wait is called once if another process has it.

    The lock file stays behind on POSIX on purpose: removing it would let a third process
    lock a new file while a second still waits on the old one.
    """
    from filelock import FileLock  # 30-45 ms to import: only where a lock is taken

    lock = FileLock(str(target.with_name(target.name + ".lock")))
    # filelock makes a missing folder: it is left to the write that follows, to fail (or
    # not) in its own words.
    if not target.parent.is_dir() or not _acquire(lock, on_wait):
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _acquire(lock: FileLock, on_wait: Callable[[], None] | None) -> bool:
    """Wait for the lock; False where none can be taken (an unwritable folder: the write
    that follows fails and says so in its own words)."""
    from filelock import Timeout

    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:  # an OSError too: caught first, as "someone else has it"
            if on_wait is not None:
                on_wait()
            lock.acquire()
    except OSError:
        return False
    return True


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
