"""What the OS sandbox costs: start-up per test run, and a budget-20 code solve with tests.

Start-up: one passing program per run, alternated between the bwrap sandbox started for
the run ("cold"), bwrap on a spare pair (as solves run: started ahead), the opt-in guard
mode started for the run (same two-process judge, no OS isolation) and the old
single-process audit-hook runner, loaded from git history (the commit before it was
removed), all in one process.

Solve: the same seeded `think.solve(..., budget=20, task="code", tests=...)` on the
embedded model, --no-early-stop (10 samples), alternated between "before" (the old runner,
called inline in the engine's on_done, as think did) and "after" (bwrap and the test pool).

    python -m scripts.sandbox_overhead [--runs 20] [--rounds 3] [--repo DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from types import ModuleType
from typing import Any

import think
from think.sandbox import Limits, run_tests
from think.sandbox.run import discard_spares
from think.strategies.verify import CodeCheck

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = "def add(a, b):\n    return a + b\n"
TESTS = "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n"
QUESTION = "Write a Python function add(a, b) that returns the sum of a and b."


def legacy_runner(repo: Path) -> ModuleType:
    """think/sandbox.py and sandbox_guard.py as they were before the OS sandbox."""
    removed = subprocess.run(
        ["git", "log", "--diff-filter=D", "--format=%H", "-1", "--", "think/sandbox_guard.py"],
        cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
    folder = Path(tempfile.mkdtemp(prefix="think-legacy-"))
    for name in ("sandbox.py", "sandbox_guard.py"):
        source = subprocess.run(["git", "show", f"{removed}^:think/{name}"], cwd=repo,
                                capture_output=True, text=True, check=True).stdout
        (folder / name).write_text(source)
    spec = importlib.util.spec_from_file_location("legacy_sandbox", folder / "sandbox.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["legacy_sandbox"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def startup(runs: int, legacy: ModuleType) -> None:
    kinds: dict[str, Callable[[], Any]] = {
        "bwrap cold": lambda: run_tests(PROGRAM, TESTS, Limits(), "bwrap"),
        "bwrap": lambda: run_tests(PROGRAM, TESTS, Limits(), "bwrap"),
        "guard cold": lambda: run_tests(PROGRAM, TESTS, Limits(), "guard"),
        "old guard": lambda: legacy.run_untrusted(f"{PROGRAM}\n{TESTS}"),
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(runs):
        for kind, run in kinds.items():
            if kind.endswith("cold"):
                discard_spares()
                time.sleep(0.05)  # the discarded namespaces are torn down
            start = time.perf_counter()
            assert run().status == "passed", kind
            times[kind].append(time.perf_counter() - start)
    print(f"start-up of one passing test run, {runs} runs each, alternated:")
    for kind, seconds in times.items():
        print(f"  {kind:>10}: median {statistics.median(seconds) * 1000:6.1f} ms, "
              f"mean {statistics.mean(seconds) * 1000:6.1f} ms, "
              f"max {max(seconds) * 1000:6.1f} ms")


def inline_legacy(legacy: ModuleType) -> Callable[[CodeCheck, str | None], Future[Any]]:
    """CodeCheck.submit as think ran tests before: at once, in the decode loop."""
    def submit(check: CodeCheck, candidate: str | None) -> Future[Any]:
        done: Future[Any] = Future()
        done.set_result(legacy.run_untrusted(f"{check.prefix}\n{candidate}\n\n{check.tests}\n")
                        if candidate else None)
        return done
    return submit


def solves(rounds: int, legacy: ModuleType) -> None:
    pooled = CodeCheck.submit
    times: dict[str, list[float]] = {"before": [], "after": []}
    statuses: dict[str, list[str | None]] = {"before": [], "after": []}
    think.solve(QUESTION, budget=1, task="code", seed=0)  # loads the model outside the clock
    for round_no in range(rounds):
        for kind in ("before", "after"):
            runner = inline_legacy(legacy) if kind == "before" else pooled
            CodeCheck.submit = runner  # type: ignore[method-assign]
            start = time.perf_counter()
            result = think.solve(QUESTION, budget=20, task="code", tests=TESTS, seed=round_no,
                                 early_stop=False)
            times[kind].append(time.perf_counter() - start)
            statuses[kind] += [s.tests for s in result.samples]
    CodeCheck.submit = pooled  # type: ignore[method-assign]
    print(f"budget-20 code solve with tests, {len(result.samples)} samples, {rounds} rounds:")
    for kind, seconds in times.items():
        tested = sum(status is not None for status in statuses[kind])
        print(f"  {kind:>6}: " + ", ".join(f"{t:.2f}" for t in seconds)
              + f" s (median {statistics.median(seconds):.2f} s; {tested} programs run)")
    ratio = statistics.median(times["after"]) / statistics.median(times["before"])
    print(f"  after/before: {ratio:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="start-up runs per kind")
    parser.add_argument("--rounds", type=int, default=3, help="solves per kind")
    parser.add_argument("--repo", type=Path, default=ROOT,
                        help="the git checkout to take the old runner from")
    args = parser.parse_args()
    legacy = legacy_runner(args.repo)
    startup(args.runs, legacy)
    solves(args.rounds, legacy)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
