"""Progress of a batch on stderr: a Rich bar on a terminal, plain lines elsewhere, nothing
when asked to be quiet. Each shows questions a second and the time left, as someone who left
a big file running overnight wants to see at a glance."""

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


def rate(done: int, elapsed: float) -> str:
    """Questions a second (`1.4 q/s`), or a minute below 0.1 a second (`5.2 q/min`), where a
    second's figure would read as 0.0."""
    per_second = done / max(1e-9, elapsed)
    return f"{per_second:.1f} q/s" if per_second >= 0.1 else f"{per_second * 60:.1f} q/min"


def duration(seconds: float) -> str:
    """Seconds as a person reads them: `37 s`, `12 min`, `3 h 05 min`."""
    whole = round(seconds)
    if whole < 100:
        return f"{whole} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 100 else f"{minutes // 60} h {minutes % 60:02d} min"


def plain_line(data: dict[str, Any], tally: BatchCounts, elapsed: float) -> str:
    """One finished question on a non-terminal stderr (a log file, a pipe)."""
    left = elapsed / tally.done * (tally.total - tally.done)
    return (f"batch: {tally.done}/{tally.total} id {data['id']}: {_outcome(data)} "
            f"({rate(tally.done, elapsed)}, {duration(elapsed)}, ~{duration(left)} left"
            f"{_accuracy(tally)})")


def _outcome(record: dict[str, Any]) -> str:
    """How one question ended, in words: its error, its answer, or that it had none."""
    if "error" in record:
        return f"error: {record['error']}"
    answer = record.get("answer")
    return "no answer" if answer is None else f"answer {shown_answer(answer)}"


def _failures_only(data: dict[str, Any], tally: BatchCounts) -> None:
    # Quiet drops the progress, not the news that a question has no answer.
    if "error" in data:
        print(printable(f"batch: id {data['id']}: {_outcome(data)}"), file=sys.stderr,
              flush=True)


@contextmanager
def batch_progress(total: int, quiet: bool = False) -> Iterator[Show]:
    """A callback that shows each finished item: done/total, q/s, ETA, running accuracy;
    with `quiet`, one that shows only the questions that failed, one line each."""
    if quiet:
        yield _failures_only
        return
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
                bar.update(task, completed=tally.done,
                           rate=rate(tally.done, time.monotonic() - started),
                           accuracy=_accuracy(tally).lstrip(", "))

            yield update
        return

    def line(data: dict[str, Any], tally: BatchCounts) -> None:
        print(printable(plain_line(data, tally, time.monotonic() - started)),
              file=sys.stderr, flush=True)

    yield line
