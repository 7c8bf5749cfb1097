"""Code as its own verifier: candidate programs run against tests in the sandbox, and the
results decide the vote and the refinement critique."""

from __future__ import annotations

from dataclasses import dataclass

from think.sandbox import Limits, RunResult, run_untrusted


@dataclass(frozen=True)
class CodeCheck:
    """Tests for a code question: given with it, or written by the model (marked so)."""

    tests: str
    source: str = "given"  # given | model-written
    prefix: str = ""  # code the candidate completes (a HumanEval prompt), if any
    limits: Limits = Limits()

    def program(self, candidate: str) -> str:
        """The candidate after its prefix (a body completes it, a full def replaces it)."""
        return f"{self.prefix}\n{candidate}\n\n{self.tests}\n"

    def run(self, candidate: str | None) -> RunResult | None:
        if not candidate:
            return None
        return run_untrusted(self.program(candidate), self.limits)


def critique_from(result: RunResult) -> tuple[str, str]:
    """The critique and verdict that a test run gives."""
    if result.passed:
        return "All tests pass.", "correct"
    lines = result.output.strip().splitlines()[-12:]
    return f"The tests {result.status}:\n" + "\n".join(lines), "wrong"
