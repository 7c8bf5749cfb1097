"""Code as its own verifier: candidate programs run against tests in the sandbox, and the
results decide the vote and the refinement critique. (A program stage's programs run in the
same pool: strategies/program.)

Test runs go to a small pool of threads, off the decode loop: a finished sample is handed
over and decoding goes on; the vote counts outcomes as they come back.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from functools import cache

from think import sandbox
from think.result import SampleRecord
from think.sandbox import Limits, RunResult
from think.strategies.workers import DaemonPool


@cache
def pool() -> DaemonPool:
    """One pool per process: its width is the sandboxes that may run at once (daemon
    threads: think's exit does not wait for a run, strategies/workers)."""
    from think.sandbox.run import MAX_RUNS

    return DaemonPool(MAX_RUNS, "think-tests")


@dataclass(frozen=True)
class CodeCheck:
    """Tests for a code question: given with it, or written by the model (marked so)."""

    tests: str
    source: str = "given"  # given | model-written
    prefix: str = ""  # code the candidate completes (a HumanEval prompt), if any
    limits: Limits = Limits()
    sandbox: str = "auto"  # the setting: auto | guard | none
    mode: str = field(init=False, default="none")  # what runs here: bwrap, guard, none...

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", sandbox.resolve(self.sandbox))
        sandbox.tell(self.mode, self.sandbox)

    def warm(self) -> None:
        """Start sandboxes now, so the first candidates do not wait for them."""
        if self.runs:
            sandbox.warm(self.mode, self.limits)

    @property
    def runs(self) -> bool:
        """Whether candidates are run at all (not in mode none)."""
        return self.mode != "none"

    def program(self, candidate: str) -> str:
        """The candidate after its prefix (a body completes it, a full def replaces it)."""
        return f"{self.prefix}\n{candidate}\n"

    def run(self, candidate: str | None) -> RunResult | None:
        """Run the tests against one candidate now; None when there is nothing to run."""
        if not candidate or not self.runs:
            return None
        return sandbox.run_tests(self.program(candidate), self.tests, self.limits, self.mode)

    def submit(self, candidate: str | None) -> Future[RunResult | None]:
        """Run the tests against one candidate in the pool."""
        return pool().submit(self.run, candidate)


def critique_from(result: RunResult) -> tuple[str, str]:
    """The critique and verdict that a test run gives."""
    if result.passed:
        return "All tests pass.", "correct"
    lines = result.output.strip().splitlines()[-12:]
    return f"The tests {result.status}:\n" + "\n".join(lines), "wrong"


@dataclass(frozen=True)
class Evaluated:
    """What one program of a program stage computed: the task's answer from its value, and
    how its run ended (passed: it ran to its end; failed, timeout, memory, output or
    blocked), None when there was no program to run."""

    answer: str | None
    status: str | None


def outcome_of(sample: SampleRecord, outcome: RunResult | Evaluated | None) -> SampleRecord:
    """The sample with its run's outcome: its tests' status, or its program's value."""
    if isinstance(outcome, Evaluated):
        return replace(sample, answer=outcome.answer, ran=outcome.status)
    return sample if outcome is None else replace(sample, tests=outcome.status)
