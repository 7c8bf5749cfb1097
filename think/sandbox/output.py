"""Reading the sandboxes' output as it comes: a byte cap over everything read (past it the run
is killed), only each stream's tail kept, and the token on the result pipe."""

from __future__ import annotations

import os
import selectors
import time
from dataclasses import dataclass, field

TAIL = 4096  # bytes kept of each stream


@dataclass
class Stream:
    """One pipe being read: the last TAIL bytes of it."""

    fd: int
    essential: bool  # the run is over when every essential stream has ended
    enough: int = 0  # it has ended, too, once this many bytes came (0: only at its end)
    tail: bytearray = field(default_factory=bytearray)

    def add(self, data: bytes) -> None:
        self.tail += data
        del self.tail[:-TAIL]


@dataclass
class Reading:
    """How reading ended: `over` is "done", "timeout" or "output" (the cap was passed)."""

    over: str
    streams: list[Stream]


def read_all(streams: list[Stream], deadline: float, cap: int) -> Reading:
    """Read the streams until every essential one ends, the deadline or the byte cap."""
    total = 0
    with selectors.DefaultSelector() as selector:
        for stream in streams:
            os.set_blocking(stream.fd, False)
            selector.register(stream.fd, selectors.EVENT_READ, stream)
        while any(s.essential for s in (key.data for key in selector.get_map().values())):
            left = deadline - time.monotonic()
            if left <= 0:
                return Reading("timeout", streams)
            for key, _ in selector.select(left):
                stream = key.data
                try:
                    data = os.read(stream.fd, 65536)
                except BlockingIOError:
                    continue
                if not data:
                    selector.unregister(stream.fd)
                    continue
                total += len(data)
                stream.add(data)
                if total > cap:
                    return Reading("output", streams)
                if stream.enough and len(stream.tail) >= stream.enough:
                    selector.unregister(stream.fd)  # no need to wait for its writer to exit
    return Reading("done", streams)


def drain(stream: Stream) -> None:
    """What is left in a stream's pipe now, without waiting (its writers are dead)."""
    for _ in range(16):
        try:
            data = os.read(stream.fd, 65536)
        except (BlockingIOError, OSError):
            return
        if not data:
            return
        stream.add(data)
