"""A pull's progress on stderr: a bar on a terminal, plain lines on a pipe or a log file
(a line each ten percent, or each 30 s when the size is unknown), never on stdout, which
carries the model's path alone (`p=$(think models pull NAME)`)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

MB = 1_000_000
EVERY_S = 30.0  # a line this often when the size is unknown


@dataclass
class PlainProgress:
    """Progress as lines a pipe keeps: `pull NAME: 12.5 of 253.1 MB (5%)`."""

    name: str
    shown_tenth: int = -1
    shown_at: float = field(default_factory=time.monotonic)

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if total:
            tenth = min(10, done * 10 // total)
            if tenth == self.shown_tenth:
                return
            self.shown_tenth = tenth
            line = f"{done / MB:,.1f} of {total / MB:,.1f} MB ({done * 100 // total}%)"
        else:
            if now - self.shown_at < EVERY_S and done:
                return
            line = f"{done / MB:,.1f} MB"
        self.shown_at = now
        print(f"pull {self.name}: {line}", file=sys.stderr, flush=True)

    def waiting(self) -> None:
        print(f"pull {self.name}: waiting for another download of it to finish",
              file=sys.stderr, flush=True)


@contextmanager
def pull_progress(name: str) -> Iterator[Any]:
    """An object to call with (done, total) as bytes arrive, with a `waiting()` method."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield PlainProgress(name)
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), transient=True,
                  console=console) as bar:
        task = bar.add_task(name, total=None)
        yield _BarProgress(bar, task, name)


@dataclass
class _BarProgress:
    bar: Any
    task: Any
    name: str

    def __call__(self, done: int, total: int | None) -> None:
        self.bar.update(self.task, completed=done, total=total)

    def waiting(self) -> None:
        self.bar.update(self.task, description=f"{self.name}: waiting for another download "
                                               "of it to finish")
