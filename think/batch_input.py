"""The lines of a questions file, read a line at a time with a cap on each line.

A batch input may be far larger than memory, or one line of it may be (a binary file given
by mistake, a log without line breaks): read whole, either ends in MemoryError. Read here,
only the questions are kept, a line over `LINE_LIMIT` bytes becomes one error record
without ever being held, and a line that is not UTF-8 costs that line alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

LINE_LIMIT = 1 << 20  # 1 MiB: far above any question, far below any machine's memory
_SKIP_CHUNK = 1 << 16


@dataclass(frozen=True)
class UnreadableLine:
    """A line that is not handed on as text, and why."""

    problem: str


def question_lines(stream: BinaryIO) -> Iterator[str | UnreadableLine]:
    """Each line of `stream` as text, or as the reason it cannot be a question."""
    while True:
        line = stream.readline(LINE_LIMIT + 1)
        if not line:
            return
        if len(line) > LINE_LIMIT and not line.endswith(b"\n"):
            size = len(line) + _skip_to_line_end(stream)
            yield UnreadableLine(f"is {size:,} bytes long, over the {LINE_LIMIT >> 20} MiB "
                                 "a question line may have; shorten it")
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield UnreadableLine("is not UTF-8 text; save the file as UTF-8")
            continue
        yield (UnreadableLine("holds binary data (a NUL byte); give a text question")
               if "\x00" in text else text)


def _skip_to_line_end(stream: BinaryIO) -> int:
    """Read past the rest of an over-long line a chunk at a time; the bytes skipped."""
    skipped = 0
    while True:
        chunk = stream.readline(_SKIP_CHUNK)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped
