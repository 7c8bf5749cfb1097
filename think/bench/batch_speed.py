"""The batch row of `think bench speed`: questions per second for a file of small-sum questions,
answered one at a time, batched on the local engine (`think batch --parallel N`), and, with
--llama-server, through that server's slots (`think batch --parallel N --engine URL`).

Each configuration answers the same questions with the same seed through think.batch's own
run_batch, in this process (one loaded model); the one-at-a-time run goes first in each round,
so the prompt cache is equally warm for all, and the rounds alternate the columns so a busy
moment of the machine lands on each of them.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from think.batch import BatchQuestion, run_batch
from think.config import Profile

StatusLine = Callable[[str], None]


def sum_questions(count: int) -> list[BatchQuestion]:
    """`count` questions like "What is 5 + 6?", each with its own id."""
    return [BatchQuestion(f"q{n}", f"What is {n % 9 + 2} + {n % 7 + 3}?", n + 1)
            for n in range(count)]


@dataclass
class BatchRow:
    """One budget: seconds for the whole file each way (server None when not measured)."""

    budget: int
    questions: int
    parallel: int
    alone_seconds: float
    batched_seconds: float
    server_seconds: float | None = None
    errors: int = 0  # records that were errors, in any column (a row with errors is no figure)

    def rate(self, seconds: float) -> float:
        return self.questions / seconds

    @property
    def speedup(self) -> float:
        return self.alone_seconds / self.batched_seconds

    @property
    def of_server(self) -> float | None:
        return None if self.server_seconds is None else self.server_seconds / self.batched_seconds

    def to_dict(self) -> dict[str, Any]:
        figures = {"alone_qps": round(self.rate(self.alone_seconds), 3),
                   "batched_qps": round(self.rate(self.batched_seconds), 3),
                   "speedup": round(self.speedup, 3)}
        if self.server_seconds is not None:
            figures["server_qps"] = round(self.rate(self.server_seconds), 3)
            figures["of_server"] = round(self.of_server or 0.0, 3)
        return {**asdict(self), **figures}


def time_file(items: list[BatchQuestion], budget: int, parallel: int, model: str,
              profile: Profile, server: str | None = None) -> tuple[float, int]:
    """Seconds to answer every item as `think batch` does, and how many were errors."""
    from think import api

    def solve(question: str) -> Any:
        return api.solve(question, budget=budget, profile=profile, model=model, seed=1,
                         server=server, log=False)

    started = time.perf_counter()
    tally = run_batch(items, io.StringIO(), solve, lambda record, counts: None, parallel)
    return time.perf_counter() - started, tally.errors


def time_batches(model: str, profile: Profile, budgets: list[int], count: int, parallel: int,
                 progress: StatusLine, server: str | None = None,
                 repeats: int = 1) -> list[BatchRow]:
    """A row per budget: the file one at a time, batched `parallel` wide, and via `server`."""
    items = sum_questions(count)
    time_file(items[:2], 1, 1, model, profile)  # load the model, fill the prompt cache
    if server is not None:
        time_file(items[:2], 1, 1, model, profile, server)
    # One at a time, batched, and through the server's slots when there is one.
    columns = [(1, None), (parallel, None)] + ([(parallel, server)] if server else [])
    rows = []
    for budget in budgets:
        progress(f"batch: {count} questions at budget {budget}: one at a time, --parallel "
                 f"{parallel}{', llama-server' if server else ''}, {repeats} rounds")
        runs: list[list[float]] = [[] for _ in columns]
        errors = 0
        for _ in range(repeats):
            for column, (width, url) in enumerate(columns):
                seconds, failed = time_file(items, budget, width, model, profile, url)
                runs[column].append(seconds)
                errors += failed
        best = [min(seconds) for seconds in runs]
        rows.append(BatchRow(budget, count, parallel, *best, errors=errors))
        progress(format_batch(rows[-1:])[-1])
    return rows


def format_batch(rows: list[BatchRow]) -> list[str]:
    """The batch table: questions per second each way and the ratios."""
    if not rows:
        return []
    first = rows[0]
    server = first.server_seconds is not None
    peer = f", llama-server -np {first.parallel}" if server else ""
    lines = [f"batch of {first.questions} small-sum questions, questions/second "
             f"(--parallel {first.parallel}{peer})",
             f"{'budget':>6}  {'one at a time':>13}  {'batched':>9}  {'batched/one':>11}"
             + (f"  {'llama-server':>12}  {'batched/server':>14}" if server else "")]
    for row in rows:
        line = (f"{row.budget:>6}  {row.rate(row.alone_seconds):>13.2f}  "
                f"{row.rate(row.batched_seconds):>9.2f}  {row.speedup:>10.2f}x")
        if row.server_seconds is not None:
            line += f"  {row.rate(row.server_seconds):>12.2f}  {row.of_server:>13.2f}x"
        if row.errors:
            line += f"  ({row.errors} error records: not a fair figure)"
        lines.append(line)
    return lines
