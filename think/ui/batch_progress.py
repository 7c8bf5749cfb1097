"""Progress of a batch on stderr: a Rich bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from think.batch import BatchCounts
from think.ui.terminal_text import printable, shown_answer

Show = Callable[[dict[str, Any], BatchCounts], None]


def _accuracy(tally: BatchCounts) -> str:
    return f", accuracy {tally.accuracy:.0%} of {tally.graded}" if tally.accuracy is not None \
        else ""


def _outcome(record: dict[str, Any]) -> str:
    """How one question ended, in words: its error, its answer, or that it had none."""
    if "error" in record:
        return f"error: {record['error']}"
    answer = record.get("answer")
    return "no answer" if answer is None else f"answer {shown_answer(answer)}"


@contextmanager
def batch_progress(total: int) -> Iterator[Show]:
    """A callback that shows each finished item: done/total, rate, ETA, running accuracy."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    started = time.monotonic()
    if console.is_terminal and not console.is_dumb_terminal:
        with Progress(TextColumn("batch"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                      TimeRemainingColumn(), TextColumn("{task.fields[accuracy]}"),
                      console=console) as bar:
            task = bar.add_task("batch", total=total, rate="", accuracy="")

            def update(data: dict[str, Any], tally: BatchCounts) -> None:
                rate = tally.done / max(1e-9, time.monotonic() - started) * 60
                bar.update(task, completed=tally.done, rate=f"{rate:.1f}/min",
                           accuracy=_accuracy(tally).lstrip(", "))

            yield update
        return

    def line(data: dict[str, Any], tally: BatchCounts) -> None:
        elapsed = time.monotonic() - started
        left = elapsed / tally.done * (tally.total - tally.done)
        print(printable(f"batch: {tally.done}/{tally.total} id {data['id']}: {_outcome(data)} "
                        f"({elapsed:.0f} s, ~{left:.0f} s left{_accuracy(tally)})"),
              file=sys.stderr, flush=True)

    yield line
